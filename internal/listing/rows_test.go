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

// referenceRows is the row writer writeRows replaced (a row buffer copied
// into the bufio.Writer, times through AppendFormat); the page must stay
// byte for byte the same.
func referenceRows(w *bufio.Writer, entries []Entry) error {
	var row, name []byte
	for i := range entries {
		e := &entries[i]
		name = appendHTML(name[:0], e.Name)
		row = row[:0]
		row = append(row, `<tr data-name="`...)
		row = append(row, name...)
		row = append(row, `" data-kind="`...)
		row = append(row, KindOf(*e)...)
		if e.IsDir {
			row = append(row, `" data-dir="1`...)
		}
		row = append(row, `"><td class="n"><a href="`...)
		row = appendEntryHref(row, e.Name, e.IsDir)
		row = append(row, `">`...)
		row = append(row, name...)
		if e.IsDir {
			row = append(row, `/</a></td><td class="s">—</td>`...)
		} else {
			row = append(row, `</a></td><td class="s" data-bytes="`...)
			row = strconv.AppendInt(row, e.Size, 10)
			row = append(row, `" title="`...)
			row = strconv.AppendInt(row, e.Size, 10)
			row = append(row, ` bytes">`...)
			row = appendHumanSize(row, e.Size)
			row = append(row, `</td>`...)
		}
		row = append(row, `<td class="t">`...)
		if !e.ModTime.IsZero() {
			row = append(row, `<time datetime="`...)
			row = e.ModTime.UTC().AppendFormat(row, time.RFC3339)
			row = append(row, `">`...)
			row = e.ModTime.UTC().AppendFormat(row, timeLayout) // UTC, as the header says (issue 11)
			row = append(row, `</time>`...)
		}
		row = append(row, "</td></tr>\n"...)
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
