package listing

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// referenceRows is writeRows written plainly (times through AppendFormat,
// sizes through HumanSize, no reuse of the writer's buffer); the page must
// stay byte for byte the same.
func referenceRows(w *bufio.Writer, entries []Entry) error {
	letters := map[string]string{KindFolder: "d", KindImage: "i", KindVideo: "v", KindAudio: "m",
		KindArchive: "z", KindCode: "c", KindText: "x", KindPDF: "p"}
	var row []byte
	for i := range entries {
		e := &entries[i]
		row = row[:0]
		row = append(row, `<tr`...)
		if l := letters[KindOf(*e)]; l != "" {
			row = append(row, ` class=`+l...)
		}
		row = append(row, `><td><a href="`...)
		row = appendEntryHref(row, e.Name, e.IsDir)
		row = append(row, `">`...)
		row = appendHTML(row, e.Name)
		if e.IsDir {
			row = append(row, `/</a><td>—`...)
		} else {
			row = append(row, `</a><td data-b=`...)
			row = strconv.AppendInt(row, e.Size, 10)
			row = append(row, `>`+HumanSize(e.Size)...)
		}
		row = append(row, `<td>`...)
		if !e.ModTime.IsZero() {
			row = e.ModTime.UTC().AppendFormat(row, timeLayout) // UTC, as the header says (issue 11)
		}
		row = append(row, "\n"...)
		if _, err := w.Write(row); err != nil {
			return err
		}
	}
	return nil
}

func TestRowsMatchReference(t *testing.T) {
	pieces := []string{"a", "Z", "9", " ", "&", "<", ">", `"`, "'", ":", "%", "#", "?", "\x00", "\x01", "\xff", "é",
		"日本", "\u2028", ".", "-", "~", "+", "=", "@", "$", strings.Repeat("x", 200)}
	zones := []*time.Location{time.UTC, time.FixedZone("odd", -(3*3600 + 27*60 + 11)), time.Local}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		zones = append(zones, ny)
	}
	r := rand.New(rand.NewPCG(3, 5))
	var entries []Entry
	for i := range 5000 {
		var b strings.Builder
		for range 1 + r.IntN(6) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		e := Entry{Name: b.String(), IsDir: r.IntN(6) == 0, Size: r.Int64N(1 << uint(r.IntN(63)))}
		switch i % 7 {
		case 0: // zero time: no <time> element
		case 1:
			e.ModTime = time.Date(-1+r.IntN(3), 1, 1, 0, 0, 0, 0, zones[r.IntN(len(zones))])
		case 2:
			e.ModTime = time.Date(9998+r.IntN(4), 12, 31, 23, 59, 59, 0, zones[r.IntN(len(zones))])
		default:
			e.ModTime = time.Unix(r.Int64N(4e9)-1e9, r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
		}
		entries = append(entries, e)
	}
	entries = append(entries, Entry{Name: strings.Repeat("&", 255)}, Entry{Name: strings.Repeat("\xff", 255), IsDir: true})
	var got, want bytes.Buffer
	for _, c := range []struct {
		buf  *bytes.Buffer
		rows func(*bufio.Writer, []Entry) error
	}{{&got, writeRows}, {&want, referenceRows}} {
		// A small writer too, so rows straddle flushes.
		for _, size := range []int{64 << 10, 4096} {
			bw := bufio.NewWriterSize(c.buf, size)
			if err := c.rows(bw, entries); err != nil {
				t.Fatal(err)
			}
			bw.Flush()
		}
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		g, w := got.Bytes(), want.Bytes()
		i := 0
		for i < len(g) && i < len(w) && g[i] == w[i] {
			i++
		}
		t.Fatalf("rows differ at byte %d:\ngot  %q\nwant %q", i, g[max(i-80, 0):min(i+80, len(g))], w[max(i-80, 0):min(i+80, len(w))])
	}
}

func TestTimeFormats(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("odd", 5*3600+45*60+7), time.FixedZone("west", -12*3600)}
	for i := range 20000 {
		var tm time.Time
		switch i % 4 {
		case 0:
			tm = time.Unix(r.Int64N(1<<36)-1<<35, r.Int64N(1e9))
		case 1:
			tm = time.Date(r.IntN(10002)-1, time.Month(1+r.IntN(12)), 1+r.IntN(31), r.IntN(24), r.IntN(60), r.IntN(60), 0, time.UTC)
		default:
			tm = time.Unix(r.Int64N(5e9)-1e9, 0)
		}
		tm = tm.In(zones[r.IntN(len(zones))])
		if got, want := string(appendRFC3339UTC(nil, tm)), tm.UTC().Format(time.RFC3339); got != want {
			t.Fatalf("appendRFC3339UTC(%v) = %q, want %q", tm, got, want)
		}
		if got, want := string(appendUTCTime(nil, tm)), tm.UTC().Format(timeLayout); got != want {
			t.Fatalf("appendUTCTime(%v) = %q, want %q", tm, got, want)
		}
	}
}

// floatHumanSize is appendHumanSize as it was, in float64 throughout.
func floatHumanSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	const units = "KMGTPE"
	v := float64(n) / 1024
	u := 0
	for v >= 1023.5 && u < len(units)-1 {
		v /= 1024
		u++
	}
	prec := 0
	if v < 9.95 {
		prec = 1
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + " " + string(units[u]) + "iB"
}

func TestHumanSizeIntegers(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	check := func(n int64) {
		if got, want := HumanSize(n), floatHumanSize(n); got != want {
			t.Fatalf("HumanSize(%d) = %q, want %q", n, got, want)
		}
	}
	for u := int64(1); u <= 1<<50; u *= 1024 {
		// Around every boundary: 9.95, 10, 1023.5 of each unit, and the
		// exact halves of a tenth.
		for _, base := range []int64{u * 1024 * 995 / 100, u * 1024 * 10, u * 1024 * 20470 / 20, u * 1024, u * 1024 * 3 / 20, u * 1024 * 5 / 20} {
			for d := int64(-3); d <= 3; d++ {
				if base+d >= 0 {
					check(base + d)
				}
			}
		}
	}
	for q := int64(9); q < 1024; q++ {
		check((2*q + 1) * 512) // exactly q.5 KiB
		check((2*q + 1) * 512 << 10)
	}
	for range 200000 {
		check(r.Int64N(1 << uint(1+r.IntN(62))))
	}
	check(1<<63 - 1)
}
