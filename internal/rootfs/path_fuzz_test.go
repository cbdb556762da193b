package rootfs

import (
	"errors"
	"net/url"
	"path"
	"strings"
	"testing"
)

// FuzzParseURLPath checks that no escaped request path turns into a name
// that could leave the root: whatever ParseURLPath accepts is clean,
// relative, free of ".." segments, backslashes and NUL bytes, and is what
// the path means once decoded.
func FuzzParseURLPath(f *testing.F) {
	for _, s := range []string{
		"/", "/a/b.txt", "/a/", "//a//b", "/./a", "/../x", "/%2e%2e/x", "/%2E%2e/x", "/.%2e/x",
		"/a%2fb", "/..%5cx", "/a\\b", "/a%00b", "/%252e%252e/x", "/%c0%ae%c0%ae/x", "/%zz", "", "x", "/a//b", "/./x", "/sub/./x", "/newdir/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, escaped string) {
		name, dir, err := ParseURLPath(escaped)
		// The strict form for new names accepts a subset, with the same
		// result, and refuses the rest as ErrBadName only where the
		// lenient form accepts.
		sname, sdir, serr := ParseNewURLPath(escaped)
		switch {
		case serr == nil && (err != nil || sname != name || sdir != dir):
			t.Fatalf("ParseNewURLPath(%q) = %q, %v; ParseURLPath = %q, %v, %v", escaped, sname, sdir, name, dir, err)
		case errors.Is(serr, ErrBadName) && err != nil:
			t.Fatalf("ParseNewURLPath(%q) = ErrBadName, ParseURLPath = %v", escaped, err)
		case errors.Is(serr, ErrBadPath) && err == nil:
			t.Fatalf("ParseNewURLPath(%q) = ErrBadPath, ParseURLPath accepted %q", escaped, name)
		case serr == nil:
			if dec, _ := url.PathUnescape(strings.TrimSuffix(escaped, "/")); name != "." && dec != "/"+name {
				t.Fatalf("ParseNewURLPath(%q) = %q, decoded %q", escaped, name, dec)
			}
		}
		if err != nil {
			return
		}
		if name == "." {
			return
		}
		if strings.HasPrefix(name, "/") || path.Clean(name) != name {
			t.Fatalf("ParseURLPath(%q) = %q: not clean and relative", escaped, name)
		}
		for seg := range strings.SplitSeq(name, "/") {
			if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "\\\x00") {
				t.Fatalf("ParseURLPath(%q) = %q: segment %q", escaped, name, seg)
			}
		}
		// The name is the decoded path with empty and "." segments dropped.
		dec, err := url.PathUnescape(escaped)
		if err != nil {
			t.Fatalf("ParseURLPath(%q) accepted what does not decode", escaped)
		}
		var want []string
		for seg := range strings.SplitSeq(dec, "/") {
			if seg != "" && seg != "." {
				want = append(want, seg)
			}
		}
		if strings.Join(want, "/") != name {
			t.Fatalf("ParseURLPath(%q) = %q, decoded %q", escaped, name, dec)
		}
	})
}
