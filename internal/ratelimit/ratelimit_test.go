package ratelimit

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestNilWhenUnlimited(t *testing.T) {
	if New(Limits{}) != nil {
		t.Fatal("no limits should give a nil Limiter")
	}
	h := http.NotFoundHandler()
	var l *Limiter
	if got := l.Middleware(h); got == nil {
		t.Fatal("nil Limiter must pass the handler through")
	}
}

func TestBurst(t *testing.T) {
	for bps, want := range map[int64][2]int{
		1: {1, 1}, 100: {100, 100}, 50 << 10: {5 << 10, 25 << 10},
		2 << 20: {64 << 10, 1 << 20}, 1 << 30: {64 << 10, 8 << 20},
	} {
		if c, b := chunkFor(bps), burstFor(bps); c != want[0] || b != want[1] {
			t.Errorf("%d B/s: chunk %d, burst %d; want %v", bps, c, b, want)
		}
	}
}

// TestPaces checks both directions against a 1 MiB/s bucket over ~0.6 s; the
// end-to-end tests measure the real binary more precisely.
func TestPaces(t *testing.T) {
	const rate = 1 << 20
	l := New(Limits{PerConn: rate})
	payload := bytes.Repeat([]byte("x"), rate*6/10)
	h := l.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			io.Copy(io.Discard, r.Body)
			return
		}
		io.Copy(w, bytes.NewReader(payload)) // uses ReadFrom
	}))
	for _, method := range []string{"GET", "PUT"} {
		var body io.Reader
		if method == "PUT" {
			body = bytes.NewReader(payload)
		}
		r := httptest.NewRequest(method, "/", body)
		w := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(w, r)
		el := time.Since(start)
		// Buckets start empty, so 0.6 MiB takes 0.6 s.
		if el < 550*time.Millisecond || el > 900*time.Millisecond {
			t.Errorf("%s of %d bytes at %d B/s took %s", method, len(payload), rate, el)
		}
		if method == "GET" && w.Body.Len() != len(payload) {
			t.Errorf("GET sent %d bytes", w.Body.Len())
		}
	}
	if n := len(l.conns); n != 0 {
		t.Errorf("%d connection buckets left after the requests", n)
	}
}
