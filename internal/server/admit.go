package server

import (
	"container/list"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"

	"github.com/ferry-sh/ferry/internal/httperr"
)

// admission bounds the requests in flight, per client address and overall.
// A request over its client's share waits in that client's queue; clients
// with waiting requests are served in turn as slots come free, so a client
// with a thousand requests queued does not delay one with a single request.
// A request that finds its client's queue full, or waits longer than the
// capacity's QueueWait, is answered 503 with Retry-After.
type admission struct {
	cap Capacity
	log *slog.Logger
	// client, when set, tells a request's client (behind a trusted proxy,
	// the forwarded one); else the peer's address.
	client func(*http.Request) netip.Addr
	// onRefuse, when set, hears of each request refused.
	onRefuse func()

	mu       sync.Mutex
	active   int // requests running
	waiting  int // requests queued
	refusals int // refusals being sent
	clients  map[netip.Addr]*client
	// turns holds the clients with queued requests, in the order they are
	// to be served.
	turns   list.List
	warned  time.Time
	refused int
	// strained is set by a refusal and cleared, once every request has
	// ended, by handing the memory of the episode back to the system.
	strained bool
	freed    time.Time

	// After a burst, once no request has run for calmAfter, the memory
	// the burst left behind is handed back to the system (calm).
	admitted uint64 // requests admitted so far
	calming  bool   // a calm is scheduled
	// allocated reads how many bytes the heap has allocated so far;
	// release frees what is unused. Tests replace them. a.mu guards
	// releasedAt.
	allocated   func() uint64
	release     func()
	releasedAt  uint64 // allocated() at the last release
	calmAfter   time.Duration
	calmAtLeast uint64
	// handed is when a queued request was last given a slot.
	handed time.Time
}

type client struct {
	active   int
	refusing int
	waiters  list.List // chan struct{}, closed when given a slot
	turn     *list.Element
}

func newAdmission(c Capacity, log *slog.Logger) *admission {
	return &admission{cap: c, log: log, clients: map[netip.Addr]*client{},
		allocated: heapAllocated, release: releaseMemory,
		calmAfter: calmAfter, calmAtLeast: calmAtLeast}
}

// A server going quiet after a burst keeps the burst's garbage, and its
// pooled buffers, in its RSS: the Go runtime collects when the heap has
// doubled, which an idle server may not do for minutes, and returns freed
// pages to the system gradually. With 10,000 idle keep-alive connections
// held that was about 1 KiB per connection, 2 KiB with 1,000 (measured
// with bench/cmd/idleprof, issue 16). So once no request has run for
// calmAfter, and the heap allocated at least calmAtLeast since the last
// time, the memory is handed back: two collections (the first only moves
// pooled buffers aside, and shrinks goroutine stacks by half at most) and
// a scavenge. A busy server is never interrupted by it.
const (
	calmAfter   = time.Second
	calmAtLeast = 4 << 20
)

func heapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func releaseMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// calmLater schedules a look, calmAfter from now, at whether the server
// has been quiet since. a.mu is held.
func (a *admission) calmLater() {
	if a.calming || a.release == nil {
		return
	}
	a.calming = true
	seen := a.admitted
	time.AfterFunc(a.calmAfter, func() { a.calm(seen) })
}

// calm releases memory if no request was admitted since seen and none
// runs; otherwise it looks again later.
func (a *admission) calm(seen uint64) {
	a.mu.Lock()
	a.calming = false
	if a.active > 0 || a.admitted != seen {
		if a.active == 0 {
			a.calmLater()
		}
		a.mu.Unlock()
		return
	}
	enough := a.allocated()-a.releasedAt >= a.calmAtLeast
	a.mu.Unlock()
	if !enough {
		return
	}
	a.release()
	done := a.allocated()
	a.mu.Lock()
	a.releasedAt = done
	a.mu.Unlock()
}

var (
	errQueueFull = errors.New("queue full")
	// errAbort: the queue is full and so are the refusals in flight.
	errAbort = errors.New("too many refusals in flight")
)

// retryAfter is what a refused client is told to wait, in seconds.
const retryAfter = 5

// queueWaitMax bounds a queued request's wait, in QueueWaits, while the
// queue moves (see enter).
const queueWaitMax = 4

// refusalWriteTimeout bounds how long a refusal may take to send: an
// HTTP/2 client that opened its streams with a zero window would otherwise
// hold each refused stream, and its goroutine, for as long as it likes.
const refusalWriteTimeout = 2 * time.Second

// middleware admits each request before next sees it.
func (a *admission) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := requestIP(r)
		if a.client != nil {
			ip = a.client(r)
		}
		done, err := a.enter(r.Context(), ip)
		switch {
		case err == nil:
			defer done()
			next.ServeHTTP(w, r)
		case r.Context().Err() != nil:
			// The client left while queued.
		case errors.Is(err, errAbort):
			if a.onRefuse != nil {
				a.onRefuse()
			}
			// Even refusals cost a goroutine and buffers until they are
			// read; past a few, the request is dropped (HTTP/2: the
			// stream is reset; HTTP/1: the connection is closed).
			panic(http.ErrAbortHandler)
		default:
			defer done()
			a.refuse(w, r, ip)
		}
	})
}

func (a *admission) refuse(w http.ResponseWriter, r *http.Request, ip netip.Addr) {
	if a.onRefuse != nil {
		a.onRefuse()
	}
	now := time.Now()
	a.mu.Lock()
	a.refused++
	if a.log != nil && now.Sub(a.warned) >= 10*time.Second {
		a.log.Warn("too many requests in flight; refusing some with 503", "client", ip.String(),
			"client_limit", a.cap.ClientRequests, "refused", a.refused)
		a.warned, a.refused = now, 0
	}
	a.mu.Unlock()
	http.NewResponseController(w).SetWriteDeadline(now.Add(refusalWriteTimeout))
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	if r.ProtoMajor == 1 {
		// A client this busy can spare the connection.
		w.Header().Set("Connection", "close")
	}
	httperr.Write(w, r, http.StatusServiceUnavailable, "too many requests in flight from your address; try again in a few seconds")
}

// enter takes a slot for a request from ip, queueing for one if need be.
// When it refuses with errQueueFull, done ends the refusal.
func (a *admission) enter(ctx context.Context, ip netip.Addr) (done func(), err error) {
	a.mu.Lock()
	c := a.clients[ip]
	if c == nil {
		c = &client{}
		a.clients[ip] = c
	}
	if c.waiters.Len() == 0 && c.active < a.cap.ClientRequests && a.active < a.cap.Requests {
		c.active++
		a.active++
		a.admitted++
		a.mu.Unlock()
		return a.leaver(ip, c), nil
	}
	if c.waiters.Len() >= a.cap.ClientQueue || a.waiting >= a.cap.Queue {
		err := a.refusing(ip, c)
		a.mu.Unlock()
		return a.refusalDone(ip, c, err), err
	}
	ready := make(chan struct{})
	e := c.waiters.PushBack(ready)
	a.waiting++
	if c.turn == nil {
		c.turn = a.turns.PushBack(c)
	}
	a.mu.Unlock()

	t := time.NewTimer(a.cap.QueueWait)
	defer t.Stop()
	began := time.Now()
wait:
	for {
		select {
		case <-ready:
			return a.leaver(ip, c), nil
		case now := <-t.C:
			// A queue that moves keeps its clients: ten thousand honest
			// downloads at once on a slow machine wait longer than
			// QueueWait, yet each gets its turn (issue 16, target 5). A
			// request is refused when no queued request got a slot for
			// QueueWait (the slots are held: slow transfers, an attack),
			// or after queueWaitMax QueueWaits in all.
			a.mu.Lock()
			moving := now.Sub(a.handed) < a.cap.QueueWait
			a.mu.Unlock()
			if moving && now.Sub(began) < queueWaitMax*a.cap.QueueWait {
				t.Reset(a.cap.QueueWait)
				continue
			}
			err = errQueueFull
		case <-ctx.Done():
			err = ctx.Err()
		}
		break wait
	}
	a.mu.Lock()
	select {
	case <-ready:
		// Given a slot just as the wait ended: pass it on.
		a.mu.Unlock()
		a.leave(ip, c)
		return nil, err
	default:
	}
	c.waiters.Remove(e)
	a.waiting--
	if c.waiters.Len() == 0 && c.turn != nil {
		a.turns.Remove(c.turn)
		c.turn = nil
	}
	if err == errQueueFull {
		err = a.refusing(ip, c)
		a.mu.Unlock()
		return a.refusalDone(ip, c, err), err
	}
	a.forget(ip, c)
	a.mu.Unlock()
	return nil, err
}

// refusing counts a refusal in flight for c, or returns errAbort when c,
// or the server, has too many already. a.mu is held.
func (a *admission) refusing(ip netip.Addr, c *client) error {
	a.strained = true
	if c.refusing >= a.cap.ClientRefusals || a.refusals >= a.cap.Refusals {
		a.forget(ip, c)
		return errAbort
	}
	c.refusing++
	a.refusals++
	return errQueueFull
}

// refusalDone is the done func of a refusal counted by refusing.
func (a *admission) refusalDone(ip netip.Addr, c *client, err error) func() {
	if err != errQueueFull {
		return nil
	}
	return func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		c.refusing--
		a.refusals--
		a.forget(ip, c)
	}
}

func (a *admission) leaver(ip netip.Addr, c *client) func() {
	var once sync.Once
	return func() { once.Do(func() { a.leave(ip, c) }) }
}

// leave gives a slot back and hands free slots to queued requests, one
// client after another.
func (a *admission) leave(ip netip.Addr, c *client) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c.active--
	a.active--
	for e := a.turns.Front(); e != nil && a.active < a.cap.Requests; {
		next := e.Next()
		w := e.Value.(*client)
		if w.active < a.cap.ClientRequests {
			first := w.waiters.Front()
			w.waiters.Remove(first)
			a.waiting--
			w.active++
			a.active++
			a.admitted++
			close(first.Value.(chan struct{}))
			a.handed = time.Now()
			a.turns.Remove(e)
			w.turn = nil
			if w.waiters.Len() > 0 {
				w.turn = a.turns.PushBack(w) // its next request waits its turn
			}
		}
		e = next
	}
	if a.active == 0 {
		a.calmLater()
	}
	a.forget(ip, c)
}

// forget drops the record of a client with nothing running or queued.
// a.mu is held.
func (a *admission) forget(ip netip.Addr, c *client) {
	if c.active == 0 && c.refusing == 0 && c.waiters.Len() == 0 && a.clients[ip] == c {
		delete(a.clients, ip)
	}
	if a.strained && a.active == 0 && a.waiting == 0 && a.refusals == 0 && time.Since(a.freed) >= 10*time.Second {
		// The Go runtime returns freed memory to the system slowly, after
		// its next collection, which an idle server may not run for
		// minutes: after an attack it would keep its peak size. The
		// attack's connections take a moment more to be torn down; the
		// first collection only moves pooled buffers aside, the second
		// frees them.
		a.strained, a.freed = false, time.Now()
		time.AfterFunc(2*time.Second, func() { runtime.GC(); debug.FreeOSMemory() })
	}
}

// requestIP is the address a request came from, without port or zone;
// IPv4-mapped IPv6 addresses count as the IPv4 address.
func requestIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap().WithZone("")
}
