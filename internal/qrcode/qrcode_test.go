package qrcode

import (
	"bytes"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestTarget(t *testing.T) {
	for _, c := range []struct {
		u, host string
		tls     bool
		want    string // "" = refused
	}{
		{"/docs/", "h:8000", false, "http://h:8000/docs/"},
		{"/docs/", "h:8000", true, "https://h:8000/docs/"},
		{"http://h:8000/a%20b/", "h:8000", false, "http://h:8000/a%20b/"},
		{"http://H:8000/x#frag", "h:8000", false, "http://H:8000/x"},
		{"http://evil.example/", "h:8000", false, ""},
		{"//evil.example/", "h:8000", false, ""},
		{"javascript:alert(1)", "h:8000", false, ""},
		{"http://user@h:8000/", "h:8000", false, ""},
		{"docs/", "h:8000", false, ""},
		{"", "h:8000", false, ""},
		{"/" + strings.Repeat("a", 2000), "h:8000", false, ""},
		{"/x", "", false, ""},
		// The server's own addresses are its own, whichever one the
		// request came through; the scheme must match too.
		{"http://192.0.2.7:8000/docs/", "localhost:8000", false, "http://192.0.2.7:8000/docs/"},
		{"https://192.0.2.7:8000/docs/", "localhost:8000", false, ""},
		{"http://192.0.2.8:8000/docs/", "localhost:8000", false, ""},
	} {
		got, err := Target(c.u, c.host, c.tls, []string{"http://192.0.2.7:8000/", "http://localhost:8000/"})
		if (err != nil) != (c.want == "") || got != c.want {
			t.Errorf("Target(%q, %q) = %q, %v; want %q", c.u, c.host, got, err, c.want)
		}
	}
}

func TestSVG(t *testing.T) {
	svg, err := SVG("http://192.0.2.1:8000/docs/")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(svg, []byte("<svg ")) || !bytes.Contains(svg, []byte(`<path fill="#000" d="M`)) {
		t.Errorf("not an SVG QR code: %.200s", svg)
	}
	var buf bytes.Buffer
	Terminal(&buf, "http://192.0.2.1:8000/")
	if !strings.Contains(buf.String(), "▀") || strings.Contains(buf.String(), "\x1b") {
		t.Errorf("terminal QR not in half blocks or has escapes: %q", buf.String())
	}
}

func FuzzTarget(f *testing.F) {
	for _, s := range []string{"/", "/docs/", "http://h:1/x", "//x/", "http://h:1@evil/", "\\\\evil", "http://192.0.2.7:8000/a/", "HTTP://192.0.2.7:8000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		got, err := Target(u, "h:1", false, []string{"http://192.0.2.7:8000/"})
		if err != nil {
			return
		}
		p, perr := url.Parse(got)
		own := strings.EqualFold(p.Host, "h:1") || p.Scheme == "http" && strings.EqualFold(p.Host, "192.0.2.7:8000")
		if perr != nil || !own || (p.Scheme != "http" && p.Scheme != "https") || p.User != nil {
			t.Fatalf("Target(%q) = %q leads off this server", u, got)
		}
	})
}

func TestPageURL(t *testing.T) {
	var none Links
	var lan Links
	lan.Set([]string{"http://192.0.2.7:8000/", "http://[2001:db8::7]:8000/", "http://localhost:8000/"})
	var loopOnly Links
	loopOnly.Set([]string{"http://127.0.0.1:8000/", "http://localhost:8000/"})
	for _, c := range []struct {
		name  string
		links *Links
		host  string
		want  string
	}{
		{"localhost gets the LAN address", &lan, "localhost:8000", "http://192.0.2.7:8000/a%20b/"},
		{"127.0.0.1 too", &lan, "127.0.0.1:8000", "http://192.0.2.7:8000/a%20b/"},
		{"and [::1]", &lan, "[::1]:8000", "http://192.0.2.7:8000/a%20b/"},
		{"a LAN host keeps its own", &lan, "192.0.2.9:8000", "/a b/"},
		{"no address known", &none, "localhost:8000", "/a b/"},
		{"only loopback bound", &loopOnly, "localhost:8000", "/a b/"},
		{"nil links", nil, "localhost:8000", "/a b/"},
	} {
		r := httptest.NewRequest("GET", "http://"+c.host+"/a%20b/", nil)
		if got := c.links.PageURL(r, "/a b/"); got != c.want {
			t.Errorf("%s: PageURL = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST:80": true, "app.localhost:1": true, "127.0.0.1": true, "127.9.9.9:8000": true,
		"[::1]:8000": true, "::1": true, "[::ffff:127.0.0.1]:1": true, "localhost.": true,
		"192.0.2.7:8000": false, "example.com": false, "localhost.example": false, "": false, "[fe80::1]:80": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
