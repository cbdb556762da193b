package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestResponseHeaders(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "hello\n", "big.bin": strings.Repeat("\x00\x01", 20000)})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--upload",
		"-H", "Cache-Control: public, max-age=60",
		"-H", "X-Frame-Options: SAMEORIGIN",
		"-H", "Link: </a.txt>; rel=preload",
		"-H", "Link: </big.bin>; rel=prefetch",
		"-H", "Server:",
	)
	check := func(what string, resp *http.Response) {
		t.Helper()
		h := resp.Header
		if h.Get("Cache-Control") != "public, max-age=60" || h.Get("X-Frame-Options") != "SAMEORIGIN" {
			t.Errorf("%s: Cache-Control %q, X-Frame-Options %q", what, h.Get("Cache-Control"), h.Get("X-Frame-Options"))
		}
		if got := h.Values("Link"); len(got) != 2 || got[0] != "</a.txt>; rel=preload" || got[1] != "</big.bin>; rel=prefetch" {
			t.Errorf("%s: Link %q", what, got)
		}
		if h.Get("Server") != "" {
			t.Errorf("%s: Server %q survived -H 'Server:'", what, h.Get("Server"))
		}
	}
	// Every response: files, ranges, listings, 304, errors, refusals,
	// OPTIONS, uploads, ferry's own pages.
	resp, body := Do(t, "GET", p.URL+"/a.txt", nil)
	check("file", resp)
	if string(body) != "hello\n" {
		t.Fatalf("body %q", body)
	}
	resp, body = Do(t, "GET", p.URL+"/big.bin", nil, "Range", "bytes=0-9")
	check("range", resp)
	if resp.StatusCode != 206 || len(body) != 10 {
		t.Fatalf("range: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, _ = Do(t, "GET", p.URL+"/", nil)
	check("listing (replacing its no-cache)", resp)
	resp, _ = Do(t, "GET", p.URL+"/a.txt", nil, "If-None-Match", resp.Header.Get("ETag"))
	check("304", resp)
	resp, _ = Do(t, "GET", p.URL+"/nope", nil)
	check("404", resp)
	resp, _ = Do(t, "GET", p.URL+"/a.txt", nil, "Host", "evil.example")
	check("421", resp)
	resp, _ = Do(t, "OPTIONS", p.URL+"/", nil)
	check("OPTIONS", resp)
	resp, _ = Do(t, "PUT", p.URL+"/new.txt", strings.NewReader("x"))
	check("PUT", resp)
	if resp.StatusCode != 201 {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	resp, _ = Do(t, "GET", p.URL+"/.ferry/health", nil)
	check("health", resp)
	// Without --cors nothing is readable cross-origin.
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("Access-Control-Allow-Origin without --cors")
	}
}

func TestHeaderFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "hello\n"})
	// One header per line: values keep their commas.
	t.Setenv("FERRY_HEADER", "Cache-Control: public, max-age=60\nX-Robots-Tag: noindex, nofollow\n")
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1")
	resp, _ := Do(t, "GET", p.URL+"/a.txt", nil)
	if resp.Header.Get("Cache-Control") != "public, max-age=60" || resp.Header.Get("X-Robots-Tag") != "noindex, nofollow" {
		t.Fatalf("headers %v", resp.Header)
	}
}

func TestBadHeaderFlag(t *testing.T) {
	dir := t.TempDir()
	for _, bad := range []string{"NoColon", "Bad Name: x", "X-A: one\r\nX-B: two", "X: a\x01b", "Content-Length: 5", "Transfer-Encoding: chunked", ": empty"} {
		code, stdout, stderr := Run(t, dir, 10*time.Second, "-p", "0", "-b", "127.0.0.1", "-H", bad)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(stderr, "--header") || stdout != "" {
			t.Errorf("-H %q: exit %d, stderr %q, stdout %q", bad, code, stderr, stdout)
		}
	}
}

func TestCORS(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "hello\n", "cgi-bin/x": "#!/bin/sh\nprintf 'Status: 500 Script\\r\\n\\r\\n'\n"})
	if err := os.Chmod(filepath.Join(dir, "cgi-bin/x"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A preflight to a script is ferry's to answer.
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--cors", "-w", "--webdav", "--cgi")
	const origin = "https://app.example"

	// Reads carry Access-Control-Allow-Origin, never credentials.
	for _, c := range []struct{ method, path string }{
		{"GET", "/a.txt"}, {"HEAD", "/a.txt"}, {"GET", "/"}, {"GET", "/?format=json"}, {"GET", "/nope"},
		{"GET", "/.ferry/assets/app.css"},
	} {
		resp, _ := Do(t, c.method, p.URL+c.path, nil, "Origin", origin)
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s %s: ACAO %q, ACAC %q", c.method, c.path, resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Credentials"))
		}
		if c.path == "/a.txt" && !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "ETag") {
			t.Errorf("Expose-Headers %q", resp.Header.Get("Access-Control-Expose-Headers"))
		}
	}
	// The status page and metrics tell who else is connected: not for
	// other origins.
	if resp, _ := Do(t, "GET", p.URL+"/.ferry/status", nil, "Origin", origin); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("status page readable cross-origin")
	}

	// A preflight for a read is answered; one for a write gets the same
	// answer, which does not allow it.
	for _, c := range []struct{ path, method, headers string }{
		{"/a.txt", "GET", "range, if-none-match"},
		{"/a.txt", "PUT", "content-type"},
		{"/a.txt", "DELETE", ""},
		{"/cgi-bin/x", "POST", ""},
		{"/", "PROPFIND", "depth"},
	} {
		hdr := []string{"Origin", origin, "Access-Control-Request-Method", c.method}
		if c.headers != "" {
			hdr = append(hdr, "Access-Control-Request-Headers", c.headers)
		}
		resp, body := Do(t, "OPTIONS", p.URL+c.path, nil, hdr...)
		h := resp.Header
		if resp.StatusCode != 204 || len(body) != 0 || h.Get("Access-Control-Allow-Origin") != "*" ||
			h.Get("Access-Control-Allow-Methods") != "GET, HEAD, OPTIONS" || h.Get("Access-Control-Allow-Credentials") != "" ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Range") || strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
			h.Get("Access-Control-Max-Age") == "" {
			t.Errorf("preflight %s %s: %d %v", c.method, c.path, resp.StatusCode, h)
		}
	}
	// A plain OPTIONS is the usual answer.
	if resp, _ := Do(t, "OPTIONS", p.URL+"/", nil); resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Allow"), "PUT") {
		t.Errorf("OPTIONS: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	// Writes from another origin are still refused, and carry no
	// Access-Control-Allow-Origin.
	for _, m := range []string{"PUT", "DELETE", "POST", "MKCOL"} {
		resp, _ := Do(t, m, p.URL+"/a.txt", strings.NewReader("x"), "Origin", origin, "Sec-Fetch-Site", "cross-site")
		if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("cross-site %s: %d, ACAO %q", m, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	if resp, body := Do(t, "GET", p.URL+"/a.txt", nil); string(body) != "hello\n" {
		t.Fatalf("a.txt changed: %d %q", resp.StatusCode, body)
	}
}

// TestCORSWithAuth: credentials are never allowed cross-origin. With
// --auth, a preflight carries none and is refused (401), so a page
// elsewhere reads nothing; with --auth-anon-read it reads what anyone may.
func TestCORSWithAuth(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "hello\n"})
	const origin = "https://app.example"
	preflight := []string{"Origin", origin, "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization"}

	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--cors", "--auth", "alice:pw")
	resp, _ := Do(t, "OPTIONS", p.URL+"/a.txt", nil, preflight...)
	if resp.StatusCode != 401 || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight under --auth: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = Do(t, "GET", p.URL+"/a.txt", nil, "Origin", origin)
	if resp.StatusCode != 401 {
		t.Fatalf("GET without credentials: %d", resp.StatusCode)
	}

	p2 := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--cors", "--auth", "alice:pw", "--auth-anon-read")
	resp, _ = Do(t, "OPTIONS", p2.URL+"/a.txt", nil, preflight...)
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Credentials") != "" ||
		strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Fatalf("preflight under --auth-anon-read: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body := Do(t, "GET", p2.URL+"/a.txt", nil, "Origin", origin)
	if resp.StatusCode != 200 || string(body) != "hello\n" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("anonymous cross-origin read: %d %q", resp.StatusCode, body)
	}
}
