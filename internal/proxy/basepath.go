package proxy

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ferry-sh/ferry/internal/httperr"
)

// CleanBasePath checks a --base-path value and returns it as "/a/b": a
// leading slash, none at the end, "" for the root. Each segment must be a
// plain name: the prefix is matched before any other check sees the path.
func CleanBasePath(p string) (string, error) {
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return "", nil
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("%q must start with /, as in /files", p)
	}
	for _, seg := range strings.Split(p[1:], "/") {
		switch {
		case seg == "", seg == ".", seg == "..":
			return "", fmt.Errorf("%q has an empty, . or .. segment", p)
		case strings.ContainsAny(seg, "?#%\\"), strings.IndexFunc(seg, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
			return "", fmt.Errorf("%q: use plain names without ?, #, %%, \\ or control characters", p)
		}
	}
	return p, nil
}

// Mount serves next under base (as CleanBasePath returns it): a request
// for base/x reaches next as /x, and next learns the prefix from the
// request target (internal/mount), so its links, redirects, pages and
// resumable-upload URLs carry it. base itself redirects to base/; other
// paths answer 404. An empty base returns next.
func Mount(base string, next http.Handler) http.Handler {
	if base == "" {
		return next
	}
	inner := http.StripPrefix(base, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "*":
			// OPTIONS * names no path (RFC 9110 §9.3.7).
			next.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, base+"/"):
			inner.ServeHTTP(w, r)
		case r.URL.Path == base:
			target := (&url.URL{Path: base + "/", RawQuery: r.URL.RawQuery}).String()
			http.Redirect(w, r, target, http.StatusMovedPermanently)
		default:
			httperr.Write(w, r, http.StatusNotFound, "ferry serves under "+base+"/")
		}
	})
}
