package jobs

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

func TestLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
		l := New(2, 3, 10*time.Second)
		ctx := context.Background()
		start := func(ip netip.Addr) func() {
			t.Helper()
			done, err := l.Start(ctx, ip)
			if err != nil {
				t.Fatalf("%s: %v", ip, err)
			}
			return done
		}
		a1, a2 := start(a), start(a)
		// A third job of a waits for one of its own to end, not for others.
		begun := time.Now()
		go func() { time.Sleep(3 * time.Second); a1() }()
		a3 := start(a)
		if waited := time.Since(begun); waited != 3*time.Second {
			t.Errorf("a's third job waited %s", waited)
		}
		// The overall limit: b gets one slot, c none until the wait ends.
		b1 := start(b)
		begun = time.Now()
		if _, err := l.Start(ctx, c); !errors.Is(err, ErrBusy) || time.Since(begun) != 10*time.Second {
			t.Errorf("c over the overall limit: %v after %s", err, time.Since(begun))
		}
		// A client that leaves stops waiting.
		cctx, cancel := context.WithCancel(ctx)
		go func() { time.Sleep(time.Second); cancel() }()
		if _, err := l.Start(cctx, c); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled wait: %v", err)
		}
		a2()
		a2() // done twice gives back one slot only
		c1 := start(c)
		for _, done := range []func(){a3, b1, c1} {
			done()
		}
		if l.running != 0 || len(l.byClient) != 0 {
			t.Errorf("after all jobs: %d running, %v", l.running, l.byClient)
		}
	})
}

func TestStartRequest(t *testing.T) {
	l := New(1, 1, time.Millisecond)
	r := httptest.NewRequest("GET", "/x?zip", nil)
	r.RemoteAddr = "[::ffff:192.0.2.1]:1234"
	done := l.StartRequest(httptest.NewRecorder(), r)
	if done == nil {
		t.Fatal("no slot")
	}
	w := httptest.NewRecorder()
	r.RemoteAddr = "192.0.2.1:999" // the same client over IPv4
	if l.StartRequest(w, r) != nil || w.Code != 503 || w.Header().Get("Retry-After") != "5" {
		t.Errorf("second job: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	done()
	var nilLimiter *Limiter
	if nilLimiter.StartRequest(w, r) == nil {
		t.Error("a nil limiter refused")
	}
}
