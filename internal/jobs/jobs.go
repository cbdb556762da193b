// Package jobs bounds the expensive work a request can start, such as a
// checksum over a whole file or an archive of a folder: a few at once per
// client address and a few overall, so that no client, nor all of them
// together, can keep every CPU busy while others wait for a simple GET.
// A request over the limit waits a little for a slot, then is answered 503
// with Retry-After.
package jobs

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/ferry-sh/ferry/internal/httperr"
)

// Limiter hands out job slots. A nil *Limiter has no limit.
type Limiter struct {
	perClient, total int
	wait             time.Duration

	mu       sync.Mutex
	running  int
	byClient map[netip.Addr]int
	// freed is closed, and replaced, whenever a slot is given back, waking
	// every waiter to try again.
	freed chan struct{}
}

// New returns a Limiter running at most perClient jobs for one client
// address and total overall, a request waiting up to wait for a slot.
func New(perClient, total int, wait time.Duration) *Limiter {
	return &Limiter{perClient: perClient, total: total, wait: wait,
		byClient: map[netip.Addr]int{}, freed: make(chan struct{})}
}

// Default limits: two jobs per client (a browser's second tab), twice as
// many overall as the CPUs Go may use (at least four), and ten seconds of
// patience, which covers hashing a few GiB on a busy machine.
const (
	DefaultPerClient = 2
	DefaultWait      = 10 * time.Second
)

// NewDefault returns a Limiter with the default limits.
func NewDefault() *Limiter {
	return New(DefaultPerClient, max(4, 2*runtime.GOMAXPROCS(0)), DefaultWait)
}

// ErrBusy says that no slot came free within the wait.
var ErrBusy = errors.New("too many jobs running")

// RetryAfter is what a refused client is told to wait, in seconds.
const RetryAfter = 5

// Start claims a slot for client, waiting up to the limiter's wait or until
// ctx ends. Call done once the job is over.
func (l *Limiter) Start(ctx context.Context, client netip.Addr) (done func(), err error) {
	if l == nil {
		return func() {}, nil
	}
	var timeout <-chan time.Time
	for {
		l.mu.Lock()
		if l.running < l.total && l.byClient[client] < l.perClient {
			l.running++
			l.byClient[client]++
			l.mu.Unlock()
			var once sync.Once
			return func() { once.Do(func() { l.release(client) }) }, nil
		}
		freed := l.freed
		l.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(l.wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-freed:
		case <-timeout:
			return nil, ErrBusy
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (l *Limiter) release(client netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.running--
	if l.byClient[client] <= 1 {
		delete(l.byClient, client)
	} else {
		l.byClient[client]--
	}
	close(l.freed)
	l.freed = make(chan struct{})
}

// StartRequest is Start for the client that sent r. On failure it has
// answered r already (503 with Retry-After, or nothing to a client that left)
// and returns nil.
func (l *Limiter) StartRequest(w http.ResponseWriter, r *http.Request) (done func()) {
	done, err := l.Start(r.Context(), Client(r))
	if err == nil {
		return done
	}
	if errors.Is(err, ErrBusy) {
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfter))
		httperr.Write(w, r, http.StatusServiceUnavailable, "the server is busy with other checksums and archives; try again in a few seconds")
	}
	return nil
}

// Client is the address r came from, without its port; IPv4-mapped IPv6
// addresses count as the IPv4 address.
func Client(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap().WithZone("")
}
