package auth

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/ferry-sh/ferry/internal/rootfs"
)

// Access is what a request's client may read of the tree, for pages that
// report on other clients' transfers (the status page): such a page must
// never show a client what its grants do not let it read.
type Access struct {
	grants  []grant
	readAll bool // --auth-anon-read: anyone may read every path
}

// Access re-derives the access of the request's credentials. It is meant
// for requests the middleware let through, so a success is usually found
// in the cache; credentials that do not verify give no access at all.
func (c *Checker) Access(r *http.Request) Access {
	a := Access{readAll: c.anonRead}
	user, pass, ok := ParseBasic(r.Header.Get("Authorization"))
	if !ok {
		return a
	}
	grants, ok := c.cached(c.key(user, pass), c.now())
	if !ok {
		var err error
		if grants, err = c.verify(r.Context(), user, pass); err != nil {
			return a
		}
	}
	a.grants = grants
	return a
}

// Reads reports whether the client may read the decoded URL path p. Paths
// under /.ferry/ (uploads in progress, ferry's own pages) count as the
// root's.
func (a Access) Reads(p string) bool {
	if a.readAll {
		return true
	}
	name, _, err := rootfs.ParseURLPath((&url.URL{Path: p}).EscapedPath())
	if err != nil || name == rootfs.Reserved || strings.HasPrefix(name, rootfs.Reserved+"/") {
		name = "."
	}
	return covers(a.grants, name, false)
}

// Whole reports whether the credentials carry a grant on the root, the
// only ones that may see who the other clients are.
func (a Access) Whole() bool { return covers(a.grants, ".", false) }
