// Package qrcode draws QR codes of ferry's own URLs: as SVG for the listing
// page (generated here, no network) and as half blocks for the terminal.
package qrcode

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/mdp/qrterminal/v3"
	"rsc.io/qr"

	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/mount"
)

// maxURL bounds what is encoded: a QR code of a longer URL is too dense to
// scan from a screen anyway.
const maxURL = 1024

// Terminal writes a QR code of u in half blocks: two rows of modules per line
// of text, so it fits a terminal; light on dark and dark on light both scan
// because the quiet zone is drawn.
func Terminal(w io.Writer, u string) {
	qrterminal.GenerateWithConfig(u, qrterminal.Config{
		Level:          qrterminal.L,
		Writer:         w,
		HalfBlocks:     true,
		BlackChar:      qrterminal.BLACK_BLACK,
		WhiteBlackChar: qrterminal.WHITE_BLACK,
		WhiteChar:      qrterminal.WHITE_WHITE,
		BlackWhiteChar: qrterminal.BLACK_WHITE,
		QuietZone:      2,
	})
}

// ErrForeign refuses URLs that do not point at this server: the endpoint
// must not turn ferry into a QR code generator for arbitrary links.
var ErrForeign = errors.New("only URLs of this server are drawn")

// Target resolves the u parameter of a QR request: an absolute http(s) URL
// whose host is the request's Host or the host of one of the server's own
// URLs (links), or a path on the request's Host.
func Target(u, host string, tls bool, links []string) (string, error) {
	if u == "" || len(u) > maxURL {
		return "", errors.New("missing or too long URL")
	}
	if strings.ContainsAny(u, "\x00\r\n\t\\") {
		return "", errors.New("invalid URL")
	}
	p, err := url.Parse(u)
	if err != nil {
		return "", errors.New("invalid URL")
	}
	if p.Scheme == "" && p.Host == "" {
		if !strings.HasPrefix(p.Path, "/") || strings.HasPrefix(u, "//") || host == "" {
			return "", errors.New("invalid URL")
		}
		p.Scheme = "http"
		if tls {
			p.Scheme = "https"
		}
		p.Host = host
	}
	if (p.Scheme != "http" && p.Scheme != "https") || p.User != nil || !ownHost(p, host, links) {
		return "", ErrForeign
	}
	p.Fragment = ""
	return p.String(), nil
}

// ownHost reports whether p points at this server: the host the request
// named, or the scheme and host of one of its own URLs.
func ownHost(p *url.URL, host string, links []string) bool {
	if host != "" && strings.EqualFold(p.Host, host) {
		return true
	}
	for _, l := range links {
		o, err := url.Parse(l)
		if err == nil && o.Host != "" && strings.EqualFold(o.Scheme, p.Scheme) && strings.EqualFold(o.Host, p.Host) {
			return true
		}
	}
	return false
}

// Links holds the server's own URLs ("http://192.168.1.5:8000/"), best
// first, as the banner prints them. They are known only once the listeners
// are, after the handler was made, hence Set. The zero value knows none.
type Links struct{ urls atomic.Pointer[[]string] }

// Set records the server's URLs.
func (l *Links) Set(urls []string) {
	c := append([]string(nil), urls...)
	l.urls.Store(&c)
}

func (l *Links) list() []string {
	if l == nil {
		return nil
	}
	if p := l.urls.Load(); p != nil {
		return *p
	}
	return nil
}

// reachable is the scheme and host of the first URL another machine can use
// (not loopback), "" when there is none.
func (l *Links) reachable() string {
	for _, u := range l.list() {
		p, err := url.Parse(u)
		if err == nil && p.Host != "" && !IsLoopbackHost(p.Host) {
			return p.Scheme + "://" + p.Host
		}
	}
	return ""
}

// PageURL is what the listing's QR code of the folder at path (relative to
// the handler's mount, "/docs/") encodes. A page opened through a loopback
// name would hand a phone http://localhost:8000/, which leads the phone to
// itself: then it is the same folder at the first address other machines
// can reach, when the server has one. Otherwise it is path, which Serve
// resolves against the request's own host.
func (l *Links) PageURL(r *http.Request, path string) string {
	if IsLoopbackHost(r.Host) {
		if base := l.reachable(); base != "" {
			return base + (&url.URL{Path: mount.Prefix(r) + path}).EscapedPath()
		}
	}
	return path
}

// IsLoopbackHost reports whether a Host header value ("localhost:8000",
// "127.0.0.1", "[::1]:80") names this machine's loopback interface.
func IsLoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// SVG renders a QR code of text as a standalone SVG document: one path, so
// it stays small and needs neither script nor style.
func SVG(text string) ([]byte, error) {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, err
	}
	const quiet = 4
	n := c.Size + 2*quiet
	var b strings.Builder
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 `)
	b.WriteString(strconv.Itoa(n) + " " + strconv.Itoa(n))
	b.WriteString(`" width="` + strconv.Itoa(n*6) + `" height="` + strconv.Itoa(n*6))
	b.WriteString(`" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="`)
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; {
			if !c.Black(x, y) {
				x++
				continue
			}
			start := x
			for x < c.Size && c.Black(x, y) {
				x++
			}
			b.WriteString("M" + strconv.Itoa(start+quiet) + " " + strconv.Itoa(y+quiet) + "h" + strconv.Itoa(x-start) + "v1h-" + strconv.Itoa(x-start) + "z")
		}
	}
	b.WriteString(`"/></svg>` + "\n")
	return []byte(b.String()), nil
}

// Serve answers /.ferry/qr.svg?u=URL. A URL on one of the server's own
// addresses is drawn even when the request came through another (the page
// on localhost shows the LAN address); any other host is refused.
func (l *Links) Serve(w http.ResponseWriter, r *http.Request) {
	u := r.URL.Query().Get("u")
	if strings.HasPrefix(u, "/") {
		// The page names folders relative to the handler; under a prefix the
		// URL a phone needs includes it.
		u = (&url.URL{Path: mount.Prefix(r)}).EscapedPath() + u
	}
	target, err := Target(u, r.Host, r.TLS != nil, l.list())
	if err != nil {
		httperr.Write(w, r, http.StatusBadRequest, err.Error())
		return
	}
	svg, err := SVG(target)
	if err != nil {
		httperr.Write(w, r, http.StatusBadRequest, "URL too long for a QR code")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("Content-Length", strconv.Itoa(len(svg)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(svg)
	}
}
