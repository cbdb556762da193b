package proxy

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

func TestForwarded(t *testing.T) {
	trusted, err := ParseTrusted([]string{"10.0.0.0/8", "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		peer     string
		hdr      []string
		client   string
		host     string
		tls      bool
		peerTLS  bool
		wantSame bool // the request passes unchanged
	}{
		{name: "untrusted peer", peer: "203.0.113.5:1000", hdr: []string{"X-Forwarded-For", "1.2.3.4", "X-Forwarded-Host", "evil"}, wantSame: true},
		{name: "xff", peer: "10.1.1.1:1000", hdr: []string{"X-Forwarded-For", "1.2.3.4"}, client: "1.2.3.4:0", host: "ferry"},
		{name: "xff chain, client's own entry ignored", peer: "10.1.1.1:1000",
			hdr: []string{"X-Forwarded-For", "6.6.6.6, 1.2.3.4, 10.2.2.2"}, client: "1.2.3.4:0", host: "ferry"},
		{name: "xff all trusted", peer: "10.1.1.1:1000", hdr: []string{"X-Forwarded-For", "10.3.3.3, 10.2.2.2"}, client: "10.3.3.3:0", host: "ferry"},
		{name: "xff garbage", peer: "10.1.1.1:1000", hdr: []string{"X-Forwarded-For", "1.2.3.4, nonsense"}, wantSame: true},
		{name: "xff with port", peer: "10.1.1.1:1000", hdr: []string{"X-Forwarded-For", "[2001:db8::1]:80"}, client: "[2001:db8::1]:0", host: "ferry"},
		{name: "host and proto", peer: "192.0.2.1:1000",
			hdr:    []string{"X-Forwarded-For", "1.2.3.4", "X-Forwarded-Host", "files.example", "X-Forwarded-Proto", "https"},
			client: "1.2.3.4:0", host: "files.example", tls: true},
		{name: "proto http over a TLS hop", peer: "10.1.1.1:1000", peerTLS: true,
			hdr: []string{"X-Forwarded-Proto", "http"}, client: "10.1.1.1:1000", host: "ferry"},
		{name: "bad host ignored", peer: "10.1.1.1:1000", hdr: []string{"X-Forwarded-Host", "a b/c"}, wantSame: true},
		{name: "forwarded", peer: "10.1.1.1:1000",
			hdr:    []string{"Forwarded", `for="1.2.3.4:5678";host=files.example;proto=https`},
			client: "1.2.3.4:5678", host: "files.example", tls: true},
		{name: "forwarded wins over xff", peer: "10.1.1.1:1000",
			hdr: []string{"Forwarded", `for=1.2.3.4`, "X-Forwarded-For", "5.6.7.8"}, client: "1.2.3.4:0", host: "ferry"},
		{name: "forwarded chain", peer: "10.1.1.1:1000",
			hdr:    []string{"Forwarded", `for=6.6.6.6;host=spoof, for="[2001:db8::2]";host=files.example;proto=https, for=10.9.9.9;host=inner;proto=http`},
			client: "[2001:db8::2]:0", host: "files.example", tls: true},
		{name: "forwarded unknown client", peer: "10.1.1.1:1000",
			hdr: []string{"Forwarded", `for=unknown;host=files.example`}, client: "10.1.1.1:1000", host: "files.example"},
		{name: "forwarded two header lines", peer: "10.1.1.1:1000",
			hdr: []string{"Forwarded", `for=1.2.3.4`, "Forwarded", `for=10.2.2.2`}, client: "1.2.3.4:0", host: "ferry"},
		{name: "forwarded broken", peer: "10.1.1.1:1000", hdr: []string{"Forwarded", `for="1.2.3.4`}, wantSame: true},
		{name: "forwarded unbracketed v6", peer: "10.1.1.1:1000", hdr: []string{"Forwarded", `for="2001:db8::1"`}, client: "10.1.1.1:1000", host: "ferry"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://ferry/x", nil)
			r.RemoteAddr = c.peer
			if c.peerTLS {
				r.TLS = &tls.ConnectionState{}
			}
			for i := 0; i+1 < len(c.hdr); i += 2 {
				r.Header.Add(c.hdr[i], c.hdr[i+1])
			}
			var got *http.Request
			trusted.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r })).
				ServeHTTP(httptest.NewRecorder(), r)
			if c.wantSame {
				if got.RemoteAddr != r.RemoteAddr || got.Host != r.Host || (got.TLS != nil) != (r.TLS != nil) {
					t.Errorf("changed: %s %s tls=%v", got.RemoteAddr, got.Host, got.TLS != nil)
				}
				return
			}
			if got.RemoteAddr != c.client || got.Host != c.host || (got.TLS != nil) != c.tls {
				t.Errorf("got %s %s tls=%v, want %s %s tls=%v", got.RemoteAddr, got.Host, got.TLS != nil, c.client, c.host, c.tls)
			}
			if r.RemoteAddr != c.peer {
				t.Error("the caller's request was changed")
			}
		})
	}
}

func TestParseTrusted(t *testing.T) {
	tr, err := ParseTrusted([]string{"::ffff:10.0.0.0/104", "fd00::/8", "127.0.0.1", "unix"})
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]bool{"10.1.2.3": true, "::ffff:10.1.2.3": true, "fd00::5": true, "127.0.0.1": true, "127.0.0.2": false, "11.0.0.1": false} {
		if got := tr.Contains(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Contains(%s) = %v", ip, got)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "fe80::1%eth0", ""} {
		if _, err := ParseTrusted([]string{bad}); err == nil {
			t.Errorf("ParseTrusted(%q) accepted", bad)
		}
	}
	var none *Trusted
	if none.Contains(netip.MustParseAddr("127.0.0.1")) {
		t.Error("nil Trusted trusts")
	}
}

func TestBasePath(t *testing.T) {
	for in, want := range map[string]string{"/files": "/files", "/files/": "/files", "/": "", "": "", "/a/b": "/a/b"} {
		if got, err := CleanBasePath(in); err != nil || got != want {
			t.Errorf("CleanBasePath(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"files", "/a//b", "/a/../b", "/a%20b", "/a?b", "/a\x01"} {
		if _, err := CleanBasePath(bad); err == nil {
			t.Errorf("CleanBasePath(%q) accepted", bad)
		}
	}
	h := Mount("/files", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("inner " + r.URL.Path))
	}))
	for target, want := range map[string]string{
		"/files/a.txt": "200 inner /a.txt",
		"/files/":      "200 inner /",
		"/files?q=1":   "301 /files/?q=1",
		"/filesx":      "404",
		"/a.txt":       "404",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		got := strings.TrimSpace(strings.Join([]string{strconv.Itoa(rec.Code), rec.Header().Get("Location")}, " "))
		if rec.Code == 200 {
			got = "200 " + rec.Body.String()
		}
		if got != want {
			t.Errorf("%s: %q, want %q", target, got, want)
		}
	}
}

// FuzzForwarded: no header value makes the parser panic or loop, and what
// it accepts reads the same when written back in the canonical form.
func FuzzForwarded(f *testing.F) {
	for _, s := range []string{`for=1.2.3.4`, `for="[2001:db8::1]:80";proto=https;host=a.example, for=10.0.0.1`,
		`for=unknown`, `For="_hidden"`, `;;for=1.2.3.4;;,,`, `for="a\"b"`, `host=`, `for`, `="x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hops, ok := parseForwarded([]string{s})
		if !ok {
			return
		}
		for _, h := range hops {
			if h.forValid && !h.for_.Addr().IsValid() {
				t.Fatalf("%q: a valid for with no address", s)
			}
		}
		parseXFF([]string{s})
	})
}
