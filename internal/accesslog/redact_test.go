package accesslog

import (
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
		{"/.ferry/s/" + tok + "/.ferry/s/" + tok, "/.ferry/s/pXYvmq2HQyEXEomu-redacted/.ferry/s/pXYvmq2HQyEXEomu-redacted"},
	} {
		if got := RedactLinks(c.in); got != c.want {
			t.Errorf("RedactLinks(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
