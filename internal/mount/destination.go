package mount

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/ferry-sh/ferry/internal/rootfs"
)

// DestinationError is a Destination header ferry refuses (400); its text is
// meant for clients.
type DestinationError struct{ Reason string }

func (e *DestinationError) Error() string { return e.Reason }

func refuse(reason string) error { return &DestinationError{reason} }

// Destination reads the Destination header of a MOVE or COPY (RFC 4918
// §10.3): an absolute URL on the host the request was sent to, or an
// absolute path, under the prefix the handler is mounted at. It returns the
// clean name relative to the served root ("." for the root itself).
//
// It is the one reading of the header: auth checks grants on the name it
// returns and write moves to that same name, so the two cannot disagree on
// what a Destination means (a prefix stripped by one and not the other let
// a grant on /pub reach outside it).
//
// The target is a name a client asks ferry to create, so it follows
// rootfs.ParseNewURLPath: empty and "." components are refused, not dropped.
func Destination(r *http.Request) (string, error) {
	raw := strings.TrimSpace(r.Header.Get("Destination"))
	if raw == "" {
		return "", refuse("Destination header missing")
	}
	return Resolve(r, raw)
}

// Resolve reads a URL of this server that a header names (a Destination,
// a WebDAV If header's resource tag) as Destination does.
func Resolve(r *http.Request, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", refuse("malformed Destination")
	}
	// "//host/x" and "//@/x" name an authority without a scheme: only a
	// full http(s) URL may name one.
	if u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(raw, "//") {
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return "", refuse("Destination must be an http(s) URL")
		}
		if !sameHost(u, r) {
			return "", refuse("Destination is on another host")
		}
	}
	p := u.EscapedPath()
	if u.Opaque != "" || !strings.HasPrefix(p, "/") {
		return "", refuse("Destination must be an absolute URL")
	}
	rest, ok := stripPrefix(p, Prefix(r))
	if !ok {
		return "", refuse("Destination is outside the served folder")
	}
	name, _, err := rootfs.ParseNewURLPath(rest)
	if err != nil {
		return "", refuse("invalid Destination path")
	}
	if name == rootfs.Reserved || strings.HasPrefix(name, rootfs.Reserved+"/") {
		return "", refuse("Destination is reserved")
	}
	return name, nil
}

// sameHost compares the Destination's host with the one the request was
// sent to, ignoring case and the scheme's default port.
func sameHost(u *url.URL, r *http.Request) bool {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return strings.EqualFold(hostPort(u.Host, u.Scheme), hostPort(r.Host, scheme))
}

func hostPort(host, scheme string) string {
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		return strings.TrimSuffix(host, ":80")
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		return strings.TrimSuffix(host, ":443")
	}
	return host
}

// stripPrefix removes the decoded prefix from an escaped path, cutting only
// where the escaped form decodes to exactly the prefix, so that a client's
// different but equivalent escaping still matches.
func stripPrefix(escaped, prefix string) (string, bool) {
	if prefix == "" {
		return escaped, true
	}
	for i := 1; i <= len(escaped); i++ {
		if i < len(escaped) && escaped[i] != '/' {
			continue
		}
		if d, err := url.PathUnescape(escaped[:i]); err == nil && d == prefix {
			rest := escaped[i:]
			if rest == "" {
				rest = "/"
			}
			return rest, true
		}
	}
	return "", false
}
