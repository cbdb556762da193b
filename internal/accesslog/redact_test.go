package accesslog

import (
	"strings"
	"testing"

	"github.com/ferry-sh/ferry/internal/sharelink"
)

// A share link's token opens what it shares: the log keeps the link's ID
// and drops the rest, in paths, request targets and Referer URLs.
func TestRedactLinks(t *testing.T) {
	if linkPrefix != sharelink.Prefix {
		t.Fatalf("linkPrefix %q, sharelink serves links at %q", linkPrefix, sharelink.Prefix)
	}
	const tok = "pXYvmq2HQyEXEomuAAAAAGsXit4AAAAA.myibeVjNr3-bKw64rwnCPg"
	for _, c := range []struct{ in, want string }{
		{"/docs/a.txt", "/docs/a.txt"},
		{"/.ferry/s/" + tok + "/", "/.ferry/s/pXYvmq2HQyEXEomu-redacted/"},
		{"/.ferry/s/" + tok, "/.ferry/s/pXYvmq2HQyEXEomu-redacted"},
		{"/.ferry/s/" + tok + "/a%20b.jpg?thumb", "/.ferry/s/pXYvmq2HQyEXEomu-redacted/a%20b.jpg?thumb"},
		{"/.ferry/s/" + tok + "?zip", "/.ferry/s/pXYvmq2HQyEXEomu-redacted?zip"},
		{"http://127.0.0.1:8000/base/.ferry/s/" + tok + "/sub/", "http://127.0.0.1:8000/base/.ferry/s/pXYvmq2HQyEXEomu-redacted/sub/"},
		{"/.ferry/s/short/", "/.ferry/s/short/"},
		{"/.ferry/s/", "/.ferry/s/"},
		{"/.ferry/s/.ferry/s/" + tok + "/x", "/.ferry/s/.ferry/s/pXYvmq2HQyEXEomu-redacted/x"},
		{"/.ferry/s/" + tok + "/.ferry/s/" + tok, "/.ferry/s/pXYvmq2HQyEXEomu-redacted/.ferry/s/pXYvmq2HQyEXEomu-redacted"},
	} {
		if got := RedactLinks(c.in); got != c.want {
			t.Errorf("RedactLinks(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzRedactLinks: whatever a client sends, redaction never panics, is
// stable (a redacted line redacted again is unchanged), and leaves no
// character of a token past its ID.
func FuzzRedactLinks(f *testing.F) {
	f.Add("/.ferry/s/pXYvmq2HQyEXEomuAAAAAGsXit4AAAAA.myibeVjNr3-bKw64rwnCPg/a.jpg?thumb", "x")
	f.Add("/a/.ferry/s//.ferry/s/", "")
	f.Add("http://h/.ferry/s/%2e%2e/x#frag", "zz")
	f.Fuzz(func(t *testing.T, s, secret string) {
		got := RedactLinks(s)
		if again := RedactLinks(got); again != got {
			t.Fatalf("RedactLinks(%q) = %q, then %q", s, got, again)
		}
		// A token-like segment after the prefix loses all but its ID.
		if strings.ContainsAny(secret, "/?#") || len(secret) == 0 {
			return
		}
		tok := "0123456789abcdef" + secret
		out := RedactLinks(s + linkPrefix + tok + "/x")
		if !strings.HasSuffix(out, linkPrefix+"0123456789abcdef-redacted/x") {
			t.Fatalf("token %q kept in %q", tok, out)
		}
	})
}
