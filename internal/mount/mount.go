// Package mount tells where a handler is mounted: the part of the request
// path a surrounding mux (http.StripPrefix) took away.
package mount

import (
	"net/http"
	"net/url"
	"strings"
)

// Prefix is the decoded part of the request path that sits in front
// of what the handler sees: http.StripPrefix trims r.URL.Path but leaves
// r.RequestURI as the client sent it.
func Prefix(r *http.Request) string {
	uri := r.RequestURI
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	if uri == "" || uri == "*" {
		return ""
	}
	if !strings.HasPrefix(uri, "/") {
		// The absolute form (RFC 9112 §3.2.2), as sent to proxies.
		u, err := url.Parse(uri)
		if err != nil {
			return ""
		}
		uri = u.EscapedPath()
	}
	full, err := url.PathUnescape(uri)
	if err != nil || !strings.HasSuffix(full, r.URL.Path) {
		return ""
	}
	return full[:len(full)-len(r.URL.Path)]
}
