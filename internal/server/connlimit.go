package server

import (
	"io"
	"net"
	"net/netip"
	"sync"
)

// DefaultMaxConnsPerIP leaves room for a browser (six connections per host)
// and download accelerators (sixteen) several times over, while keeping one
// address from holding every file descriptor.
const DefaultMaxConnsPerIP = 64

// LimitPerIP wraps ln so that each client address holds at most max open
// connections; further ones are closed at once, before any byte is read.
// max <= 0 returns ln unchanged.
func LimitPerIP(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, max: max, open: map[netip.Addr]int{}}
}

type limitListener struct {
	net.Listener
	max int
	// refused, when set, hears of each connection closed at the cap.
	refused func()
	// exempt, when set, names addresses without a cap.
	exempt func(netip.Addr) bool

	mu   sync.Mutex
	open map[netip.Addr]int
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := connIP(c)
		if l.exempt != nil && l.exempt(ip) {
			return c, nil
		}
		l.mu.Lock()
		n := l.open[ip]
		if n >= l.max {
			l.mu.Unlock()
			// Closing here, rather than returning an error, keeps the
			// server's accept loop running for everyone else.
			c.Close()
			if l.refused != nil {
				l.refused()
			}
			continue
		}
		l.open[ip] = n + 1
		l.mu.Unlock()
		return &limitConn{Conn: c, l: l, ip: ip}, nil
	}
}

func (l *limitListener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip] <= 1 {
		delete(l.open, ip)
		return
	}
	l.open[ip]--
}

// Open reports how many connections ip holds (for tests).
func (l *limitListener) Open(ip netip.Addr) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open[ip]
}

func connIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

type limitConn struct {
	net.Conn
	l    *limitListener
	ip   netip.Addr
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}

// NetConn returns the wrapped connection, so that the TCP socket beneath can
// be found (transfer.Listen asks it what the client acknowledged).
func (c *limitConn) NetConn() net.Conn { return c.Conn }

// ReadFrom keeps sendfile(2) working: net/http hands file bodies to the
// connection's ReadFrom when it has one.
func (c *limitConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}
