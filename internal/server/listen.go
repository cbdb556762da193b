// Package server runs handlers on real sockets: listeners (binds, IPv4 and
// IPv6, the port fallback), the http.Server and its timeouts, the banner's
// URLs, and the lifecycle (signals, --exit-after, --idle-exit, summary).
package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

// Listeners holds the sockets ferry serves on.
type Listeners struct {
	List []net.Listener
	Port int
	// FellBack reports that the default port was taken and another was picked.
	FellBack bool
}

// Close closes them all.
func (l *Listeners) Close() {
	for _, ln := range l.List {
		ln.Close()
	}
}

// Listen opens one listener per bind address on port, or one on every
// interface (IPv4 and IPv6) when binds is empty. When explicit is false and
// the port is taken, a free port is picked instead.
func Listen(binds []string, port int, explicit bool) (*Listeners, error) {
	ls, err := listenAll(binds, port)
	if err != nil && !explicit && port != 0 && errors.Is(err, syscall.EADDRINUSE) {
		ls, err = listenAll(binds, 0)
		if err == nil {
			ls.FellBack = true
		}
	}
	return ls, err
}

func listenAll(binds []string, port int) (*Listeners, error) {
	if len(binds) == 0 {
		binds = []string{""}
	}
	binds = expandHosts(binds)
	ls := &Listeners{Port: port}
	for _, b := range binds {
		ln, err := net.Listen("tcp", net.JoinHostPort(b, strconv.Itoa(ls.Port)))
		if err != nil {
			ls.Close()
			return nil, err
		}
		ls.List = append(ls.List, ln)
		if ls.Port == 0 {
			ls.Port = ln.Addr().(*net.TCPAddr).Port
		}
	}
	return ls, nil
}

// expandHosts replaces a host name by every address it resolves to, so that
// "--bind localhost" answers on 127.0.0.1 and ::1 alike, as a browser may
// try either. Addresses stay as given; duplicates go.
func expandHosts(binds []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, b := range binds {
		addrs := []string{b}
		if _, err := netip.ParseAddr(b); err != nil && b != "" {
			if resolved, err := net.LookupHost(b); err == nil && len(resolved) > 0 {
				addrs = resolved
			}
		}
		for _, a := range addrs {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// ValidateBind checks a --bind value: an IP address or a host name.
func ValidateBind(b string) error {
	if b == "" {
		return errors.New("empty address")
	}
	if _, err := netip.ParseAddr(b); err == nil {
		return nil
	}
	if _, err := net.LookupHost(b); err != nil {
		return fmt.Errorf("%q is neither an IP address nor a known host name", b)
	}
	return nil
}

// URLs lists one base URL per address a peer can use: non-loopback IPv4,
// then IPv6, then localhost for listeners on every interface; the bound
// address for the others. Never 0.0.0.0 or [::].
func URLs(ls *Listeners, scheme string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(host string) {
		u := scheme + "://" + host + "/"
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	for _, ln := range ls.List {
		ip, p, ok := listenAddr(ln)
		if !ok {
			continue
		}
		port := strconv.Itoa(p)
		if !ip.IsUnspecified() {
			add(net.JoinHostPort(ip.String(), port))
			continue
		}
		v4only := ip.Is4()
		v4, v6 := interfaceAddrs()
		for _, a := range v4 {
			add(net.JoinHostPort(a.String(), port))
		}
		if !v4only {
			for _, a := range v6 {
				add(net.JoinHostPort(a.String(), port))
			}
		}
		add(net.JoinHostPort("localhost", port))
	}
	return out
}

// listenAddr is the IP (IPv4-mapped ones unmapped) and port a TCP
// listener is bound to.
func listenAddr(ln net.Listener) (netip.Addr, int, bool) {
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, 0, false
	}
	ip, _ := netip.AddrFromSlice(addr.IP)
	return ip.Unmap(), addr.Port, true
}

// interfaceAddrs returns the machine's non-loopback addresses a peer could
// reach: IPv4, and global IPv6 (link-local ones need a zone browsers do not take).
func interfaceAddrs() (v4, v6 []netip.Addr) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, nil
	}
	for _, a := range addrs {
		pfx, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(pfx.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		switch {
		case ip.IsLoopback(), ip.IsLinkLocalUnicast(), ip.IsMulticast(), ip.IsUnspecified():
		case ip.Is4():
			v4 = append(v4, ip)
		default:
			v6 = append(v6, ip)
		}
	}
	return v4, v6
}
