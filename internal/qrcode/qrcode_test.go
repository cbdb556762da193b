package qrcode

import (
	"bytes"
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
	} {
		got, err := Target(c.u, c.host, c.tls)
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
	for _, s := range []string{"/", "/docs/", "http://h:1/x", "//x/", "http://h:1@evil/", "\\\\evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		got, err := Target(u, "h:1", false)
		if err != nil {
			return
		}
		p, perr := url.Parse(got)
		if perr != nil || !strings.EqualFold(p.Host, "h:1") || (p.Scheme != "http" && p.Scheme != "https") || p.User != nil {
			t.Fatalf("Target(%q) = %q leads off this host", u, got)
		}
	})
}
