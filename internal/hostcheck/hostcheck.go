// Package hostcheck refuses requests for host names the server does not
// serve, with 421 Misdirected Request (RFC 9110 §15.5.20). It is the defence
// against DNS rebinding: a web page at evil.example whose name is made to
// resolve to 127.0.0.1 reaches a "local only" share from the victim's
// browser, but the browser still sends "Host: evil.example", which no name
// of this server matches.
//
// An IP address in Host is no rebinding (a page can only send it from that
// address's own origin); it is still checked against the addresses served,
// so that what answers is what was asked for.
package hostcheck

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"

	"github.com/ferry-sh/ferry/internal/httperr"
)

// Checker decides which Host values are served.
type Checker struct {
	any      bool
	names    map[string]bool
	suffixes []string // ".example.com" from "*.example.com"
	addrs    map[netip.Addr]bool
}

// New builds a checker that accepts localhost (and *.localhost), loopback
// addresses, the address each connection came in on, and names: host names,
// IP addresses, "*.DOMAIN" for any name under DOMAIN, or "*" for any Host.
func New(names []string) (*Checker, error) {
	c := &Checker{names: map[string]bool{}, addrs: map[netip.Addr]bool{}}
	for _, n := range names {
		if err := Valid(n); err != nil {
			return nil, err
		}
		h := Normalize(n)
		switch {
		case h == "*":
			c.any = true
		case strings.HasPrefix(h, "*."):
			c.suffixes = append(c.suffixes, h[1:])
		default:
			if ip, err := netip.ParseAddr(h); err == nil {
				c.addrs[ip.Unmap().WithZone("")] = true
			} else {
				c.names[h] = true
			}
		}
	}
	return c, nil
}

// Valid checks a name given to New: a host name (port ignored), an IP
// address, "*.DOMAIN" or "*".
func Valid(name string) error {
	if strings.ContainsAny(name, "/@?# ") {
		return fmt.Errorf("%q is not a host name (give a name such as files.example.com, without scheme or path)", name)
	}
	if !strings.HasPrefix(name, "[") && strings.Count(name, ":") == 1 {
		if _, port, _ := strings.Cut(name, ":"); port == "" || strings.Trim(port, "0123456789") != "" {
			return fmt.Errorf("%q is not a host name: the part after ':' is not a port", name)
		}
	}
	h := Normalize(name)
	if h == "*" {
		if strings.HasPrefix(name, "*.") {
			// "*." lost its empty domain to Normalize's trailing-dot trim
			// and would silently accept every Host, as "*" does.
			return fmt.Errorf("%q names no domain: give *.DOMAIN for the names under DOMAIN, or * for any host", name)
		}
		return nil
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	label := strings.TrimPrefix(h, "*.")
	if label == "" || len(label) > 253 || label[0] == '.' || strings.Contains(label, "..") {
		return fmt.Errorf("%q is not a host name", name)
	}
	for _, r := range label {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return fmt.Errorf("%q is not a host name (give a name such as files.example.com, without scheme or path)", name)
		}
	}
	return nil
}

// Normalize reduces a Host value to the name compared: without the port,
// without IPv6 brackets, in lower case, without a trailing dot.
func Normalize(host string) string {
	h := host
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			// RFC 6874 spells a zone "%25zone" inside the brackets.
			h = strings.Replace(h[1:i], "%25", "%", 1)
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.IndexByte(h, ':') == i {
		h = h[:i] // one colon: a port; more: a bare IPv6 address
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// Allowed reports whether r's Host is served. A request without Host
// (HTTP/1.0) names nothing to check and is served.
func (c *Checker) Allowed(r *http.Request) bool {
	if c.any || r.Host == "" {
		return true
	}
	h := Normalize(r.Host)
	// Only a form that can be an address is parsed as one: a failed parse
	// allocates its error, and most names are no address.
	if h != "" && (h[0] >= '0' && h[0] <= '9' || strings.IndexByte(h, ':') >= 0) {
		if ip, err := netip.ParseAddr(h); err == nil {
			return c.allowedAddr(r, ip)
		}
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || c.names[h] {
		return true
	}
	for _, s := range c.suffixes {
		if strings.HasSuffix(h, s) {
			return true
		}
	}
	return false
}

// allowedAddr reports whether an IP address in Host is served.
func (c *Checker) allowedAddr(r *http.Request, ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if ip.IsLoopback() || c.addrs[ip] {
		return true
	}
	// The address the client connected to is served, whatever it is: on a
	// wildcard bind that covers interfaces that came up after the start.
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		if local, ok := netip.AddrFromSlice(la.IP); ok && local.Unmap() == ip {
			return true
		}
	}
	return false
}

// Middleware answers 421 for requests whose Host is not served, whatever
// their method, before next (and so before credentials) sees them.
func (c *Checker) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.Allowed(r) {
			httperr.Write(w, r, http.StatusMisdirectedRequest, Refusal(r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Refusal is the client-facing reason for a refused Host: what to do if the
// name is in fact the server's own.
func Refusal(host string) string {
	h := Normalize(host)
	if len(h) > 100 {
		h = h[:100] + "…"
	}
	return fmt.Sprintf("this server does not answer to the name %q (a guard against DNS rebinding); "+
		"if the name is yours, restart ferry with --host %s", h, h)
}

// MachineNames are the names this machine goes by: its host name, the
// short form of it, and SHORT.local (mDNS), without duplicates.
func MachineNames() []string {
	name, err := os.Hostname()
	if err != nil || name == "" {
		return nil
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	short, _, _ := strings.Cut(name, ".")
	out := []string{name}
	if short != name && short != "" {
		out = append(out, short)
	}
	if short != "" && short+".local" != name {
		out = append(out, short+".local")
	}
	return out
}

// InterfaceAddrs lists every address of the machine's interfaces, the
// names a wildcard bind is reached by.
func InterfaceAddrs() ([]string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range addrs {
		if pfx, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(pfx.IP); ok {
				out = append(out, ip.Unmap().String())
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no interface addresses")
	}
	return out, nil
}
