package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startNginx runs nginx in the foreground with the given http{} body, its
// pid, logs and temp files in a folder of the test's own, and waits until
// it accepts connections on port.
func startNginx(t *testing.T, port string, httpBody string) {
	t.Helper()
	bin := NeedCommand(t, "nginx")
	dir := t.TempDir()
	conf := fmt.Sprintf(`
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 128; }
http {
	access_log %[1]s/access.log;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	client_max_body_size 0;
	%[2]s
}
`, dir, httpBody)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", path, "-g", "daemon off;")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx output:\n%s\nerror.log:\n%s", out, log)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %s\n%s", out, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not accept on %s: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// clientFrom is an HTTP client whose connections leave from the loopback
// address ip, so that a test can be several clients at once.
func clientFrom(ip string) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func doFrom(t *testing.T, c *http.Client, method, url string, body io.Reader, hdr ...string) (*http.Response, string) {
	t.Helper()
	resp, b := DoWith(t, c, method, url, body, hdr...)
	return resp, string(b)
}

// logClients returns the client of each JSON log line for method and path
// (as the handler saw it, without the base path).
func logClients(t *testing.T, out, method, path string) []string {
	t.Helper()
	var clients []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec struct{ Client, Method, Path, Query string }
		if err := json.Unmarshal([]byte(line), &rec); err == nil && rec.Method == method && rec.Path+"?"+rec.Query == path {
			clients = append(clients, rec.Client)
		}
	}
	return clients
}

// proxyChecks are what a user behind nginx sees, whichever way nginx
// reaches ferry: the base path in links, redirects and resumable uploads,
// the client's own address in the log, the host check on the host the
// client asked for.
func proxyChecks(t *testing.T, front string, p *Proc) {
	alice := clientFrom("127.0.0.2")
	resp, body := doFrom(t, alice, "GET", front+"/files/", nil, "Accept", "text/html", "X-Forwarded-For", "203.0.113.66")
	if resp.StatusCode != 200 || !strings.Contains(body, `href="a.txt"`) || !strings.Contains(body, `".ferry/assets/`) {
		t.Fatalf("listing through nginx: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := doFrom(t, alice, "GET", front+"/files/.ferry/assets/app.css", nil); resp.StatusCode != 200 {
		t.Errorf("the page's stylesheet through nginx: %d", resp.StatusCode)
	}
	if resp, body := doFrom(t, alice, "GET", front+"/files/a.txt", nil); resp.StatusCode != 200 || body != "hello" {
		t.Errorf("GET /files/a.txt: %d %q", resp.StatusCode, body)
	}
	resp, _ = doFrom(t, alice, "GET", front+"/files/sub?x=1", nil)
	if loc, err := resp.Request.URL.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusMovedPermanently || err != nil || loc.RequestURI() != "/files/sub/?x=1" {
		t.Errorf("folder redirect: %d Location %q, want the slash form under /files", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := doFrom(t, alice, "PUT", front+"/files/up.txt", strings.NewReader("put body")); resp.StatusCode != http.StatusCreated {
		t.Errorf("PUT through nginx: %d", resp.StatusCode)
	}
	// A resumable upload: its Location resolves under the base path.
	resp, _ = doFrom(t, alice, "POST", front+"/files/.ferry/tus/", nil, "Tus-Resumable", "1.0.0",
		"Upload-Length", "5", "Upload-Metadata", "filename dHVzLnR4dA==")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("tus creation through nginx: %d", resp.StatusCode)
	}
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.Path, "/files/.ferry/tus/") {
		t.Fatalf("tus Location %q resolves to %v, want under /files/.ferry/tus/", resp.Header.Get("Location"), loc)
	}
	resp, _ = doFrom(t, alice, "PATCH", loc.String(), strings.NewReader("12345"), "Tus-Resumable", "1.0.0",
		"Upload-Offset", "0", "Content-Type", "application/offset+octet-stream")
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("tus PATCH through nginx: %d", resp.StatusCode)
	}
	if resp, body := doFrom(t, alice, "GET", front+"/files/tus.txt", nil); resp.StatusCode != 200 || body != "12345" {
		t.Errorf("the resumable upload: %d %q", resp.StatusCode, body)
	}

	// WebDAV's hrefs carry the base path too.
	resp, body = doFrom(t, alice, "PROPFIND", front+"/files/sub/", nil, "Depth", "1")
	if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(body, "/files/sub/b.txt</") {
		t.Errorf("PROPFIND through nginx: %d, want hrefs under /files/:\n%s", resp.StatusCode, body)
	}

	// The host the client asked nginx for is the one checked.
	if resp, _ := doFrom(t, alice, "GET", front+"/files/a.txt", nil, "Host", "evil.example"); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("Host evil.example through nginx: %d, want 421", resp.StatusCode)
	}
	if resp, _ := doFrom(t, alice, "GET", front+"/files/a.txt", nil, "Host", "files.example"); resp.StatusCode != 200 {
		t.Errorf("Host files.example (a --host name) through nginx: %d, want 200", resp.StatusCode)
	}

	// The log names the client, not nginx, and not what the client wrote
	// in its own X-Forwarded-For.
	if !p.WaitOutput(`"path":"/tus.txt","status":200`, 5*time.Second) {
		t.Fatal("no log line for GET /tus.txt")
	}
	if c := logClients(t, p.Stdout(), "GET", "/?"); len(c) != 1 || !strings.HasPrefix(c[0], "127.0.0.2:") {
		t.Errorf("log clients %q for a listing from 127.0.0.2 through nginx, want 127.0.0.2", c)
	}

	// The failed-login limit counts the client behind the proxy: ten
	// wrong guesses block 127.0.0.2, not 127.0.0.3 behind the same nginx.
	mallory := clientFrom("127.0.0.2")
	var last int
	for range 11 {
		req, _ := http.NewRequest("GET", front+"/files/.ferry/metrics", nil)
		req.SetBasicAuth("alice", "wrong")
		resp, err := mallory.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		last = resp.StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("11th wrong password through nginx: %d, want 429", last)
	}
	bob := clientFrom("127.0.0.3")
	req, _ := http.NewRequest("GET", front+"/files/a.txt", nil)
	req.SetBasicAuth("alice", "apw")
	resp, err = bob.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("another client behind the same nginx after 127.0.0.2 was blocked: %d, want 200", resp.StatusCode)
	}
}

const proxyHeaders = `
		proxy_http_version 1.1;
		proxy_request_buffering off;
		proxy_buffering off;`

// ferry behind nginx over TCP, under /files, trusting nginx's address only.
func TestBehindNginxTCP(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "hello", "sub/b.txt": "b"})
	p := Start(t, dir, "-b", "127.0.0.1", "-p", "0", "--base-path", "/files", "--trusted-proxy", "127.0.0.1/32",
		"--upload", "--webdav", "--auth", "alice:apw", "--log", "json", "--host", "files.example")
	if !strings.Contains(p.Stdout(), "http://127.0.0.1:"+p.Port+"/files/") {
		t.Errorf("banner does not carry the base path:\n%s", p.Stdout())
	}
	port := freePort(t)
	startNginx(t, port, fmt.Sprintf(`
	server {
		listen 127.0.0.1:%s;
		location /files/ {
			proxy_pass http://127.0.0.1:%s;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Host $http_host;
			proxy_set_header X-Forwarded-Proto $scheme;%s
		}
	}`, port, p.Port, proxyHeaders))
	front := "http://127.0.0.1:" + port
	withAuth := strings.Replace(front, "://", "://alice:apw@", 1)
	proxyChecks(t, withAuth, p)

	// From a peer that is not trusted, the headers change nothing.
	direct := clientFrom("127.0.0.4")
	resp, _ := doFrom(t, direct, "GET", strings.Replace(p.URL, "://", "://alice:apw@", 1)+"/files/a.txt?direct", nil,
		"X-Forwarded-For", "203.0.113.7", "X-Forwarded-Host", "evil.example", "Forwarded", "for=203.0.113.8;host=evil.example")
	if resp.StatusCode != 200 {
		t.Errorf("direct request with forged forwarding headers: %d, want 200 (headers ignored)", resp.StatusCode)
	}
	p.WaitOutput(`"query":"direct"`, 5*time.Second)
	if c := logClients(t, p.Stdout(), "GET", "/a.txt?direct"); len(c) != 1 || !strings.HasPrefix(c[0], "127.0.0.4:") {
		t.Errorf("direct request logged as %v, want 127.0.0.4", c)
	}
	// The base path itself redirects to its slash form; outside it, 404.
	resp, _ = Do(t, "GET", p.URL+"/files?a=1", nil)
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/files/?a=1" {
		t.Errorf("/files: %d Location %q, want 301 /files/?a=1", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := Do(t, "GET", strings.Replace(p.URL, "://", "://alice:apw@", 1)+"/a.txt", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /a.txt outside the base path: %d, want 404", resp.StatusCode)
	}
}

// ferry behind nginx over a Unix socket, under /files, nginx sending
// Forwarded (RFC 7239).
func TestBehindNginxUnixSocket(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "hello", "sub/b.txt": "b"})
	sock := filepath.Join(t.TempDir(), "ferry.sock")
	p := StartNoWait(t, dir, "-b", "unix:"+sock, "--base-path", "/files", "--trusted-proxy", "unix",
		"--upload", "--webdav", "--auth", "alice:apw", "--log", "json", "--host", "files.example")
	if !p.WaitOutput("press Ctrl-C", 10*time.Second) {
		t.Fatalf("no banner:\n%s%s", p.Stdout(), p.Stderr())
	}
	if !strings.Contains(p.Stdout(), "unix:"+sock+", path /files/") {
		t.Errorf("banner does not name the socket:\n%s", p.Stdout())
	}
	st, err := os.Stat(sock)
	if err != nil || st.Mode().Perm() != 0o660 || st.Mode().Type() != os.ModeSocket {
		t.Fatalf("socket: %v %v, want a socket with mode 0660", st.Mode(), err)
	}
	port := freePort(t)
	startNginx(t, port, fmt.Sprintf(`
	server {
		listen 127.0.0.1:%s;
		location /files/ {
			proxy_pass http://unix:%s:;
			proxy_set_header Forwarded "for=\"$remote_addr:$remote_port\";host=\"$http_host\";proto=$scheme";%s
		}
	}`, port, sock, proxyHeaders))
	front := "http://alice:apw@127.0.0.1:" + port
	proxyChecks(t, front, p)

	// Ctrl-C removes the socket.
	p.Signal(syscall.SIGINT)
	if code := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGINT", code)
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("socket still there after exit: %v", err)
	}
}

// A socket left by a ferry that was killed is replaced; one a live server
// listens on is refused with one line; a file in the way is never removed.
func TestUnixSocketStaleAndLive(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "hello"})
	sock := filepath.Join(t.TempDir(), "ferry.sock")
	p := StartNoWait(t, dir, "-b", "unix:"+sock)
	if !p.WaitOutput("press Ctrl-C", 10*time.Second) {
		t.Fatalf("no banner:\n%s%s", p.Stdout(), p.Stderr())
	}
	p.Signal(syscall.SIGKILL)
	p.Wait(10 * time.Second)
	if _, err := os.Lstat(sock); err != nil {
		t.Fatalf("a killed ferry left no socket to test with: %v", err)
	}

	p = StartNoWait(t, dir, "-b", "unix:"+sock)
	if !p.WaitOutput("press Ctrl-C", 10*time.Second) {
		t.Fatalf("stale socket not replaced:\n%s%s", p.Stdout(), p.Stderr())
	}
	resp, b := DoWith(t, unixClient(sock), "GET", "http://localhost/a.txt", nil)
	if resp.StatusCode != 200 || string(b) != "hello" {
		t.Errorf("over the socket: %d %q", resp.StatusCode, b)
	}

	code, stdout, stderr := Run(t, dir, 10*time.Second, "-b", "unix:"+sock)
	if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "another server is listening on it") || stdout != "" {
		t.Errorf("second ferry on a live socket: exit %d, stderr %q, stdout %q; want 2 and one line", code, stderr, stdout)
	}
	// The first one still serves.
	if resp, _ := DoWith(t, unixClient(sock), "GET", "http://localhost/a.txt", nil); resp.StatusCode != 200 {
		t.Errorf("first ferry after the refused second: %d", resp.StatusCode)
	}

	file := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(file, []byte("keep me"), 0o644)
	code, _, stderr = Run(t, dir, 10*time.Second, "-b", "unix:"+file)
	if b, _ := os.ReadFile(file); code != 2 || string(b) != "keep me" || !strings.Contains(stderr, "not a socket") {
		t.Errorf("socket path on a regular file: exit %d, stderr %q, file %q", code, stderr, b)
	}
}

// Behind a trusted proxy, "a client on this machine" (the status page's
// and the metrics' rule) is the forwarded client, not the proxy.
func TestTrustedProxyLoopbackRule(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-b", "127.0.0.1", "-p", "0", "-q", "--trusted-proxy", "127.0.0.1")
	if resp, _ := Do(t, "GET", p.URL+"/.ferry/metrics", nil, "X-Forwarded-For", "203.0.113.9"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("metrics for a forwarded remote client: %d, want 403", resp.StatusCode)
	}
	if resp, _ := Do(t, "GET", p.URL+"/.ferry/metrics", nil, "Forwarded", `for="[2001:db8::1]:4711"`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("metrics for a remote client named by Forwarded: %d, want 403", resp.StatusCode)
	}
	if resp, _ := Do(t, "GET", p.URL+"/.ferry/metrics", nil, "X-Forwarded-For", "127.0.0.5"); resp.StatusCode != 200 {
		t.Errorf("metrics for a forwarded loopback client: %d, want 200", resp.StatusCode)
	}
	if code, _, stderr := Run(t, dir, 10*time.Second, "--trusted-proxy", "10.0.0.0/33"); code != 2 || strings.Count(stderr, "\n") != 1 {
		t.Errorf("--trusted-proxy 10.0.0.0/33: exit %d, %q", code, stderr)
	}
	if code, _, stderr := Run(t, dir, 10*time.Second, "--base-path", "files"); code != 2 || !strings.Contains(stderr, "must start with /") {
		t.Errorf("--base-path files: exit %d, %q", code, stderr)
	}
}

// unixClient is an HTTP client whose every connection goes to the Unix
// socket sock, whatever the URL's host.
func unixClient(sock string) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
}
