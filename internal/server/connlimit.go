package server

import (
	"container/list"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Overload protection, in two parts that count what costs rather than TCP
// connections (issue 11, item 5):
//
//   - The connections (this file): each holds a descriptor and some memory
//     (about 20 KiB idle, 36 KiB with TLS), so there is a ceiling for all
//     of them together, from the descriptor limit and at most
//     maxConnsCeiling. At the ceiling a new connection makes room by closing
//     the cheapest victims first: connections idle between requests (the
//     longest idle first), then ones that have sent nothing for a while.
//     Only when every connection is busy is the newcomer turned away. One
//     address may hold as many connections as it likes: a NAT'ed office, a
//     download accelerator and a browser with many tabs all need them, and
//     an idle connection costs little.
//   - The requests (admit.go): a request in flight holds an open file and
//     buffers, and over HTTP/2 one connection carries up to a hundred at
//     once. They are limited per client address and overall, with a queue.

// DefaultMaxConnsPerIP is no cap: connections are limited overall, and
// requests in flight per client (see Capacity).
const DefaultMaxConnsPerIP = 0

// maxConnsCeiling bounds open connections whatever the descriptor limit.
// Ten thousand clients at once must all be served (issue 16, target 5:
// 10,000 keep-alive downloads of 1 MiB took ferry to 344 MiB, 33 KiB per
// download, e2e TestManyDownloads); 16,384 idle TLS connections hold about
// 600 MiB. It also lets 10,000 idle keep-alive connections be held
// (issue 16, target 3), about 20 KiB each (BENCHMARKS.md, "(f) idle
// connections").
const maxConnsCeiling = 16384

// staleNew is how long a connection may stay without sending a request
// before it may be closed to make room for a newcomer (the header timeout
// closes it later in any case).
const staleNew = time.Second

// Capacity holds the limits derived from the descriptor limit.
type Capacity struct {
	// Conns bounds open connections overall.
	Conns int
	// Requests bounds requests in flight overall; ClientRequests per
	// client address, which may queue ClientQueue more (Queue overall).
	Requests, ClientRequests int
	ClientQueue, Queue       int
	// ClientRefusals and Refusals bound the 503 answers being sent, per
	// client address and overall; past them a request is dropped.
	ClientRefusals, Refusals int
	// QueueWait is how long a queued request waits for its turn.
	QueueWait time.Duration
}

// CapacityFor derives the limits from nofile, the number of descriptors
// the process may open. A quarter of them, plus 64, are left for what is
// not a connection or a request's file: listeners, logs, the cache of
// open files, archives' look-ahead, CGI pipes.
func CapacityFor(nofile int) Capacity {
	budget := max(nofile-64-nofile/4, 32)
	requests := min(budget/2, 2048)
	conns := min(budget-requests, maxConnsCeiling)
	return Capacity{
		Conns:    conns,
		Requests: requests,
		// A hundred parallel downloads from one address run at once; a
		// stalled HTTP/2 stream holds about 100 KiB, so one address holds
		// at most some 13 MiB that way.
		ClientRequests: min(128, requests),
		ClientQueue:    256,
		// An HTTP/1 connection carries one request at a time: with a
		// queue as long as the connections, a request is never turned
		// away for want of room while its connection was let in (10,000
		// downloads at once from 200 addresses, TestManyDownloads).
		Queue:          max(4096, conns),
		ClientRefusals: 32,
		Refusals:       512,
		QueueWait:      30 * time.Second,
	}
}

// guard tracks every connection of a server: how many each address holds,
// which are idle, and which have sent nothing yet.
type guard struct {
	max, perIP int
	log        *slog.Logger
	// refused, when set, hears of each connection closed unread.
	refused func()
	// exempt, when set, names addresses without a per-address cap
	// (trusted proxies, which carry many clients).
	exempt func(netip.Addr) bool

	mu     sync.Mutex
	open   int
	byIP   map[netip.Addr]int
	idle   list.List // *trackedConn between requests, longest idle first
	fresh  list.List // *trackedConn that have sent nothing yet, oldest first
	warned time.Time // last warning about a full house
	shed   int       // connections closed or refused since then
}

func newGuard(max, perIP int, log *slog.Logger) *guard {
	return &guard{max: max, perIP: perIP, log: log, byIP: map[netip.Addr]int{}}
}

// listener wraps ln so that its connections are counted and shed.
func (g *guard) listener(ln net.Listener) net.Listener {
	return &guardListener{Listener: ln, g: g}
}

type guardListener struct {
	net.Listener
	g *guard
}

func (l *guardListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if tc := l.g.admit(c); tc != nil {
			return tc, nil
		}
		// Counted first, so that whoever sees the connection close sees
		// it counted. Closing here, rather than returning an error, keeps
		// the server's accept loop running for everyone else.
		if l.g.refused != nil {
			l.g.refused()
		}
		c.Close()
	}
}

// admit counts c in, closing victims to make room; nil refuses c.
func (g *guard) admit(c net.Conn) *trackedConn {
	ip := connIP(c)
	now := time.Now()
	var victims []*trackedConn
	g.mu.Lock()
	// Unix sockets count towards the capacity but have no address: their
	// peer is a proxy, as are exempt addresses.
	capped := g.perIP > 0 && ip.IsValid() && (g.exempt == nil || !g.exempt(ip))
	if capped && g.byIP[ip] >= g.perIP {
		g.mu.Unlock()
		return nil
	}
	for g.open >= g.max {
		v := g.victim(now)
		if v == nil {
			break
		}
		g.drop(v)
		victims = append(victims, v)
	}
	if g.open >= g.max {
		g.shed++
		g.warn(now, "at capacity: every connection is busy; refusing new ones")
		g.mu.Unlock()
		return nil
	}
	if len(victims) > 0 {
		g.shed += len(victims)
		g.warn(now, "at capacity: closing idle connections to make room")
	}
	g.open++
	g.byIP[ip]++
	tc := &trackedConn{Conn: c, g: g, ip: ip, since: now}
	tc.elem = g.fresh.PushBack(tc)
	tc.in = &g.fresh
	g.mu.Unlock()
	for _, v := range victims {
		v.Conn.Close() // the server then closes its side, which releases v
	}
	return tc
}

// victim is the cheapest connection to close, nil when none may go. g.mu
// is held.
func (g *guard) victim(now time.Time) *trackedConn {
	if e := g.idle.Front(); e != nil {
		return e.Value.(*trackedConn)
	}
	if e := g.fresh.Front(); e != nil && now.Sub(e.Value.(*trackedConn).since) >= staleNew {
		return e.Value.(*trackedConn)
	}
	return nil
}

// drop uncounts a connection chosen as a victim, at once, so that
// concurrent accepts see the room it leaves. g.mu is held.
func (g *guard) drop(tc *trackedConn) {
	g.unlist(tc)
	tc.closed = true
	g.open--
	if g.byIP[tc.ip] <= 1 {
		delete(g.byIP, tc.ip)
	} else {
		g.byIP[tc.ip]--
	}
}

func (g *guard) unlist(tc *trackedConn) {
	if tc.in != nil {
		tc.in.Remove(tc.elem)
		tc.in, tc.elem = nil, nil
	}
}

// warn logs at most one line every ten seconds about shedding. g.mu is held.
func (g *guard) warn(now time.Time, msg string) {
	if g.log == nil || now.Sub(g.warned) < 10*time.Second {
		return
	}
	g.log.Warn(msg, "connections", g.open, "limit", g.max, "shed", g.shed)
	g.warned, g.shed = now, 0
}

// connState follows each connection between busy and idle (http.Server's
// ConnState hook; HTTP/2 reports idle when no stream is open).
func (g *guard) connState(c net.Conn, state http.ConnState) {
	tc := tracked(c)
	if tc == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if tc.closed {
		return
	}
	g.unlist(tc)
	if state == http.StateIdle {
		tc.since = time.Now()
		tc.elem = g.idle.PushBack(tc)
		tc.in = &g.idle
	}
}

func (g *guard) release(tc *trackedConn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !tc.closed {
		g.drop(tc)
	}
}

// Open reports how many connections ip holds, and all together (for tests).
func (g *guard) Open(ip netip.Addr) (int, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.byIP[ip], g.open
}

func connIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

// trackedConn is a connection the guard counts. Its list fields belong to
// the guard's mutex.
type trackedConn struct {
	net.Conn
	g    *guard
	ip   netip.Addr
	once sync.Once

	since  time.Time // when it was accepted, or went idle
	elem   *list.Element
	in     *list.List // g.idle, g.fresh or nil
	closed bool
}

// tracked finds the trackedConn beneath c's wrappers (TLS), or nil.
func tracked(c net.Conn) *trackedConn {
	for {
		if tc, ok := c.(*trackedConn); ok {
			return tc
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		c = u.NetConn()
	}
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.g.release(c) })
	return err
}

// NetConn returns the wrapped connection, so that the TCP socket beneath can
// be found (transfer.Listen asks it what the client acknowledged).
func (c *trackedConn) NetConn() net.Conn { return c.Conn }

// ReadFrom keeps sendfile(2) working: net/http hands file bodies to the
// connection's ReadFrom when it has one.
func (c *trackedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// protect puts the requests' admission around cfg.Handler (every protocol
// goes through it) and returns the guard for the connections, whose
// listener and connState the caller installs.
func protect(cfg *Config) *guard {
	c := cfg.Capacity
	if c.Conns == 0 {
		c = CapacityFor(fdLimit())
	}
	g := newGuard(c.Conns, cfg.MaxConnsPerIP, cfg.Logger)
	g.refused, g.exempt = cfg.ConnRefused, cfg.ConnLimitExempt
	a := newAdmission(c, cfg.Logger)
	a.client, a.onRefuse = cfg.Client, cfg.RequestRefused
	cfg.Handler = a.middleware(cfg.Handler)
	return g
}
