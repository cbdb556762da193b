package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const canary = "CANARY-8d1f3b-must-never-be-served"

// canaryTree makes parent/{secret.txt, served/...}: the canary sits next to
// the served folder, where every escape would land.
func canaryTree(t *testing.T) (served, parent string) {
	t.Helper()
	parent = t.TempDir()
	served = filepath.Join(parent, "served")
	WriteFiles(t, parent, map[string]string{
		"secret.txt":         canary,
		"served/ok.txt":      "fine",
		"served/sub/in.txt":  "inner",
		"served/.env":        "DOTFILE",
		"served/.git/config": "DOTDIR",
	})
	return served, parent
}

func statusOf(raw string) string {
	line, _, _ := strings.Cut(raw, "\r\n")
	f := strings.Fields(line)
	if len(f) < 2 {
		return "none:" + line
	}
	return f[1]
}

func TestHostilePaths(t *testing.T) {
	served, parent := canaryTree(t)
	p := Start(t, served, "-p", "0")
	addr := hostPort(p)
	escapes := []string{
		"/../secret.txt",
		"/%2e%2e/secret.txt",
		"/%2E%2E/secret.txt",
		"/sub/%2e%2e/%2e%2e/secret.txt",
		"/.%2e/secret.txt",
		"/%2e./secret.txt",
		"/..%2fsecret.txt",
		"/..%2Fsecret.txt",
		"/sub%2f..%2f..%2fsecret.txt",
		"/..\\secret.txt",
		"/..%5csecret.txt",
		"/..%5Csecret.txt",
		"/sub/..%5c..%5csecret.txt",
		"/secret.txt%00.txt",
		"/%00",
		"/ok.txt%00",
		"//etc/passwd",
		"//" + strings.TrimPrefix(parent, "/") + "/secret.txt",
		"/" + parent + "/secret.txt",
		"/%2f" + strings.TrimPrefix(parent, "/") + "/secret.txt",
		"http://" + addr + "/../secret.txt",
		"http://" + addr + "/%2e%2e/secret.txt",
		"http://evil.example/../secret.txt",
		"http://" + addr + "//" + strings.TrimPrefix(parent, "/") + "/secret.txt",
		"../secret.txt",
		"secret.txt",
		"/./../secret.txt",
		"/sub/../../secret.txt",
		"/%252e%252e/secret.txt",
	}
	for _, path := range escapes {
		for _, method := range []string{"GET", "HEAD", "DELETE", "PUT"} {
			raw := RawRequest(t, addr, method+" "+path+" HTTP/1.1\r\nHost: "+addr+"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 5*time.Second)
			st := statusOf(raw)
			ok := st == "400" || st == "404"
			if method == "DELETE" || method == "PUT" {
				ok = ok || st == "405"
			}
			if strings.HasPrefix(path, "http://evil.example/") {
				// An absolute target names its own host (RFC 9112 §3.2.2),
				// and the host is checked first: 421.
				ok = st == "421"
			}
			if !ok {
				t.Errorf("%s %s = %s, want 400 or 404\n%.300s", method, path, st, raw)
			}
			if strings.Contains(raw, canary) {
				t.Errorf("%s %s served the canary", method, path)
			}
			if strings.Contains(raw, parent) {
				t.Errorf("%s %s: response shows a host path", method, path)
			}
		}
	}
	// The spec's 400 cases, precisely.
	for _, path := range []string{"/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/a%2fb", "/..\\secret.txt", "/a%5cb", "/a%00b"} {
		raw := RawRequest(t, addr, "GET "+path+" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 5*time.Second)
		if st := statusOf(raw); st != "400" {
			t.Errorf("GET %s = %s, want 400", path, st)
		}
	}
	// Still served normally.
	raw := RawRequest(t, addr, "GET /sub/./in.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 5*time.Second)
	if statusOf(raw) != "200" || !strings.HasSuffix(raw, "inner") {
		t.Errorf("GET /sub/./in.txt: %.200s", raw)
	}
	if _, err := os.Stat(filepath.Join(parent, "secret.txt")); err != nil {
		t.Errorf("canary gone: %v", err)
	}
}

func TestDotfiles(t *testing.T) {
	served, _ := canaryTree(t)
	p := Start(t, served, "-p", "0")
	for _, path := range []string{"/.env", "/.git/config", "/.git/", "/.git", "/%2eenv"} {
		resp, body := Do(t, "GET", p.URL+path, nil)
		if resp.StatusCode != 404 || strings.Contains(string(body), "DOT") {
			t.Errorf("GET %s = %d %q", path, resp.StatusCode, body)
		}
	}
	l := getListing(t, p.URL+"/?format=json")
	if n := names(l); strings.Contains(n, ".env") || strings.Contains(n, ".git") {
		t.Errorf("listing shows dotfiles: %s", n)
	}

	ph := Start(t, served, "-p", "0", "--hidden")
	for path, want := range map[string]string{"/.env": "DOTFILE", "/.git/config": "DOTDIR"} {
		resp, body := Do(t, "GET", ph.URL+path, nil)
		if resp.StatusCode != 200 || string(body) != want {
			t.Errorf("--hidden GET %s = %d %q", path, resp.StatusCode, body)
		}
	}
	if n := names(getListing(t, ph.URL+"/?format=json")); !strings.Contains(n, ".env") || !strings.Contains(n, ".git") {
		t.Errorf("--hidden listing lacks dotfiles: %s", n)
	}
}

func TestSymlinks(t *testing.T) {
	served, parent := canaryTree(t)
	os.Mkdir(filepath.Join(parent, "outdir"), 0o755)
	os.WriteFile(filepath.Join(parent, "outdir", "o.txt"), []byte(canary), 0o644)
	links := map[string]string{
		"out-file":  filepath.Join(parent, "secret.txt"),
		"out-rel":   "../secret.txt",
		"out-dir":   filepath.Join(parent, "outdir"),
		"in-rel":    "sub/in.txt",
		"in-dir":    "sub",
		"dangling":  "nowhere.txt",
		"loop":      "loop",
		"sub/up":    "../ok.txt",
		"sub/upout": "../../secret.txt",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(served, name)); err != nil {
			t.Fatal(err)
		}
	}
	p := Start(t, served, "-p", "0")
	want := map[string]int{
		"/out-file": 404, "/out-rel": 404, "/out-dir/": 404, "/out-dir/o.txt": 404, "/out-dir": 404,
		"/sub/upout": 404, "/dangling": 404, "/loop": 404,
		"/in-rel": 200, "/in-dir/in.txt": 200, "/sub/up": 200,
	}
	for path, st := range want {
		resp, body := Do(t, "GET", p.URL+path, nil)
		if resp.StatusCode != st || strings.Contains(string(body), canary) {
			t.Errorf("GET %s = %d (canary: %v), want %d", path, resp.StatusCode, strings.Contains(string(body), canary), st)
		}
	}
	top := names(getListing(t, p.URL+"/?format=json"))
	for _, hidden := range []string{"out-file", "out-rel", "out-dir", "dangling", "loop"} {
		if strings.Contains(","+top+",", ","+hidden+",") {
			t.Errorf("listing shows %s: %s", hidden, top)
		}
	}
	for _, shown := range []string{"in-rel", "in-dir"} {
		if !strings.Contains(","+top+",", ","+shown+",") {
			t.Errorf("listing lacks %s: %s", shown, top)
		}
	}
	// A link inside the tree to a folder is listed as a folder.
	for _, e := range getListing(t, p.URL+"/?format=json").Entries {
		if e["name"] == "in-dir" && e["type"] != "dir" {
			t.Errorf("in-dir listed as %v", e["type"])
		}
	}

	pf := Start(t, served, "-p", "0", "--follow-symlinks")
	for path, st := range map[string]int{"/out-file": 200, "/out-rel": 200, "/out-dir/o.txt": 200, "/in-rel": 200, "/dangling": 404} {
		resp, _ := Do(t, "GET", pf.URL+path, nil)
		if resp.StatusCode != st {
			t.Errorf("--follow-symlinks GET %s = %d, want %d", path, resp.StatusCode, st)
		}
	}
	if top := names(getListing(t, pf.URL+"/?format=json")); !strings.Contains(top, "out-file") {
		t.Errorf("--follow-symlinks listing lacks out-file: %s", top)
	}
	// Even with --follow-symlinks, ".." in the URL never escapes.
	raw := RawRequest(t, hostPort(pf), "GET /out-dir/../secret.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 5*time.Second)
	if statusOf(raw) != "400" {
		t.Errorf("--follow-symlinks GET /out-dir/../secret.txt = %s", statusOf(raw))
	}
}

func TestFIFODoesNotHang(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"ok.txt": "ok"})
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	p := Start(t, dir, "-p", "0")
	for _, method := range []string{"GET", "HEAD"} {
		done := make(chan int, 1)
		go func() {
			req, _ := http.NewRequest(method, p.URL+"/pipe", nil)
			c := &http.Client{Timeout: 3 * time.Second}
			resp, err := c.Do(req)
			if err != nil {
				done <- -1
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		select {
		case st := <-done:
			if st != 404 {
				t.Errorf("%s /pipe = %d, want 404", method, st)
			}
		case <-time.After(4 * time.Second):
			t.Fatalf("%s /pipe hangs", method)
		}
	}
	l := getListing(t, p.URL+"/?format=json")
	if names(l) != "ok.txt" {
		t.Errorf("listing: %s", names(l))
	}
}

func TestMethods(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "a"})
	p := Start(t, dir, "-p", "0")
	const allow = "GET, HEAD, OPTIONS"
	for _, m := range []string{"PUT", "DELETE", "POST", "MKCOL", "MOVE", "COPY"} {
		resp, body := Do(t, m, p.URL+"/a.txt", strings.NewReader("x"))
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != allow || string(body) != "405 Method Not Allowed\n" {
			t.Errorf("%s = %d Allow %q body %q", m, resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(b) != "a" {
		t.Errorf("a.txt changed: %q", b)
	}
	for _, m := range []string{"FUNC", "PATCH", "PROPFIND", "TRACE", "BREW"} {
		resp, _ := Do(t, m, p.URL+"/a.txt", nil)
		if resp.StatusCode != 501 {
			t.Errorf("%s = %d, want 501", m, resp.StatusCode)
		}
	}
	for _, path := range []string{"/a.txt", "/", "/missing"} {
		resp, body := Do(t, "OPTIONS", p.URL+path, nil)
		if resp.StatusCode != 204 || resp.Header.Get("Allow") != allow || len(body) != 0 {
			t.Errorf("OPTIONS %s = %d Allow %q", path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	raw := RawRequest(t, hostPort(p), "OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 5*time.Second)
	if statusOf(raw) != "204" || !strings.Contains(raw, "Allow: "+allow+"\r\n") {
		t.Errorf("OPTIONS *: %.300s", raw)
	}
	pw := Start(t, dir, "-p", "0", "-w")
	resp, _ := Do(t, "OPTIONS", pw.URL+"/", nil)
	if got := resp.Header.Get("Allow"); got != "GET, HEAD, OPTIONS, POST, PUT, MKCOL, DELETE, MOVE, COPY" {
		t.Errorf("-w Allow = %q", got)
	}
}

func TestErrorBodies(t *testing.T) {
	served, parent := canaryTree(t)
	p := Start(t, served, "-p", "0")
	resp, body := Do(t, "GET", p.URL+"/missing.txt", nil, "User-Agent", "curl/8.0")
	if resp.StatusCode != 404 || string(body) != "404 Not Found\n" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("plain 404: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = Do(t, "GET", p.URL+"/missing.txt", nil, "Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(body), "404 Not Found") || !strings.Contains(string(body), "<html") {
		t.Errorf("HTML 404: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	raw := RawRequest(t, hostPort(p), "GET /%2e%2e/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 5*time.Second)
	if !strings.HasSuffix(raw, "\r\n\r\n400 Bad Request: invalid path\n") {
		t.Errorf("400 body: %q", raw)
	}
	for _, path := range []string{"/missing", "/sub/nope/deeper", "/ok.txt/x"} {
		for _, accept := range []string{"", "text/html", "application/json"} {
			_, body := Do(t, "GET", p.URL+path, nil, "Accept", accept)
			for _, leak := range []string{parent, "/tmp", "goroutine", "no such file", "openat"} {
				if strings.Contains(string(body), leak) {
					t.Errorf("GET %s (%s) leaks %q: %s", path, accept, leak, body)
				}
			}
		}
	}
	// JSON clients still get valid JSON for listings and a status for errors.
	resp, body = Do(t, "GET", p.URL+"/nope/", nil, "Accept", "application/json")
	if resp.StatusCode != 404 || json.Valid(body) && strings.Contains(string(body), canary) {
		t.Errorf("JSON 404: %d %s", resp.StatusCode, body)
	}
}
