// Package qrcode draws QR codes of ferry's own URLs: as SVG for the listing
// page (generated here, no network) and as half blocks for the terminal.
package qrcode

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

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
// whose host is the request's Host, or a path on it.
func Target(u, host string, tls bool) (string, error) {
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
		if !strings.HasPrefix(p.Path, "/") || strings.HasPrefix(u, "//") {
			return "", errors.New("invalid URL")
		}
		p.Scheme = "http"
		if tls {
			p.Scheme = "https"
		}
		p.Host = host
	}
	if (p.Scheme != "http" && p.Scheme != "https") || p.User != nil || !strings.EqualFold(p.Host, host) || host == "" {
		return "", ErrForeign
	}
	p.Fragment = ""
	return p.String(), nil
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

// Serve answers /.ferry/qr.svg?u=URL.
func Serve(w http.ResponseWriter, r *http.Request) {
	u := r.URL.Query().Get("u")
	if strings.HasPrefix(u, "/") {
		// The page names folders relative to the handler; under a prefix the
		// URL a phone needs includes it.
		u = (&url.URL{Path: mount.Prefix(r)}).EscapedPath() + u
	}
	target, err := Target(u, r.Host, r.TLS != nil)
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
