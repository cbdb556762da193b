package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// guardHarness accepts connections through a guard on loopback.
type guardHarness struct {
	t        *testing.T
	g        *guard
	addr     string
	accepted chan net.Conn
}

func newGuardHarness(t *testing.T, max, perIP int) *guardHarness {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &guardHarness{t: t, g: newGuard(max, perIP, nil), addr: raw.Addr().String(), accepted: make(chan net.Conn, 16)}
	ln := h.g.listener(raw)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.accepted <- c
		}
	}()
	return h
}

func (h *guardHarness) dial(src string) net.Conn {
	h.t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", h.addr)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}

// serverSide waits for the guard to accept the next connection.
func (h *guardHarness) serverSide() net.Conn {
	h.t.Helper()
	select {
	case c := <-h.accepted:
		h.t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(2 * time.Second):
		h.t.Fatal("no connection accepted")
		return nil
	}
}

// closed reports whether the server closed c without it sending anything.
func closed(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	return err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// The opt-in cap per address closes extra connections of that address only.
func TestGuardPerIP(t *testing.T) {
	h := newGuardHarness(t, 100, 2)
	a1, a2 := h.dial("127.0.0.1"), h.dial("127.0.0.1")
	s1, s2 := h.serverSide(), h.serverSide()
	if a3 := h.dial("127.0.0.1"); !closed(a3) {
		t.Fatal("third connection from one address was not closed")
	}
	b1 := h.dial("127.0.0.2")
	h.serverSide()
	if closed(b1) || closed(a1) || closed(a2) {
		t.Fatal("a connection within the limit was closed")
	}
	ip := netip.MustParseAddr("127.0.0.1")
	if n, all := h.g.Open(ip); n != 2 || all != 3 {
		t.Fatalf("open = %d of %d, want 2 of 3", n, all)
	}
	s1.Close()
	s1.Close() // a second Close must not free a second slot
	if n, _ := h.g.Open(ip); n != 1 {
		t.Fatalf("open after close = %d, want 1", n)
	}
	h.dial("127.0.0.1")
	h.serverSide()
	s2.Close()
}

// At capacity a newcomer makes room by closing the longest idle connection,
// then one that has sent nothing for a while; when every one is busy, the
// newcomer is turned away.
func TestGuardShedsIdleFirst(t *testing.T) {
	h := newGuardHarness(t, 3, 0)
	busy, idle1, idle2 := h.dial("127.0.0.1"), h.dial("127.0.0.1"), h.dial("127.0.0.1")
	sBusy, sIdle1, sIdle2 := h.serverSide(), h.serverSide(), h.serverSide()
	h.g.connState(sBusy, http.StateActive)
	h.g.connState(sIdle1, http.StateIdle)
	h.g.connState(sIdle2, http.StateIdle)

	n1 := h.dial("127.0.0.2")
	sN1 := h.serverSide()
	if !closed(idle1) || closed(idle2) || closed(busy) || closed(n1) {
		t.Fatal("the longest idle connection was not the one closed")
	}
	n2 := h.dial("127.0.0.2")
	h.serverSide()
	if !closed(idle2) || closed(busy) || closed(n2) {
		t.Fatal("the second idle connection was not closed")
	}
	// Now busy, n1 and n2 (fresh, not yet stale) fill the house.
	h.g.connState(sN1, http.StateActive)
	if n3 := h.dial("127.0.0.3"); !closed(n3) {
		t.Fatal("a newcomer was admitted while every connection was busy or new")
	}
	// n2 has sent nothing for longer than staleNew: it may go.
	time.Sleep(staleNew + 100*time.Millisecond)
	n4 := h.dial("127.0.0.3")
	h.serverSide()
	if !closed(n2) || closed(n4) || closed(busy) || closed(n1) {
		t.Fatal("the stale new connection was not the one closed")
	}
	if _, all := h.g.Open(netip.Addr{}); all != 3 {
		t.Fatalf("%d connections counted, want 3", all)
	}
}

func TestAdmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdmission(Capacity{Requests: 3, ClientRequests: 2, ClientQueue: 2, Queue: 10, ClientRefusals: 1, Refusals: 10, QueueWait: 10 * time.Second}, nil)
		ctx := context.Background()
		A, B, C := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
		enter := func(ip netip.Addr) func() {
			t.Helper()
			done, err := a.enter(ctx, ip)
			if err != nil {
				t.Fatalf("%s: %v", ip, err)
			}
			return done
		}
		a1, a2 := enter(A), enter(A)
		// A's third and fourth requests queue; a fifth finds the queue full.
		got := make(chan string, 10)
		stop := make(chan struct{})
		defer close(stop)
		queued := func(ip netip.Addr, name string) {
			go func() {
				done, err := a.enter(ctx, ip)
				if err != nil {
					got <- name + " " + err.Error()
					if done != nil {
						<-stop
						done()
					}
					return
				}
				got <- name
				<-stop
				done()
			}()
			synctest.Wait()
		}
		queued(A, "a3")
		queued(A, "a4")
		// A fifth finds the queue full: a refusal, in flight until done;
		// while it is, a sixth is dropped.
		a5, err := a.enter(ctx, A)
		if !errors.Is(err, errQueueFull) || a5 == nil {
			t.Fatalf("a5: %v", err)
		}
		if _, err := a.enter(ctx, A); !errors.Is(err, errAbort) {
			t.Fatalf("a6: %v", err)
		}
		a5()
		b1 := enter(B) // the third slot overall
		queued(C, "c1")
		queued(C, "c2")
		// A slot of A's goes to A's queue, but the next one overall to C:
		// clients take turns.
		a1()
		a1() // once only
		synctest.Wait()
		if s := <-got; s != "a3" {
			t.Fatalf("first freed slot went to %s", s)
		}
		b1()
		synctest.Wait()
		if s := <-got; s != "c1" {
			t.Fatalf("second freed slot went to %s", s)
		}
		// The rest wait no longer than QueueWait.
		time.Sleep(10 * time.Second)
		synctest.Wait()
		for range 2 {
			if s := <-got; s != "a4 queue full" && s != "c2 queue full" {
				t.Fatalf("after the wait: %s", s)
			}
		}
		a2()
		// A client that leaves stops waiting.
		cctx, cancel := context.WithCancel(ctx)
		go func() { time.Sleep(time.Second); cancel() }()
		enter(B) // the third slot overall, with a3 and c1
		if _, err := a.enter(cctx, B); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled: %v", err)
		}
	})
}

// A queue that moves keeps its clients past QueueWait: each gets its turn
// (issue 16, target 5); one that stops moving refuses after QueueWait, and
// none waits longer than queueWaitMax QueueWaits.
func TestAdmissionMovingQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdmission(Capacity{Requests: 1, ClientRequests: 1, ClientQueue: 100, Queue: 100, ClientRefusals: 10, Refusals: 10, QueueWait: 10 * time.Second}, nil)
		ctx := context.Background()
		A := netip.MustParseAddr("192.0.2.1")
		first, err := a.enter(ctx, A)
		if err != nil {
			t.Fatal(err)
		}
		// Four queued requests; each holds the slot for 6 s once it has
		// it: the last waits 24 s, more than QueueWait.
		const n = 4
		results := make(chan error, n)
		for range n {
			go func() {
				done, err := a.enter(ctx, A)
				results <- err
				if err == nil {
					time.Sleep(6 * time.Second)
					done()
				}
			}()
		}
		synctest.Wait()
		time.Sleep(6 * time.Second)
		first()
		for i := range n {
			if err := <-results; err != nil {
				t.Fatalf("queued request %d: %v", i, err)
			}
		}
		synctest.Wait()

		// A slot held for good: the queue stops, and a request waits
		// QueueWait, then is refused.
		held, err := a.enter(ctx, A)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := a.enter(ctx, A); !errors.Is(err, errQueueFull) {
			t.Fatalf("behind a held slot: %v", err)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("refused after %s", d)
		}
		held()
	})
}

// A refusal is a 503 with Retry-After; over HTTP/1 it closes the connection.
func TestAdmissionRefusal(t *testing.T) {
	a := newAdmission(Capacity{Requests: 1, ClientRequests: 1, ClientQueue: 0, Queue: 0, ClientRefusals: 1, Refusals: 1, QueueWait: time.Second}, nil)
	ran := make(chan struct{})
	release := make(chan struct{})
	h := a.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran <- struct{}{}
		<-release
	}))
	first := make(chan struct{})
	go func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		close(first)
	}()
	<-ran
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	close(release)
	<-first
	if w.Code != 503 || w.Header().Get("Retry-After") != "5" || w.Header().Get("Connection") != "close" {
		t.Fatalf("refusal: %d %v", w.Code, w.Header())
	}
	if a.refusals != 0 || len(a.clients) != 0 {
		t.Fatalf("after the refusal: %d refusals, %d clients", a.refusals, len(a.clients))
	}
}

func TestCapacityFor(t *testing.T) {
	for _, nofile := range []int{64, 256, 1024, 20000, 1 << 20} {
		c := CapacityFor(nofile)
		if c.Conns < 1 || c.Requests < 1 || c.ClientRequests < 1 || c.Conns+c.Requests > max(nofile, 64) || c.Conns > maxConnsCeiling {
			t.Errorf("CapacityFor(%d) = %+v", nofile, c)
		}
		// Every HTTP/1 connection let in may have a request waiting.
		if c.Requests+c.Queue < c.Conns {
			t.Errorf("CapacityFor(%d): %d requests and %d queued for %d connections", nofile, c.Requests, c.Queue, c.Conns)
		}
		t.Logf("CapacityFor(%d): %d connections, %d requests (%d per client)", nofile, c.Conns, c.Requests, c.ClientRequests)
	}
	// Ten thousand clients at once, given the descriptors (issue 16,
	// target 5).
	if c := CapacityFor(20000); c.Conns < 10000 {
		t.Errorf("CapacityFor(20000) holds %d connections", c.Conns)
	}
}

// After a burst, once no request has run for a while, the memory the burst
// left is released once; never while a request runs, and not again for a
// request that allocated little (issue 16: idle connections' RSS).
func TestAdmissionCalm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdmission(CapacityFor(1024), nil)
		var heap atomic.Uint64
		var released atomic.Int32
		a.allocated = heap.Load
		a.release = func() { released.Add(1) }
		ip := netip.MustParseAddr("192.0.2.1")
		request := func(alloc uint64) func() {
			done, err := a.enter(context.Background(), ip)
			if err != nil {
				t.Fatal(err)
			}
			heap.Add(alloc)
			return done
		}

		// A burst: many requests, then one that stays in flight.
		for range 100 {
			request(64 << 10)()
		}
		long := request(0)
		time.Sleep(10 * calmAfter)
		synctest.Wait()
		if releases := released.Load(); releases != 0 {
			t.Fatalf("released %d times while a request ran", releases)
		}
		long()
		time.Sleep(calmAfter / 2)
		request(0)() // requests keep coming: not yet
		time.Sleep(calmAfter / 2)
		synctest.Wait()
		if releases := released.Load(); releases != 0 {
			t.Fatalf("released %d times with requests still coming", releases)
		}
		time.Sleep(3 * calmAfter)
		synctest.Wait()
		if releases := released.Load(); releases != 1 {
			t.Fatalf("released %d times once quiet, want 1", releases)
		}
		// A lone small request later does not release again.
		request(1 << 10)()
		time.Sleep(3 * calmAfter)
		synctest.Wait()
		if releases := released.Load(); releases != 1 {
			t.Fatalf("released %d times after a small request, want still 1", releases)
		}
		// Another burst does.
		request(calmAtLeast)()
		time.Sleep(3 * calmAfter)
		synctest.Wait()
		if releases := released.Load(); releases != 2 {
			t.Fatalf("released %d times after a second burst, want 2", releases)
		}
	})
}
