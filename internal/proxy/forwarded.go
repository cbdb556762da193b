package proxy

import (
	"net/netip"
	"strconv"
	"strings"
)

// hop is what one proxy says about the request it passed on: the client
// it received it from (for), and the host and protocol the request had
// there. Empty fields are unknown.
type hop struct {
	forValid bool
	for_     netip.AddrPort // port 0 when not given
	host     string
	proto    string
}

// parseForwarded reads the Forwarded header's elements (RFC 7239 §4), one
// per proxy, first proxy first. ok is false when a value breaks the
// grammar: a header a client could have tampered with is then not trusted
// at all.
func parseForwarded(values []string) (hops []hop, ok bool) {
	for _, v := range values {
		for len(v) > 0 {
			var h hop
			var done bool
			// forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
			for {
				v = strings.TrimLeft(v, " \t")
				if v == "" || v[0] == ',' {
					break
				}
				if v[0] == ';' {
					v = v[1:]
					continue
				}
				eq := strings.IndexByte(v, '=')
				if eq <= 0 || !isToken(v[:eq]) {
					return nil, false
				}
				name := strings.ToLower(v[:eq])
				v = v[eq+1:]
				var val string
				if val, v, done = value(v); !done {
					return nil, false
				}
				switch name {
				case "for":
					h.for_, h.forValid = nodeAddr(val)
				case "host":
					h.host = val
				case "proto":
					h.proto = strings.ToLower(val)
				}
				v = strings.TrimLeft(v, " \t")
				if v != "" && v[0] != ';' && v[0] != ',' {
					return nil, false
				}
			}
			hops = append(hops, h)
			if v != "" {
				v = v[1:] // the ','
			}
		}
	}
	return hops, true
}

// value reads a token or a quoted-string (RFC 9110 §5.6.4), returning it
// unquoted and what follows.
func value(s string) (val, rest string, ok bool) {
	if s == "" {
		return "", "", false
	}
	if s[0] != '"' {
		i := 0
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		if i == 0 {
			return "", "", false
		}
		return s[:i], s[i:], true
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return b.String(), s[i+1:], true
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c < 0x20 && c != '\t', c == 0x7f:
			return "", "", false
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}

// nodeAddr reads a Forwarded "for" node (RFC 7239 §6): an IPv4 address or
// a bracketed IPv6 one, optionally with a port. "unknown" and obfuscated
// identifiers ("_hidden") name no address.
func nodeAddr(node string) (netip.AddrPort, bool) {
	host, port := node, ""
	if strings.HasPrefix(node, "[") {
		end := strings.IndexByte(node, ']')
		if end < 0 {
			return netip.AddrPort{}, false
		}
		host, port = node[1:end], node[end+1:]
		if port != "" {
			if port[0] != ':' {
				return netip.AddrPort{}, false
			}
			port = port[1:]
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return netip.AddrPort{}, false
		}
		return withPort(ip, port)
	}
	if i := strings.IndexByte(node, ':'); i >= 0 {
		host, port = node[:i], node[i+1:]
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Is4() {
		return netip.AddrPort{}, false
	}
	return withPort(ip, port)
}

func withPort(ip netip.Addr, port string) (netip.AddrPort, bool) {
	if port == "" {
		return netip.AddrPortFrom(ip, 0), true
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		// An obfuscated port ("_abc") still leaves a known address.
		if strings.HasPrefix(port, "_") {
			return netip.AddrPortFrom(ip, 0), true
		}
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip, uint16(n)), true
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return s != ""
}

// isTokenChar is tchar of RFC 9110 §5.6.2.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// parseXFF reads X-Forwarded-For: addresses, client first, each proxy
// appending the one it received from. ok is false when an entry is not an
// address.
func parseXFF(values []string) (addrs []netip.Addr, ok bool) {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(part, "["), "]"))
			if err != nil {
				// Some proxies add the port ("1.2.3.4:5678", "[::1]:80").
				ap, err2 := netip.ParseAddrPort(part)
				if err2 != nil {
					return nil, false
				}
				ip = ap.Addr()
			}
			addrs = append(addrs, ip.WithZone("").Unmap())
		}
	}
	return addrs, true
}

// lastValue is the last comma-separated value of a header: the one the
// nearest proxy, the trusted one, set.
func lastValue(values []string) string {
	if len(values) == 0 {
		return ""
	}
	v := values[len(values)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}
