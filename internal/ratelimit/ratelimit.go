// Package ratelimit paces downloads and uploads with token buckets
// (golang.org/x/time/rate): one per connection (--limit-rate) and one for the
// whole server (--limit-total), each direction on its own, as a link has an
// uplink and a downlink.
package ratelimit

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits are bytes per second; 0 means no limit.
type Limits struct {
	PerConn int64
	Total   int64
}

// chunkFor is the most written or read between two waits: a tenth of a
// second's worth, so pacing is smooth, within bounds that keep syscalls
// large enough.
func chunkFor(bps int64) int {
	c := min(bps/10, 64<<10)
	c = max(c, 1<<10)
	return int(min(c, max(bps, 1)))
}

// burstFor is the bucket size: half a second's worth (at least one chunk),
// so a process that was not scheduled for a while (a busy machine) catches
// up instead of losing the time. Buckets start empty (newBucket), so the
// burst never shows as a fast start.
func burstFor(bps int64) int {
	return max(chunkFor(bps), int(min(bps/2, 8<<20)))
}

func newBucket(bps int64) *rate.Limiter {
	b := burstFor(bps)
	l := rate.NewLimiter(rate.Limit(bps), b)
	l.AllowN(time.Now(), b)
	return l
}

// Limiter holds the server-wide buckets and the per-connection ones in use.
type Limiter struct {
	lim        Limits
	totalDown  *rate.Limiter
	totalUp    *rate.Limiter
	mu         sync.Mutex
	conns      map[string]*conn
	chunkLimit int
}

type conn struct {
	down, up *rate.Limiter
	refs     int
}

// New returns a Limiter, or nil when lim sets no limit.
func New(lim Limits) *Limiter {
	if lim.PerConn <= 0 && lim.Total <= 0 {
		return nil
	}
	l := &Limiter{lim: lim, conns: map[string]*conn{}, chunkLimit: 1 << 30}
	if lim.Total > 0 {
		l.totalDown = newBucket(lim.Total)
		l.totalUp = newBucket(lim.Total)
		l.chunkLimit = chunkFor(lim.Total)
	}
	if lim.PerConn > 0 {
		l.chunkLimit = min(l.chunkLimit, chunkFor(lim.PerConn))
	}
	return l
}

// Middleware paces what next writes and reads. A nil Limiter returns next
// untouched, so an unlimited server keeps sendfile and its plain writers.
func (l *Limiter) Middleware(next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// RemoteAddr (address and port) names the connection for as long
		// as it is open; HTTP/2 streams on one connection share its bucket.
		c := l.acquire(r.RemoteAddr)
		defer l.release(r.RemoteAddr)
		p := pacer{ctx: r.Context(), chunk: l.chunkLimit}
		down := p
		down.lims = [2]*rate.Limiter{c.down, l.totalDown}
		up := p
		up.lims = [2]*rate.Limiter{c.up, l.totalUp}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &body{ReadCloser: r.Body, p: up}
		}
		next.ServeHTTP(&writer{ResponseWriter: w, p: down}, r)
	})
}

func (l *Limiter) acquire(key string) *conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.conns[key]
	if c == nil {
		c = &conn{}
		if l.lim.PerConn > 0 {
			c.down = newBucket(l.lim.PerConn)
			c.up = newBucket(l.lim.PerConn)
		}
		l.conns[key] = c
	}
	c.refs++
	return c
}

func (l *Limiter) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.conns[key]; c != nil {
		c.refs--
		if c.refs <= 0 {
			delete(l.conns, key)
		}
	}
}

// pacer waits for tokens in the buckets that apply, in chunks no larger
// than the smallest chunk (WaitN refuses more than the burst).
type pacer struct {
	ctx   context.Context
	lims  [2]*rate.Limiter
	chunk int
}

func (p pacer) wait(n int) error {
	for _, l := range p.lims {
		if l == nil {
			continue
		}
		if err := l.WaitN(p.ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// writer paces a ResponseWriter.
type writer struct {
	http.ResponseWriter
	p pacer
}

func (w *writer) Write(b []byte) (int, error) {
	var total int
	for len(b) > 0 {
		n := min(len(b), w.p.chunk)
		if err := w.p.wait(n); err != nil {
			return total, err
		}
		m, err := w.ResponseWriter.Write(b[:n])
		total += m
		if err != nil {
			return total, err
		}
		b = b[n:]
	}
	return total, nil
}

// ReadFrom hands the inner writer one paced chunk at a time, each a flat
// LimitedReader over the source, so a file still goes out by sendfile.
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	rf, ok := w.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.CopyBuffer(writerOnly{w}, src, make([]byte, w.p.chunk))
	}
	base, remain := src, int64(-1)
	lr, isLR := src.(*io.LimitedReader)
	if isLR {
		base, remain = lr.R, lr.N
	}
	var total int64
	var err error
	for remain != 0 {
		step := int64(w.p.chunk)
		if remain > 0 && remain < step {
			step = remain
		}
		if err = w.p.wait(int(step)); err != nil {
			break
		}
		var n int64
		n, err = rf.ReadFrom(&io.LimitedReader{R: base, N: step})
		total += n
		if remain > 0 {
			remain -= n
		}
		if err != nil || n < step {
			break
		}
	}
	if isLR {
		lr.N = remain
	}
	return total, err
}

// Flush passes through so streamed responses (archives) still flush.
func (w *writer) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type writerOnly struct{ io.Writer }

// body paces a request body: it reads at most one chunk at a time and waits
// for as many tokens as it got, so TCP flow control slows the sender.
type body struct {
	io.ReadCloser
	p pacer
}

func (b *body) Read(p []byte) (int, error) {
	if len(p) > b.p.chunk {
		p = p[:b.p.chunk]
	}
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		if werr := b.p.wait(n); werr != nil && err == nil {
			err = werr
		}
	}
	return n, err
}
