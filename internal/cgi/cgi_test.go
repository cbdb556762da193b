package cgi

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ferry-sh/ferry/internal/rootfs"
)

func TestParseStatus(t *testing.T) {
	for _, c := range []struct {
		in   string
		code int
		ok   bool
	}{
		{"418 I'm a teapot", 418, true},
		{"200", 200, true},
		{" 302 Found ", 302, true},
		{"599", 599, true},
		{"100 Continue", 0, false},
		{"600", 0, false},
		{"20", 0, false},
		{"2000", 0, false},
		{"abc", 0, false},
		{"", 0, false},
		{"+20", 0, false},
	} {
		code, err := ParseStatus(c.in)
		if (err == nil) != c.ok || code != c.code {
			t.Errorf("ParseStatus(%q) = %d, %v", c.in, code, err)
		}
	}
}

func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{"418 I'm a teapot", "200", "", "999", "-01", "1e2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, err := ParseStatus(s)
		if err == nil && (code < 200 || code > 599) {
			t.Fatalf("ParseStatus(%q) accepted %d", s, code)
		}
	})
}

func TestMatch(t *testing.T) {
	folders, err := Folders([]string{"/tools/run/", "CGI-BIN"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(folders, ",") != "cgi-bin,htbin,tools/run" {
		t.Fatalf("Folders = %q", folders)
	}
	h := New(nil, Options{Folders: folders})
	for name, want := range map[string]bool{
		"cgi-bin": true, "cgi-bin/x": true, "CGI-BIN/x": true, "cgi-binx": false,
		"x/cgi-bin/y": false, ".": false, "cgi": false,
		"htbin/x.sh": true, "HTBIN": true, "htbin2/x": false,
		"tools/run/x": true, "Tools/Run": true, "tools": false, "tools/other": false, "tools/runner/x": false,
	} {
		if h.Match(name) != want {
			t.Errorf("Match(%q) = %v", name, !want)
		}
	}
}

func TestCleanDir(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"/scripts/", "scripts", true},
		{"tools/bin", "tools/bin", true},
		{"./a//b/.", "a/b", true},
		{".hidden", ".hidden", true},
		{"/", "", false},
		{"", "", false},
		{".", "", false},
		{"../x", "", false},
		{"a/../b", "", false},
		{"a\\b", "", false},
		{"a\x00b", "", false},
		{"/.ferry/x", "", false},
		{".ferry-part-x", "", false},
	} {
		got, err := CleanDir(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("CleanDir(%q) = %q, %v", c.in, got, err)
		}
	}
}

func FuzzCleanDir(f *testing.F) {
	for _, s := range []string{"/scripts/", "a/../b", "", ".ferry", "x\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := CleanDir(s)
		if err != nil {
			return
		}
		// A folder of the tree, below its top, in the form ParseURLPath
		// gives requests: otherwise Match and the policy would miss it.
		var escaped strings.Builder
		for comp := range strings.SplitSeq(d, "/") {
			escaped.WriteString("/" + url.PathEscape(comp))
		}
		name, _, perr := rootfs.ParseURLPath(escaped.String())
		if perr != nil || name != d || d == "." {
			t.Fatalf("CleanDir(%q) = %q, which a request path cannot name (%q, %v)", s, d, name, perr)
		}
	})
}

func TestEnvHeaders(t *testing.T) {
	r := httptest.NewRequest("FUNC", "/cgi-bin/s/x?a=1", nil)
	r.Header.Set("Proxy", "http://evil:1")
	r.Header.Set("X_Forwarded_For", "spoofed")
	r.Header.Set("Authorization", "Basic YWxpY2U6cHc=")
	r.Header.Add("Cookie", "a=1")
	r.Header.Add("Cookie", "b=2")
	env := strings.Join(Env(r, "bob", "/cgi-bin/s", "/x", "/srv/cgi-bin/s", 0), "\n") + "\n"
	for _, want := range []string{"REQUEST_METHOD=FUNC\n", "PATH_INFO=/x\n", "QUERY_STRING=a=1\n",
		"SCRIPT_NAME=/cgi-bin/s\n", "HTTP_COOKIE=a=1; b=2\n", "REMOTE_USER=bob\n", "AUTH_TYPE=Basic\n", "SERVER_SOFTWARE=ferry/"} {
		if !strings.Contains(env, want) {
			t.Errorf("env lacks %q:\n%s", want, env)
		}
	}
	for _, bad := range []string{"HTTP_PROXY=", "HTTP_X_FORWARDED_FOR=", "HTTP_AUTHORIZATION=", "CONTENT_LENGTH="} {
		if strings.Contains(env, bad) {
			t.Errorf("env has %q:\n%s", bad, env)
		}
	}
	// The header alone, unverified (no --auth), names nobody.
	env = strings.Join(Env(r, "", "/cgi-bin/s", "/x", "/srv/cgi-bin/s", 0), "\n")
	if strings.Contains(env, "REMOTE_USER") || strings.Contains(env, "AUTH_TYPE") {
		t.Errorf("unverified credentials reached the script:\n%s", env)
	}
}

func TestLineLogger(t *testing.T) {
	var buf bytes.Buffer
	l := &lineLogger{log: slog.New(slog.NewTextHandler(&buf, nil)).With("script", "/cgi-bin/s")}
	l.Write([]byte("one\r\ntw"))
	l.Write([]byte("o\nthree"))
	l.Write(bytes.Repeat([]byte("x"), maxStderrLine+10))
	l.Close()
	out := buf.String()
	if n := strings.Count(out, "msg=\"cgi stderr\""); n != 4 {
		t.Fatalf("%d records, want 4:\n%s", n, out)
	}
	for _, want := range []string{"line=one\n", "line=two\n", "script=/cgi-bin/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
}
