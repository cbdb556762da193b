package mount

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"
)

// destRequest is a MOVE as the handler sees it: sent as requestURI, with
// path left by http.StripPrefix.
func destRequest(requestURI, path, host, dest string) *http.Request {
	r := httptest.NewRequest("MOVE", "/", nil)
	r.RequestURI = requestURI
	r.URL.Path, r.URL.RawPath = path, ""
	r.Host = host
	r.Header.Set("Destination", dest)
	return r
}

func TestDestination(t *testing.T) {
	for _, tc := range []struct {
		name       string
		requestURI string // as sent by the client
		path       string // r.URL.Path as the handler sees it
		host       string
		dest       string
		want       string // "" means refused
	}{
		{"plain", "/a.txt", "/a.txt", "h:1", "http://h:1/b.txt", "b.txt"},
		{"path only", "/a.txt", "/a.txt", "h:1", "/d/b.txt", "d/b.txt"},
		{"escaped", "/a.txt", "/a.txt", "h:1", "http://h:1/x%20y/%C3%A9", "x y/é"},
		{"host case and port", "/a", "/a", "example.com", "http://EXAMPLE.com:80/b", "b"},
		{"folder", "/a/", "/a/", "h:1", "http://h:1/b/", "b"},
		{"missing", "/a", "/a", "h:1", "", ""},
		{"other host", "/a", "/a", "h:1", "http://evil:1/b", ""},
		{"other port", "/a", "/a", "h:1", "http://h:2/b", ""},
		{"ftp", "/a", "/a", "h:1", "ftp://h:1/b", ""},
		{"no host", "/a", "/a", "h:1", "http:///b", ""},
		{"opaque", "/a", "/a", "h:1", "http:b", ""},
		{"relative", "/a", "/a", "h:1", "b", ""},
		{"dotdot", "/a", "/a", "h:1", "http://h:1/../b", ""},
		{"encoded dotdot", "/a", "/a", "h:1", "http://h:1/%2e%2e/b", ""},
		{"encoded slash", "/a", "/a", "h:1", "http://h:1/x%2Fy", ""},
		{"empty component", "/a", "/a", "h:1", "http://h:1/x//y", ""},
		{"dot component", "/a", "/a", "h:1", "http://h:1/./y", ""},
		{"encoded dot component", "/a", "/a", "h:1", "http://h:1/x/%2e/y", ""},
		{"reserved", "/a", "/a", "h:1", "http://h:1/.ferry/x", ""},
		{"mounted", "/files/a.txt", "/a.txt", "h:1", "http://h:1/files/sub/b.txt", "sub/b.txt"},
		{"mounted, escaped prefix", "/my%20files/a", "/a", "h:1", "http://h:1/my files/b", "b"},
		{"mounted, prefix escaped otherwise", "/files/a", "/a", "h:1", "http://h:1/fil%65s/b", "b"},
		{"mounted, outside", "/files/a.txt", "/a.txt", "h:1", "http://h:1/other/b.txt", ""},
		{"mounted, prefix of a segment", "/files/a.txt", "/a.txt", "h:1", "http://h:1/filesx/b.txt", ""},
		{"mounted, root", "/files/a.txt", "/a.txt", "h:1", "http://h:1/files/", "."},
		{"mounted, prefix repeated", "/pub/pub/a.txt", "/pub/a.txt", "h:1", "http://h:1/pub/private/v.txt", "private/v.txt"},
		{"mounted, path only", "/pub/pub/a.txt", "/pub/a.txt", "h:1", "/pub/pub/b.txt", "pub/b.txt"},
		{"absolute-form request", "http://h:1/files/a", "/a", "h:1", "http://h:1/files/b", "b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Destination(destRequest(tc.requestURI, tc.path, tc.host, tc.dest))
			if tc.want == "" {
				if err == nil {
					t.Fatalf("accepted as %q", got)
				}
				if _, ok := err.(*DestinationError); !ok {
					t.Fatalf("error %T %v, want a *DestinationError", err, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// FuzzDestination checks the one Destination parser that auth and write
// share: whatever it accepts is a clean name inside the served root, outside
// /.ferry/, on the request's own host, and is what the header's path means
// once the mount prefix is taken off.
func FuzzDestination(f *testing.F) {
	for _, s := range []struct{ mount, dest string }{
		{"", "http://h:1/b.txt"}, {"", "/d/b.txt"}, {"", "http://h:1/../x"}, {"", "http://h:1/%2e%2e/x"},
		{"", "http://h:1//x"}, {"", "http://h:1/./x"}, {"", "http://evil/x"}, {"", "::"}, {"", "/.ferry/x"},
		{"/pub", "http://h:1/pub/private/v.txt"}, {"/pub", "/pub"}, {"/pub", "/pubx/a"}, {"/my files", "/my%20files/a"},
		{"/pub", "/p%75b/a"}, {"/pub", "http://h:1/pub/%2e%2e/x"}, {"/a/b", "/a/b/c/"},
	} {
		f.Add(s.mount, "/x.txt", s.dest)
	}
	f.Fuzz(func(t *testing.T, prefix, p, dest string) {
		// A mount prefix as http.StripPrefix would leave it: the client's
		// request path is prefix+path, the handler sees path.
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(prefix+p, "?#% \x00\r\n") {
			return
		}
		// A mount prefix is clean, like the --base-path ferry accepts.
		if prefix != "" && (!strings.HasPrefix(prefix, "/") || prefix == "/" || path.Clean(prefix) != prefix) {
			return
		}
		uri := (&url.URL{Path: prefix + p}).EscapedPath()
		name, err := Destination(destRequest(uri, p, "h:1", dest))
		if err != nil {
			if _, ok := err.(*DestinationError); !ok {
				t.Fatalf("Destination(%q) error %T %v", dest, err, err)
			}
			return
		}
		if name != "." {
			if strings.HasPrefix(name, "/") || path.Clean(name) != name {
				t.Fatalf("Destination(%q) = %q: not clean and relative", dest, name)
			}
			for seg := range strings.SplitSeq(name, "/") {
				if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "\\\x00") {
					t.Fatalf("Destination(%q) = %q: segment %q", dest, name, seg)
				}
			}
		}
		if name == ".ferry" || strings.HasPrefix(name, ".ferry/") {
			t.Fatalf("Destination(%q) = %q: reserved", dest, name)
		}
		u, err := url.Parse(strings.TrimSpace(dest))
		if err != nil {
			t.Fatalf("Destination(%q) accepted what does not parse", dest)
		}
		if host := strings.TrimSuffix(strings.TrimSuffix(u.Host, ":80"), ":443"); u.Host != "" && !strings.EqualFold(host, "h:1") {
			t.Fatalf("Destination(%q) accepted another host", dest)
		}
		// The decoded path is the mount prefix, then the name.
		want := prefix + "/" + name
		if name == "." {
			want = strings.TrimSuffix(prefix, "/")
		}
		if got := strings.TrimSuffix(u.Path, "/"); got != want {
			t.Fatalf("Destination(%q) under %q = %q, but the path is %q", dest, prefix, name, u.Path)
		}
	})
}
