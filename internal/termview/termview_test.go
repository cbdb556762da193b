package termview

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/transfer"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuf) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(s.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output never showed %q:\n%s", want, s.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// upload makes an upload transfer of size bytes with done received.
func upload(tk *transfer.Tracker, name string, size, done int64) *transfer.Transfer {
	r := httptest.NewRequest("PUT", "/"+name, nil)
	r.RemoteAddr = "192.0.2.7:5555"
	tr := tk.Begin(r, transfer.NewRecorder(httptest.NewRecorder(), nil))
	tr.Describe(transfer.KindUpload, size)
	tk.Received(tr, done)
	return tr
}

func TestViewBarsLinesAndOverflow(t *testing.T) {
	var out syncBuf
	v := New(&out, Options{MaxBars: 3, Refresh: 30 * time.Millisecond})
	log := v.Writer(&out)
	tk := transfer.NewTracker(0)

	var trs []*transfer.Transfer
	for i := range 5 {
		tr := upload(tk, fmt.Sprintf("file-%d.bin", i), 1000, int64(i)*250)
		trs = append(trs, tr)
		v.Started(tr)
	}
	out.waitFor(t, "file-2.bin")
	out.waitFor(t, "and 2 more transfers")
	out.waitFor(t, " 50%")
	out.waitFor(t, "192.0.2.7")
	if strings.Contains(out.String(), "file-4.bin") {
		t.Fatal("a transfer beyond MaxBars got a bar")
	}

	fmt.Fprintln(log, "GET /x 200 complete")
	out.waitFor(t, "GET /x 200 complete")

	// A finished transfer frees its slot for a waiting one.
	v.Ended(trs[0])
	out.waitFor(t, "file-3.bin")
	out.waitFor(t, "and 1 more transfer")
	v.Ended(trs[1])
	v.Ended(trs[4]) // ended while waiting
	out.waitFor(t, "file-4.bin")

	v.Close()
	before := out.String()
	fmt.Fprintln(log, "after close")
	if got := strings.TrimPrefix(out.String(), before); got != "after close\n" {
		t.Errorf("after Close the writer wrote %q", got)
	}
	v.Started(trs[2]) // ignored once closed
	v.Ended(trs[2])
}

func TestLabelAndFigures(t *testing.T) {
	tk := transfer.NewTracker(0)
	tr := upload(tk, "x", 4<<20, 1<<20)
	tr.Path = "/evil\x1b[2Jname\u202e.txt" // as decoded from %1B and %E2%80%AE
	l := label(tr, 120)
	if strings.ContainsAny(l, "\x1b\u202e") {
		t.Errorf("label lets control characters through: %q", l)
	}
	if !strings.HasPrefix(l, "192.0.2.7") || !strings.Contains(l, "↑") {
		t.Errorf("label %q", l)
	}
	e := &entry{tr: tr}
	e.update(tr.Start.Add(2 * time.Second))
	got := *e.stats.Load()
	for _, want := range []string{"25%", "1.0 MiB / 4.0 MiB", "512 KiB/s", "6s left"} {
		if !strings.Contains(got, want) {
			t.Errorf("figures %q lack %q", got, want)
		}
	}
	for d, want := range map[time.Duration]string{5 * time.Second: "5s", 125 * time.Second: "2m05s", 2*time.Hour + 7*time.Minute: "2h07m", 200 * time.Hour: "long"} {
		if got := eta(d); got != want {
			t.Errorf("eta(%s) = %q, want %q", d, got, want)
		}
	}
}
