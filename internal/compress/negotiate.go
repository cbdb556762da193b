// Package compress sends text-like responses compressed with zstd or gzip,
// as the client's Accept-Encoding prefers: listings, ferry's own assets and
// pages, and files whose type is text (HTML, CSS, JavaScript, JSON, SVG,
// XML, plain text, Markdown, CSV...). Everything else passes through the
// same writer untouched, sendfile included.
package compress

import (
	"strings"
)

// Codings ferry can send. Br is only ever sent precompressed (a file's
// .br sidecar): there is no Brotli encoder here.
const (
	Zstd = "zstd"
	Br   = "br"
	Gzip = "gzip"
)

// Negotiate picks, among offered codings (in the server's order of
// preference), the one Accept-Encoding rates highest; "" means identity.
// A coding rated q=0, or not named and not covered by "*", is never
// chosen; ties go to the earlier offer. Malformed elements are skipped, as
// RFC 9110 §5.6.1 lets a recipient do, so a bad header only costs
// compression, never the response.
func Negotiate(accept string, offered ...string) string {
	if accept == "" || len(offered) == 0 {
		return ""
	}
	var (
		best  string
		bestQ = 0
		star  = -1 // q of "*", -1 when absent
		named [8]int
	)
	for i := range named {
		named[i] = -1
	}
	for elem := range strings.SplitSeq(accept, ",") {
		coding, params, _ := strings.Cut(elem, ";")
		coding = strings.TrimSpace(coding)
		if coding == "" {
			continue
		}
		q, ok := parseQ(params)
		if !ok {
			continue
		}
		if coding == "*" {
			star = max(star, q)
			continue
		}
		for i, o := range offered {
			if i < len(named) && strings.EqualFold(coding, o) {
				named[i] = max(named[i], q)
			}
		}
	}
	for i, o := range offered {
		if i >= len(named) {
			break
		}
		q := named[i]
		if q < 0 {
			q = star
		}
		if q > bestQ {
			best, bestQ = o, q
		}
	}
	return best
}

// parseQ reads the parameters after a coding: a "q" weight as thousandths
// (1000 when absent). Other parameters are not defined for codings and are
// ignored. ok is false for a weight that is not a valid qvalue.
func parseQ(params string) (q int, ok bool) {
	q = 1000
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		v = strings.TrimSpace(v)
		// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
		if v == "" || len(v) > 5 || (v[0] != '0' && v[0] != '1') {
			return 0, false
		}
		n := int(v[0]-'0') * 1000
		if len(v) > 1 {
			if v[1] != '.' {
				return 0, false
			}
			scale := 100
			for _, c := range v[2:] {
				if c < '0' || c > '9' {
					return 0, false
				}
				n += int(c-'0') * scale
				scale /= 10
			}
		}
		if n > 1000 {
			return 0, false
		}
		q = n
	}
	return q, true
}

// textTypes are the media types worth compressing beyond text/*.
var textTypes = map[string]bool{
	"application/json":          true,
	"application/javascript":    true,
	"application/x-javascript":  true,
	"application/ecmascript":    true,
	"application/xml":           true,
	"application/xhtml+xml":     true,
	"application/rss+xml":       true,
	"application/atom+xml":      true,
	"application/manifest+json": true,
	"application/ld+json":       true,
	"application/geo+json":      true,
	"application/x-ndjson":      true,
	"application/toml":          true,
	"application/yaml":          true,
	"application/x-yaml":        true,
	"application/wasm":          true,
	"application/x-sh":          true,
	"image/svg+xml":             true,
	"image/x-icon":              true,
	"image/bmp":                 true,
}

// Compressible reports whether a body of this Content-Type shrinks when
// compressed: text and the structured text formats. Types that are
// compressed already (images, audio, video, archives, PDF) are not, nor is
// text/event-stream, whose events must leave as they are written.
func Compressible(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "" {
		return false
	}
	if strings.HasPrefix(mt, "text/") {
		return mt != "text/event-stream"
	}
	if textTypes[mt] {
		return true
	}
	return strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml")
}
