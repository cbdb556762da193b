package hostcheck

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func request(host string, local net.Addr) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = host
	if local != nil {
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
	}
	return r
}

func TestAllowed(t *testing.T) {
	c, err := New([]string{"files.example.com", "myhost", "192.0.2.7", "*.corp.example", "Upper.Example."})
	if err != nil {
		t.Fatal(err)
	}
	lan := &net.TCPAddr{IP: net.ParseIP("198.51.100.4"), Port: 8000}
	for _, tc := range []struct {
		host  string
		local net.Addr
		want  bool
	}{
		{"", nil, true}, // HTTP/1.0 without Host
		{"localhost:8000", nil, true},
		{"LOCALHOST.", nil, true},
		{"app.localhost:1", nil, true},
		{"127.0.0.1:8000", nil, true},
		{"127.8.9.1", nil, true},
		{"[::1]:8000", nil, true},
		{"[::ffff:127.0.0.1]:8000", nil, true},
		{"files.example.com:8000", nil, true},
		{"FILES.example.com.:8000", nil, true},
		{"upper.example", nil, true},
		{"myhost", nil, true},
		{"192.0.2.7:80", nil, true},
		{"a.b.corp.example", nil, true},
		{"198.51.100.4:8000", lan, true}, // the address the client connected to
		{"evil.example:8000", nil, false},
		{"evil.example.", nil, false},
		{"localhost.evil.example", nil, false},
		{"files.example.com.evil.example", nil, false},
		{"corp.example", nil, false}, // "*." names subdomains only
		{"evilcorp.example", nil, false},
		{"198.51.100.4:8000", nil, false},
		{"203.0.113.9", lan, false},
		{"[2001:db8::1]:8000", nil, false},
		{"myhost.evil.example", nil, false},
	} {
		if got := c.Allowed(request(tc.host, tc.local)); got != tc.want {
			t.Errorf("Host %q (local %v): allowed = %v, want %v", tc.host, tc.local, got, tc.want)
		}
	}

	anyHost, _ := New([]string{"*"})
	if !anyHost.Allowed(request("evil.example", nil)) {
		t.Error(`"*" refused evil.example`)
	}
}

func TestValid(t *testing.T) {
	for _, good := range []string{"files.example.com", "x", "*", "*.example.com", "192.0.2.1", "::1", "[::1]:80", "host:8000", "my_host"} {
		if err := Valid(good); err != nil {
			t.Errorf("Valid(%q) = %v", good, err)
		}
	}
	for _, bad := range []string{"", "http://x/", "x/y", "user@x", "host:port", "a b", "exa*mple", "x:", "*.", "*.:80", "a..b", ".example", "*..example"} {
		if err := Valid(bad); err == nil {
			t.Errorf("Valid(%q) = nil, want an error", bad)
		}
	}
}

func TestMiddleware(t *testing.T) {
	c, _ := New(nil)
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	for _, m := range []string{"GET", "PUT", "DELETE", "OPTIONS", "FUNC"} {
		r := request("evil.example:8000", nil)
		r.Method = m
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusMisdirectedRequest || !strings.Contains(rec.Body.String(), "--host evil.example") {
			t.Errorf("%s: %d %q", m, rec.Code, rec.Body.String())
		}
	}
}

// FuzzNormalize: any Host value is checked without panicking, and the
// answer does not depend on letter case.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"localhost:8000", "[::1]:80", "[fe80::1%25eth0]:8000", "EVIL.example.", "::1", "[", "]:", "a:b:c", ""} {
		f.Add(s)
	}
	c, _ := New([]string{"files.example.com", "*.corp.example"})
	f.Fuzz(func(t *testing.T, host string) {
		got := c.Allowed(request(host, nil))
		for _, r := range host {
			if r >= 0x80 {
				return // case mapping outside ASCII may change lengths
			}
		}
		if up := c.Allowed(request(strings.ToUpper(host), nil)); up != got {
			t.Errorf("Host %q: allowed %v, in upper case %v", host, got, up)
		}
	})
}

func BenchmarkAllowed(b *testing.B) {
	c, _ := New([]string{"localhost", "myhost", "myhost.local", "192.0.2.7", "files.example.com"})
	for _, host := range []string{"127.0.0.1:8000", "files.example.com:8000", "evil.example:8000"} {
		r := request(host, nil)
		b.Run(host, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Allowed(r)
			}
		})
	}
}
