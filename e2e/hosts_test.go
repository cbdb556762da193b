package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hostReq sends method to p's target with Host set to host, as a web page
// under DNS rebinding would: same socket, foreign name, matching Origin.
func hostReq(t *testing.T, p *Proc, method, target, host string, hdr ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if method == "PUT" {
		body = strings.NewReader("pwned")
	}
	all := append([]string{"Host", host, "Origin", "http://" + host}, hdr...)
	resp, b := Do(t, method, p.URL+target, body, all...)
	return resp, string(b)
}

// A share bound to loopback answers only to its own names: a rebinding page
// (Host: evil.example) gets 421 for every method, before credentials, and
// nothing is read, written or deleted.
func TestHostRebindingRefused(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "secret a\n"})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w", "--host", "files.example", "--host", "*.corp.example")
	if !p.WaitOutput("press Ctrl-C", 5*time.Second) {
		t.Fatal("no end of banner")
	}
	if out := p.Stdout(); !strings.Contains(out, "host names: localhost") || !strings.Contains(out, "files.example") || !strings.Contains(out, "add --host NAME") {
		t.Errorf("the banner does not say which names are served and how to add one:\n%s", out)
	}
	evil := []string{"evil.example:" + p.Port, "EVIL.Example.:" + p.Port, "evil.example", "127.0.0.1.nip.io:" + p.Port, "localhost.evil.example:" + p.Port, "corp.example"}
	for _, host := range evil {
		for _, m := range []string{"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "MKCOL", "FUNC"} {
			target := "/a.txt"
			switch m {
			case "GET":
				target = "/?format=json"
			case "PUT":
				target = "/x.txt"
			}
			resp, body := hostReq(t, p, m, target, host)
			if resp.StatusCode != http.StatusMisdirectedRequest {
				t.Errorf("%s %s with Host %s = %d, want 421", m, target, host, resp.StatusCode)
			}
			if m != "HEAD" && (!strings.Contains(body, "421 Misdirected Request") || !strings.Contains(body, "--host ")) {
				t.Errorf("%s with Host %s: the refusal does not say how to add the name: %q", m, host, body)
			}
			if strings.Contains(body, "secret a") || strings.Contains(body, "a.txt\"") {
				t.Errorf("%s with Host %s revealed the share: %q", m, host, body)
			}
		}
	}
	if _, err := os.Stat(dir + "/x.txt"); err == nil {
		t.Error("a rebinding PUT created x.txt")
	}
	if b, err := os.ReadFile(dir + "/a.txt"); err != nil || string(b) != "secret a\n" {
		t.Errorf("a rebinding request changed a.txt: %q %v", b, err)
	}
	resp, body := hostReq(t, p, "GET", "/missing", "evil.example", "Accept", "text/html")
	if resp.StatusCode != 421 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "--host evil.example") || !strings.Contains(body, `name="viewport"`) {
		t.Errorf("HTML refusal: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	hostname, _ := os.Hostname()
	hostname = strings.ToLower(hostname)
	short, _, _ := strings.Cut(hostname, ".")
	good := []string{
		"127.0.0.1:" + p.Port, "127.0.0.1", "localhost:" + p.Port, "LOCALHOST.:" + p.Port, "app.localhost:" + p.Port,
		"[::1]:" + p.Port, "files.example:" + p.Port, "Files.Example.", "a.corp.example",
	}
	if hostname != "" {
		good = append(good, hostname+":"+p.Port, short, short+".local:"+p.Port)
	}
	for _, host := range good {
		resp, body := hostReq(t, p, "GET", "/a.txt", host)
		if resp.StatusCode != 200 || body != "secret a\n" {
			t.Errorf("GET with Host %s = %d %q, want 200", host, resp.StatusCode, body)
		}
	}
	// FERRY_HOST names hosts as --host does.
	t.Setenv("FERRY_HOST", "env.example,env2.example")
	pe := Start(t, dir, "-p", "0", "-b", "127.0.0.1")
	for _, host := range []string{"env.example", "env2.example"} {
		if resp, _ := hostReq(t, pe, "GET", "/a.txt", host); resp.StatusCode != 200 {
			t.Errorf("FERRY_HOST: Host %s = %d, want 200", host, resp.StatusCode)
		}
	}
	// HTTP/1.0 without Host names nothing to check.
	raw := RawRequest(t, hostPort(p), "GET /a.txt HTTP/1.0\r\n\r\n", 5*time.Second)
	if !strings.HasPrefix(raw, "HTTP/1.0 200") {
		t.Errorf("HTTP/1.0 without Host: %.60q", raw)
	}
}

// The host comes before credentials: a rebinding page does not even learn
// that a password is asked for.
func TestHostBeforeCredentials(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "a"})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w", "--auth", "alice:pw")
	for _, m := range []string{"GET", "PUT", "DELETE", "OPTIONS"} {
		resp, _ := hostReq(t, p, m, "/a.txt", "evil.example:"+p.Port)
		if resp.StatusCode != http.StatusMisdirectedRequest || resp.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("%s with a foreign Host under --auth = %d (WWW-Authenticate %q), want 421 without a challenge",
				m, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		resp, _ = hostReq(t, p, m, "/a.txt", "localhost:"+p.Port)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with Host localhost, no credentials = %d, want 401", m, resp.StatusCode)
		}
	}
}

// --host '*' turns the guard off; a wildcard bind answers to every address
// of the machine.
func TestHostAnyAndWildcardBind(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "a"})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--host", "*")
	if resp, _ := hostReq(t, p, "GET", "/a.txt", "evil.example"); resp.StatusCode != 200 {
		t.Errorf("--host '*': Host evil.example = %d, want 200", resp.StatusCode)
	}
	if !p.WaitOutput("DNS rebinding is not refused", 5*time.Second) {
		t.Errorf("the banner does not warn that --host '*' accepts any name:\n%s", p.Stdout())
	}

	lan := lanAddr(t)
	p = Start(t, dir, "-p", "0")
	// Connected to 127.0.0.1, naming the LAN address: another interface of
	// the same machine, which the wildcard bind serves.
	host := net.JoinHostPort(lan.String(), p.Port)
	if resp, _ := hostReq(t, p, "GET", "/a.txt", host); resp.StatusCode != 200 {
		t.Errorf("wildcard bind: Host %s = %d, want 200", host, resp.StatusCode)
	}
	if resp, _ := hostReq(t, p, "GET", "/a.txt", "192.0.2.254:"+p.Port); resp.StatusCode != 421 && !lan.IsValid() {
		t.Errorf("wildcard bind: a foreign address = %d, want 421", resp.StatusCode)
	}
	if code, _, stderr := Run(t, dir, 5*time.Second, "--host", "http://files.example/"); code != 2 || !strings.Contains(stderr, "--host") {
		t.Errorf("--host with a URL: exit %d, %q; want 2 and a word on --host", code, stderr)
	}
}

// lanAddr is a non-loopback IPv4 address of this machine; the test skips
// without one.
func lanAddr(t *testing.T) netip.Addr {
	t.Helper()
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is4() && !ip.IsLoopback() {
				return ip.Unmap()
			}
		}
	}
	t.Skip("no non-loopback IPv4 address on this machine")
	return netip.Addr{}
}

// statusJSON fetches /.ferry/status as JSON with optional credentials.
func statusJSON(t *testing.T, base, userinfo string) (int, string) {
	t.Helper()
	u, _ := url.Parse(base + "/.ferry/status?format=json")
	if userinfo != "" {
		user, pass, _ := strings.Cut(userinfo, ":")
		u.User = url.UserPassword(user, pass)
	}
	resp, body := Do(t, "GET", u.String(), nil)
	return resp.StatusCode, string(body)
}

type statusDoc struct {
	Recent []map[string]any `json:"recent"`
}

func recentPaths(t *testing.T, body string) (paths []string, clients int) {
	t.Helper()
	var d statusDoc
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, body)
	}
	for _, r := range d.Recent {
		paths = append(paths, r["path"].(string))
		if _, ok := r["client"]; ok {
			clients++
		}
	}
	return paths, clients
}

var addrInText = regexp.MustCompile(`127\.0\.0\.1:\d+|\[::1\]:\d+`)

// Without auth, every visitor may read every path, but only a client on
// this machine learns who the others are.
func TestStatusAddressesOnlyForLoopback(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "a"})
	lan := lanAddr(t)
	p := Start(t, dir, "-p", "0")
	Do(t, "GET", p.URL+"/a.txt", nil)

	_, body := statusJSON(t, p.URL, "")
	if paths, clients := recentPaths(t, body); len(paths) != 1 || clients != 1 {
		t.Errorf("loopback viewer: paths %v, %d with a client address; want the download with its client", paths, clients)
	}
	remote := "http://" + net.JoinHostPort(lan.String(), p.Port)
	_, body = statusJSON(t, remote, "")
	if paths, clients := recentPaths(t, body); len(paths) != 1 || clients != 0 || addrInText.MatchString(body) {
		t.Errorf("viewer from %s: paths %v, %d client addresses, want none:\n%s", lan, paths, clients, body)
	}
	resp, html := Do(t, "GET", remote+"/.ferry/status", nil, "Accept", "text/html")
	if resp.StatusCode != 200 || addrInText.Match(html) || strings.Contains(string(html), "<th>Client</th>") {
		t.Errorf("HTML status for a remote viewer shows client addresses:\n%s", html)
	}
}

// With auth, a user sees the transfers on paths its grants let it read,
// addresses only with a grant on /; an anonymous reader sees no addresses.
// The health check answers without credentials and says nothing else.
func TestStatusFollowsGrants(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"secret.txt": "s", "docs/a.txt": "a"})
	p := Start(t, dir, "-p", "0", "--auth", "alice:apw", "--auth", "bob:bpw@/docs:ro")
	Do(t, "GET", strings.Replace(p.URL, "://", "://alice:apw@", 1)+"/secret.txt", nil)
	Do(t, "GET", strings.Replace(p.URL, "://", "://bob:bpw@", 1)+"/docs/a.txt", nil)

	code, body := statusJSON(t, p.URL, "alice:apw")
	if paths, clients := recentPaths(t, body); code != 200 || len(paths) != 2 || clients != 2 {
		t.Errorf("alice (grant on /): %d paths %v, %d with addresses; want both with addresses", code, paths, clients)
	}
	code, body = statusJSON(t, p.URL, "bob:bpw")
	paths, clients := recentPaths(t, body)
	if code != 200 || len(paths) != 1 || paths[0] != "/docs/a.txt" || clients != 0 || strings.Contains(body, "secret") || addrInText.MatchString(body) {
		t.Errorf("bob (grant on /docs): %d paths %v, %d addresses; want /docs/a.txt alone, no address:\n%s", code, paths, clients, body)
	}
	resp, html := Do(t, "GET", strings.Replace(p.URL, "://", "://bob:bpw@", 1)+"/.ferry/status", nil, "Accept", "text/html")
	if resp.StatusCode != 200 || strings.Contains(string(html), "secret") || addrInText.Match(html) {
		t.Errorf("bob's HTML status shows what he may not read:\n%s", html)
	}
	if code, _ := statusJSON(t, p.URL, ""); code != http.StatusUnauthorized {
		t.Errorf("status without credentials = %d, want 401", code)
	}
	for _, m := range []string{"GET", "HEAD"} {
		resp, body := Do(t, m, p.URL+"/.ferry/health", nil)
		if resp.StatusCode != 200 || (m == "GET" && string(body) != "ok\n") {
			t.Errorf("%s health without credentials = %d %q, want 200 ok", m, resp.StatusCode, body)
		}
	}
	if resp, _ := Do(t, "PUT", p.URL+"/.ferry/health", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("PUT health without credentials = %d, want 401", resp.StatusCode)
	}

	p = Start(t, dir, "-p", "0", "--auth", "alice:apw", "--auth-anon-read")
	Do(t, "GET", strings.Replace(p.URL, "://", "://alice:apw@", 1)+"/secret.txt", nil)
	code, body = statusJSON(t, p.URL, "")
	if paths, clients := recentPaths(t, body); code != 200 || len(paths) != 1 || clients != 0 || addrInText.MatchString(body) {
		t.Errorf("anonymous reader: %d paths %v, %d addresses; want no address:\n%s", code, paths, clients, body)
	}
}

// RFC 9112 §6.1: a request with both Content-Length and Transfer-Encoding
// is answered, and then the connection is closed: whatever a proxy framed
// differently behind it is never read as a request.
func TestContentLengthWithTransferEncodingCloses(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "a"})
	p := Start(t, dir, "-p", "0")
	conn, err := net.DialTimeout("tcp", hostPort(p), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	// A proxy trusting Content-Length would see one request with a 5-byte
	// body and the GET after it as the next request.
	io.WriteString(conn, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"+
		"GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !resp.Close {
		t.Errorf("status %d, Connection %q: want 200 and close", resp.StatusCode, resp.Header.Get("Connection"))
	}
	rest, err := io.ReadAll(br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("the connection stayed open after the response (read %q)", rest)
	}
	if len(rest) > 0 {
		t.Errorf("a second response followed: %q", rest)
	}

	// A plain keep-alive request keeps its connection.
	conn2, err := net.DialTimeout("tcp", hostPort(p), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	conn2.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(conn2, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
	resp, err = http.ReadResponse(bufio.NewReader(conn2), &http.Request{Method: "GET"})
	if err != nil || resp.Close {
		t.Errorf("a plain request: %v, close %v; want keep-alive", err, resp != nil && resp.Close)
	}
}

// The exposure line names no wildcard address: it says what [::] means.
func TestBannerBoundInWords(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0")
	if !p.WaitOutput("press Ctrl-C", 5*time.Second) {
		t.Fatal("no end of banner")
	}
	out := p.Stdout()
	if !strings.Contains(out, "bound: every interface, IPv4 and IPv6, port "+p.Port+";") {
		t.Errorf("the bound line does not say what it means:\n%s", out)
	}
	if strings.Contains(out, "[::]") || strings.Contains(out, "0.0.0.0") {
		t.Errorf("the banner prints a wildcard address:\n%s", out)
	}
}

// Every error carries its code and reason, as a page in the listing's look
// for a browser: ServeContent's own 416 included, which keeps its
// Content-Range.
func TestErrorPages(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "0123456789", "sub/b.txt": "b"})
	p := Start(t, dir, "-p", "0")

	resp, body := Do(t, "GET", p.URL+"/a.txt", nil, "Range", "bytes=100-", "Accept", "text/html,*/*;q=0.8")
	html := string(body)
	if resp.StatusCode != 416 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(html, "416") || !strings.Contains(html, "Range Not Satisfiable") ||
		strings.Contains(html, "failed to overlap") || resp.Header.Get("Content-Range") != "bytes */10" {
		t.Errorf("416 for a browser: %q %q\n%s", resp.Header.Get("Content-Type"), resp.Header.Get("Content-Range"), html)
	}
	resp, body = Do(t, "GET", p.URL+"/a.txt", nil, "Range", "bytes=100-")
	if resp.StatusCode != 416 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") ||
		!strings.HasPrefix(string(body), "416 Requested Range Not Satisfiable") || resp.Header.Get("Content-Range") != "bytes */10" {
		t.Errorf("416 for curl: %q %q %q", resp.Header.Get("Content-Type"), resp.Header.Get("Content-Range"), body)
	}
	resp, body = Do(t, "GET", p.URL+"/a.txt", nil, "If-Match", `"nope"`, "Accept", "text/html")
	if resp.StatusCode != 412 || !strings.Contains(string(body), "412 Precondition Failed") {
		t.Errorf("412: %d %q", resp.StatusCode, body)
	}

	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/sub/missing.txt", 404},
		{"GET", "/missing", 404},
		{"PUT", "/sub/x.txt", 405},
		{"GET", "/%2e%2e/x", 400},
	} {
		resp, body := Do(t, c.method, p.URL+c.path, nil, "Accept", "text/html")
		html := string(body)
		if resp.StatusCode != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s %s: %d %q", c.method, c.path, resp.StatusCode, resp.Header.Get("Content-Type"))
			continue
		}
		if !strings.Contains(html, `<meta name="viewport"`) || !strings.Contains(html, "prefers-color-scheme: dark") && !strings.Contains(html, "prefers-color-scheme:dark") ||
			!strings.Contains(html, http.StatusText(c.status)) {
			t.Errorf("%s %s: page lacks viewport, dark mode or reason:\n%s", c.method, c.path, html)
		}
		m := regexp.MustCompile(`<a href="([^"]*)"`).FindStringSubmatch(html)
		if m == nil {
			t.Errorf("%s %s: no link:\n%s", c.method, c.path, html)
			continue
		}
		base, _ := url.Parse(p.URL + c.path)
		ref, _ := url.Parse(m[1])
		if got := base.ResolveReference(ref).Path; got != "/" {
			t.Errorf("%s %s: link %q leads to %q, want /", c.method, c.path, m[1], got)
		}
		// The inline style is allowed by the page's CSP, nothing else is.
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'sha256-") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s %s: CSP %q", c.method, c.path, csp)
		}
	}
}
