// Package proxy fits ferry behind a reverse proxy: it believes the
// client address, host and protocol that trusted proxies forward
// (Forwarded, RFC 7239, or X-Forwarded-For/-Host/-Proto), and mounts the
// handler under a base path.
package proxy

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Trusted is the set of peers whose forwarding headers count.
type Trusted struct {
	prefixes []netip.Prefix
	unix     bool // peers on a Unix socket
}

// UnixPeers is the --trusted-proxy value that trusts every peer of a Unix
// socket ferry listens on: such a socket has no addresses, and its file
// mode already says who may connect.
const UnixPeers = "unix"

// ParseTrusted reads --trusted-proxy values: CIDR prefixes
// ("10.0.0.0/8"), single addresses, or "unix". No values: nil, which
// trusts nobody.
func ParseTrusted(specs []string) (*Trusted, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	t := &Trusted{}
	for _, s := range specs {
		if err := t.add(s); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *Trusted) add(s string) error {
	if s == UnixPeers {
		t.unix = true
		return nil
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		if p.Addr().Zone() != "" {
			return fmt.Errorf("%q: a zone has no place in a trusted prefix", s)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		t.prefixes = append(t.prefixes, p.Masked())
		return nil
	}
	if ip, err := netip.ParseAddr(s); err == nil && ip.Zone() == "" {
		ip = ip.Unmap()
		t.prefixes = append(t.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
		return nil
	}
	return fmt.Errorf("%q is neither an address nor a CIDR prefix such as 10.0.0.0/8 (or %q for Unix socket peers)", s, UnixPeers)
}

// Contains reports whether ip is a trusted proxy's address.
func (t *Trusted) Contains(ip netip.Addr) bool {
	if t == nil || !ip.IsValid() {
		return false
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range t.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Middleware makes the request look as the client sent it to the proxy,
// when it comes from a trusted proxy: RemoteAddr becomes the client's
// address (port 0 when the proxy did not say), Host the host the client
// asked for, and a request the client sent over HTTPS has a non-nil TLS
// field. Logs, the failed-login limit, the per-client limits, the host
// check and the status page's rule then all see the client. From anyone
// else the headers change nothing. A nil Trusted returns next.
func (t *Trusted) Middleware(next http.Handler) http.Handler {
	if t == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t.trustsPeer(r) {
			r = t.forwarded(r)
		}
		next.ServeHTTP(w, r)
	})
}

// Client is the address of the client that sent r, without port or zone:
// behind a trusted proxy the one Middleware would give, else the peer's
// (invalid for a Unix socket peer). A nil Trusted gives the peer's.
func (t *Trusted) Client(r *http.Request) netip.Addr {
	if t != nil && t.trustsPeer(r) {
		r = t.forwarded(r)
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap().WithZone("")
}

func (t *Trusted) trustsPeer(r *http.Request) bool {
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && la.Network() == "unix" {
		return t.unix
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && t.Contains(ap.Addr())
}

// forwarded returns a copy of r as the client sent it. The client is the
// address nearest to ferry that is not a trusted proxy: anything to its
// left could have been written by the client itself.
func (t *Trusted) forwarded(r *http.Request) *http.Request {
	var (
		client      netip.AddrPort
		host, proto string
		found       bool
	)
	if vals := r.Header.Values("Forwarded"); len(vals) > 0 {
		hops, ok := parseForwarded(vals)
		if !ok {
			return r
		}
		for i := len(hops) - 1; i >= 0; i-- {
			h := hops[i]
			// What this hop says about the request, it says as a trusted
			// proxy (the one to its right vouched for it).
			host, proto = h.host, h.proto
			if !h.forValid {
				break
			}
			client, found = h.for_, true
			if !t.Contains(h.for_.Addr()) {
				break
			}
		}
	} else {
		addrs, ok := parseXFF(r.Header.Values("X-Forwarded-For"))
		if !ok {
			return r
		}
		for i := len(addrs) - 1; i >= 0; i-- {
			client, found = netip.AddrPortFrom(addrs[i], 0), true
			if !t.Contains(addrs[i]) {
				break
			}
		}
		host = lastValue(r.Header.Values("X-Forwarded-Host"))
		proto = strings.ToLower(lastValue(r.Header.Values("X-Forwarded-Proto")))
	}
	if !found && host == "" && proto == "" {
		return r
	}
	r = r.WithContext(r.Context()) // a shallow copy: handlers must not change theirs
	if found {
		r.RemoteAddr = client.String()
	}
	if host != "" && validHost(host) {
		r.Host = host
	}
	switch proto {
	case "https":
		if r.TLS == nil {
			// Code that asks whether the client used HTTPS (redirects,
			// the Destination check, CGI's HTTPS variable) asks r.TLS.
			r.TLS = &tls.ConnectionState{}
		}
	case "http":
		r.TLS = nil
	}
	return r
}

// validHost accepts what may stand in a Host header (RFC 9110 §7.2: a
// name or address, an optional port), nothing that could break a URL or
// a header built from it.
func validHost(h string) bool {
	if len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~:[]!$&'()*+,;=%", c) >= 0:
		default:
			return false
		}
	}
	return true
}
