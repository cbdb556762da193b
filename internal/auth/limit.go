package auth

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// limiter counts failed logins per client address: max failures within
// window block the address for block. Ten guesses a minute make guessing
// any real password impractical, and each guess costs at most one bcrypt.
type limiter struct {
	max    int
	window time.Duration
	block  time.Duration

	mu sync.Mutex
	m  map[string]*failures
}

type failures struct {
	n     int
	first time.Time
	until time.Time
}

// maxTracked bounds the table; beyond it, entries past their window are
// swept, so its size follows the failures of the last minute only.
const maxTracked = 1 << 14

// blocked returns how long ip must still wait, or 0.
func (l *limiter) blocked(ip string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.m[ip]
	if f == nil || !now.Before(f.until) {
		return 0
	}
	return f.until.Sub(now)
}

// fail records one failed attempt from ip.
func (l *limiter) fail(ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.m[ip]
	if f == nil {
		if len(l.m) >= maxTracked {
			l.sweep(now)
		}
		f = &failures{}
		l.m[ip] = f
	}
	if now.Sub(f.first) > l.window {
		f.n, f.first = 0, now
	}
	f.n++
	if f.n >= l.max {
		f.until = now.Add(l.block)
		f.n, f.first = 0, now
	}
}

func (l *limiter) sweep(now time.Time) {
	for k, f := range l.m {
		if now.Sub(f.first) > l.window && !now.Before(f.until) {
			delete(l.m, k)
		}
	}
}

// clientKey is the address failures are counted against: the IP of the
// peer, and for IPv6 its /64, since one host usually holds a whole /64.
func clientKey(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
