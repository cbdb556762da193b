package rootfs

import (
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
		"/a%2fb", "/..%5cx", "/a\\b", "/a%00b", "/%252e%252e/x", "/%c0%ae%c0%ae/x", "/%zz", "", "x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, escaped string) {
		name, _, err := ParseURLPath(escaped)
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
