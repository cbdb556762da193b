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
	"strings"
	"syscall"
)

// Listeners holds the sockets ferry serves on.
type Listeners struct {
	List []net.Listener
	// Packet holds the UDP sockets for HTTP/3 (ListenQUIC), if any.
	Packet []net.PacketConn
	Port   int
	// FellBack reports that the default port was taken and another was picked.
	FellBack bool
}

// Close closes them all.
func (l *Listeners) Close() {
	for _, ln := range l.List {
		ln.Close()
	}
	for _, pc := range l.Packet {
		pc.Close()
	}
}

// fallbackPorts is how many ports after a taken default port are tried
// before a random one: a user who finds ferry on 8001 can guess why.
const fallbackPorts = 10

// Listen opens one listener per bind address on port, or one on every
// interface (IPv4 and IPv6) when binds is empty. When explicit is false and
// the port is taken, the next ports (up to fallbackPorts of them) are tried
// in order, then a free port is picked.
func Listen(binds []string, port int, explicit bool) (*Listeners, error) {
	binds, unix := splitUnix(binds)
	if len(unix) == 0 {
		return listenTCP(binds, port, explicit)
	}
	// Only Unix sockets: no TCP port at all.
	ls := &Listeners{}
	if len(binds) > 0 {
		var err error
		if ls, err = listenTCP(binds, port, explicit); err != nil {
			return nil, err
		}
	}
	for _, p := range unix {
		ln, err := ListenUnix(p)
		if err != nil {
			ls.Close()
			return nil, &net.OpError{Op: "listen", Net: "unix", Addr: &net.UnixAddr{Name: p, Net: "unix"}, Err: err}
		}
		ls.List = append(ls.List, ln)
	}
	return ls, nil
}

func listenTCP(binds []string, port int, explicit bool) (*Listeners, error) {
	ls, err := listenAll(binds, port)
	if err == nil || explicit || port == 0 || !errors.Is(err, syscall.EADDRINUSE) {
		return ls, err
	}
	for p := port + 1; p <= port+fallbackPorts && p <= 65535; p++ {
		ls, err = listenAll(binds, p)
		if err == nil {
			ls.FellBack = true
			return ls, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, err
		}
	}
	ls, err = listenAll(binds, 0)
	if err == nil {
		ls.FellBack = true
	}
	return ls, err
}

// listenAll opens a listener on port for every bind. With port 0 the
// first listener picks the port and the others take the same one; should
// one of them find it taken, a few fresh picks are tried.
func listenAll(binds []string, port int) (*Listeners, error) {
	var err error
	for range 5 {
		var ls *Listeners
		ls, err = listenOnce(binds, port)
		if err == nil || port != 0 || !errors.Is(err, syscall.EADDRINUSE) {
			return ls, err
		}
	}
	return nil, err
}

func listenOnce(binds []string, port int) (*Listeners, error) {
	if len(binds) == 0 {
		binds = []string{""}
	}
	ls := &Listeners{Port: port}
	for _, b := range expandHosts(binds) {
		ln, err := net.Listen("tcp", net.JoinHostPort(b.addr, strconv.Itoa(ls.Port)))
		if err != nil {
			if b.optional && unavailable(err) {
				continue
			}
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

// unavailable reports an address family or address this machine lacks,
// such as ::1 on a host with IPv6 turned off.
func unavailable(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT) ||
		errors.Is(err, syscall.EPROTONOSUPPORT)
}

type bindAddr struct {
	addr string
	// optional addresses are skipped when the machine lacks them.
	optional bool
}

// expandHosts replaces a host name by every address it resolves to.
// "localhost" is always both loopbacks, 127.0.0.1 and ::1 (the second when
// the machine has IPv6), whatever /etc/hosts says: RFC 6761 §6.3 reserves
// the name for loopback, and a browser may try either address. Addresses
// stay as given; duplicates go.
func expandHosts(binds []string) []bindAddr {
	var out []bindAddr
	seen := map[string]bool{}
	add := func(a string, optional bool) {
		if !seen[a] {
			seen[a] = true
			out = append(out, bindAddr{a, optional})
		}
	}
	for _, b := range binds {
		if isLocalhost(b) {
			add("127.0.0.1", false)
			add("::1", true)
			continue
		}
		addrs := []string{b}
		if _, err := netip.ParseAddr(b); err != nil && b != "" {
			if resolved, err := net.LookupHost(b); err == nil && len(resolved) > 0 {
				addrs = resolved
			}
		}
		for _, a := range addrs {
			add(a, false)
		}
	}
	return out
}

func isLocalhost(host string) bool {
	return strings.EqualFold(strings.TrimSuffix(host, "."), "localhost")
}

// ValidateBind checks a --bind value: an IP address, a host name or
// unix:PATH.
func ValidateBind(b string) error {
	if b == "" {
		return errors.New("empty address")
	}
	if p, ok := UnixPath(b); ok {
		if p == "" {
			return errors.New("unix: needs the socket's path, as in unix:/run/ferry.sock")
		}
		return nil
	}
	if _, err := netip.ParseAddr(b); err == nil || isLocalhost(b) {
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
