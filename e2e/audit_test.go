package e2e

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Regression tests for gaps found by auditing the binary against SPEC.md.

// TestAuditFerryPrefixAliases: /.ferry/ "never serves files from DIR", and a
// folder named .ferry in DIR (visible with --hidden) must not be reachable
// through another spelling of the prefix.
func TestAuditFerryPrefixAliases(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		".ferry/secret.txt":     "LEAK",
		".ferry/assets/app.css": "LEAK",
		"a.txt":                 "a",
	})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--hidden", "-w")
	addr := strings.TrimPrefix(p.URL, "http://")
	cases := []struct {
		name, method, path, status string
	}{
		{"canonical", "GET", "/.ferry/secret.txt", "404"},
		{"double slash", "GET", "//.ferry/secret.txt", "404"},
		{"dot segment", "GET", "/./.ferry/secret.txt", "404"},
		{"encoded dot", "GET", "/%2eferry/secret.txt", "404"},
		{"encoded letter", "GET", "/.%66erry/secret.txt", "404"},
		{"asset alias", "GET", "//.ferry/assets/app.css", "404"},
		{"folder alias", "GET", "//.ferry/", "404"},
		{"no slash", "GET", "/.ferry", "404"},
		{"delete alias", "DELETE", "/%2eferry/secret.txt", "404"},
		{"dotdot under prefix", "GET", "/.ferry/assets/../../secret.txt", "400"},
		{"encoded dotdot under prefix", "GET", "/.ferry/assets/%2e%2e/x", "400"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := RawRequest(t, addr, c.method+" "+c.path+" HTTP/1.1\r\nHost: "+addr+"\r\nConnection: close\r\n\r\n", 5*time.Second)
			if !strings.HasPrefix(resp, "HTTP/1.1 "+c.status+" ") {
				t.Errorf("%s %s: want %s, got %q", c.method, c.path, c.status, firstLine(resp))
			}
			if strings.Contains(resp, "LEAK") {
				t.Errorf("%s %s served a file from DIR/.ferry", c.method, c.path)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, ".ferry", "secret.txt")); err != nil {
		t.Errorf("DIR/.ferry/secret.txt was removed through an alias: %v", err)
	}
	// ferry's own asset is still served.
	if resp, body := Do(t, "GET", p.URL+"/.ferry/assets/app.css", nil); resp.StatusCode != 200 || strings.Contains(string(body), "LEAK") {
		t.Errorf("own asset: %d %.40q", resp.StatusCode, body)
	}
}

// TestAuditFerryPrefixMethods: OPTIONS answers 204 with the one Allow list and
// an unknown method 501 under /.ferry/ as on every other path.
func TestAuditFerryPrefixMethods(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--upload")
	root, _ := Do(t, "OPTIONS", p.URL+"/", nil)
	want := root.Header.Get("Allow")
	cases := []struct {
		method string
		status int
		allow  string
	}{
		{"OPTIONS", 204, want},
		{"FOO", 501, ""},
		{"PUT", 405, "GET, HEAD, OPTIONS"},
		{"GET", 200, ""},
	}
	for _, c := range cases {
		t.Run(c.method, func(t *testing.T) {
			resp, _ := Do(t, c.method, p.URL+"/.ferry/assets/app.css", nil)
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d", resp.StatusCode, c.status)
			}
			if c.allow != "" && resp.Header.Get("Allow") != c.allow {
				t.Errorf("Allow %q, want %q", resp.Header.Get("Allow"), c.allow)
			}
		})
	}
}

var bannerLinkRE = regexp.MustCompile(`(?m)^  http://127\.0\.0\.1:\d+/(\S+)$`)

func bannerLinks(out string) []string {
	var names []string
	for _, m := range bannerLinkRE.FindAllStringSubmatch(out, -1) {
		names = append(names, m[1])
	}
	return names
}

// TestAuditDuplicateArgs: the same path named twice is one shared file (one
// link, no "2 named files"), and a folder named twice is served as DIR.
func TestAuditDuplicateArgs(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "a", "sub/b.txt": "b"})

	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "a.txt", "./a.txt", "sub/../a.txt")
	out := p.Stdout()
	if got := bannerLinks(out); strings.Join(got, " ") != "a.txt" {
		t.Errorf("banner links %q, want just a.txt:\n%s", got, out)
	}
	if !strings.Contains(out, "serving 1 named file") {
		t.Errorf("banner does not count one file:\n%s", out)
	}
	if resp, body := Do(t, "GET", p.URL+"/a.txt", nil); resp.StatusCode != 200 || string(body) != "a" {
		t.Errorf("GET /a.txt: %d %q", resp.StatusCode, body)
	}

	p = Start(t, dir, "-p", "0", "-b", "127.0.0.1", "sub", "sub/")
	if !strings.Contains(p.Stdout(), "serving "+filepath.Join(dir, "sub")+" (") {
		t.Errorf("a folder named twice is not served as DIR:\n%s", p.Stdout())
	}
	if resp, body := Do(t, "GET", p.URL+"/b.txt", nil); resp.StatusCode != 200 || string(body) != "b" {
		t.Errorf("GET /b.txt: %d %q", resp.StatusCode, body)
	}

	// Two different files with one name still refuse to start.
	WriteFiles(t, dir, map[string]string{"other/a.txt": "x"})
	if code, _, errOut := Run(t, dir, 10*time.Second, "-p", "0", "a.txt", "other/a.txt"); code != 2 || strings.Count(errOut, "\n") != 1 {
		t.Errorf("same name twice: exit %d, stderr %q", code, errOut)
	}
}

// TestAuditBannerLinksSorted: the direct links come in name order, not in
// whatever order the directory happens to return.
func TestAuditBannerLinksSorted(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for _, n := range []string{"m.txt", "c.txt", "x.txt", "a.txt", "q.txt", "b.txt"} {
		files[n] = n
	}
	WriteFiles(t, dir, files)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1")
	got := strings.Join(bannerLinks(p.Stdout()), " ")
	if want := "a.txt b.txt c.txt m.txt q.txt x.txt"; got != want {
		t.Errorf("banner links %q, want %q", got, want)
	}
}

// TestAuditTimeHint: the banner's "try: nc HOST PORT" names an address ferry
// time listens on; "localhost" is wrong when --bind names another.
func TestAuditTimeHint(t *testing.T) {
	cases := []struct{ bind, host string }{
		{"127.0.0.1", "127.0.0.1"},
		{"::1", "::1"},
	}
	for _, c := range cases {
		t.Run(c.bind, func(t *testing.T) {
			if c.bind == "::1" && !ipv6Loopback() {
				t.Skip("no IPv6 loopback")
			}
			p := StartNoWait(t, t.TempDir(), "time", "-p", "0", "-b", c.bind)
			if !p.WaitOutput("try: nc ", 10*time.Second) {
				t.Fatalf("no hint:\n%s%s", p.Stdout(), p.Stderr())
			}
			m := regexp.MustCompile(`try: nc (\S+) (\d+)`).FindStringSubmatch(p.Stdout())
			if m == nil || m[1] != c.host {
				t.Fatalf("hint %q, want host %s:\n%s", m, c.host, p.Stdout())
			}
			tc := dialTime(t, net.JoinHostPort(m[1], m[2]))
			if r := tc.ask("seconds\n"); !regexp.MustCompile(`^\d+$`).MatchString(r) {
				t.Errorf("seconds via the hinted address: %q", r)
			}
		})
	}
}

// TestAuditBindErrorNamesAddress: a --bind the machine lacks is named in the
// one-line error, not blamed on "port 0".
func TestAuditBindErrorNamesAddress(t *testing.T) {
	const addr = "203.0.113.7" // TEST-NET-3: never one of this machine's
	for _, args := range [][]string{
		{"-p", "0", "-b", addr},
		{"echo", "-p", "0", "-b", addr},
		{"time", "-p", "0", "-b", addr},
	} {
		code, _, errOut := Run(t, t.TempDir(), 10*time.Second, args...)
		if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, addr+":") || strings.Contains(errOut, "port 0") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// TestAuditEchoHeadLog: a HEAD to ferry echo sends no body and is logged
// with 0 bytes, as HEAD of a file is.
func TestAuditEchoHeadLog(t *testing.T) {
	p := Start(t, t.TempDir(), "echo", "-p", "0", "-b", "127.0.0.1")
	resp, body := Do(t, "HEAD", p.URL+"/probe", nil)
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength <= 0 {
		t.Fatalf("HEAD: %d, %d body bytes, Content-Length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
	if !p.WaitOutput("HEAD /probe 200 0 B", 5*time.Second) {
		t.Errorf("log line:\n%s", p.Stdout())
	}
}

// Bad values are explained in words, not with Go's parser errors.
func TestAuditValueErrorsInWords(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--port", "abc"}, "", `invalid value "abc" for --port: expected a whole number`},
		{[]string{"--idle-exit", "5"}, "", `expected a duration like 90s`},
		{nil, "FERRY_NO_LISTING=yes", `invalid value "yes" for FERRY_NO_LISTING: expected 1, 0, true or false`},
	} {
		var p *Proc
		if c.env != "" {
			p = startWithEnv(t, dir, c.env)
		} else {
			p = StartNoWait(t, dir, c.args...)
		}
		code := p.Wait(10 * time.Second)
		if code != 2 || !strings.Contains(p.Stderr(), c.want) || strings.Contains(p.Stderr(), "strconv") {
			t.Errorf("%v %s: exit %d, stderr %q; want 2 and %q", c.args, c.env, code, p.Stderr(), c.want)
		}
	}
}

func startWithEnv(t *testing.T, dir, kv string) *Proc {
	t.Helper()
	t.Setenv(strings.SplitN(kv, "=", 2)[0], strings.SplitN(kv, "=", 2)[1])
	return StartNoWait(t, dir)
}

// A folder named .ferry in DIR is shadowed by ferry's own namespace, so with
// --hidden it must not be listed or archived either; missing assets answer
// in ferry's error format.
func TestAuditFerryFolderNotListed(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{".ferry/secret.txt": "x", ".seen": "y"})
	p := Start(t, dir, "-p", "0", "--hidden", "-q")
	_, body := Do(t, "GET", p.URL+"/?format=json", nil)
	if strings.Contains(string(body), `".ferry"`) || !strings.Contains(string(body), `".seen"`) {
		t.Errorf("listing: %s", body)
	}
	_, tarball := Do(t, "GET", p.URL+"/?tar", nil)
	if strings.Contains(string(tarball), "secret.txt") {
		t.Error("?tar includes .ferry/secret.txt")
	}
	resp, body := Do(t, "GET", p.URL+"/.ferry/assets/nope.js", nil)
	if resp.StatusCode != 404 || string(body) != "404 Not Found\n" {
		t.Errorf("missing asset: %d %q", resp.StatusCode, body)
	}
}

// A read-only share serves a static site whose scripts run, as Python's
// server does; once the origin can write or holds credentials, user files
// are sandboxed so their script cannot act as ferry.
func TestAuditStaticSiteScriptsRun(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"index.html": "<script>document.title='ran'</script>", "clip.webm": "x", "seg.ts": "x", "notes.md": "# hi"})
	for _, c := range []struct {
		args    []string
		sandbox bool
	}{
		{[]string{"-p", "0", "-q"}, false},
		{[]string{"-p", "0", "-q", "--upload"}, true},
		{[]string{"-p", "0", "-q", "-w"}, true},
		{[]string{"-p", "0", "-q", "--auth", "u:p", "--auth-anon-read"}, true},
	} {
		p := Start(t, dir, c.args...)
		for _, f := range []string{"/", "/index.html"} {
			resp, _ := Do(t, "GET", p.URL+f, nil)
			got := resp.Header.Get("Content-Security-Policy") == "sandbox"
			if resp.StatusCode != 200 || got != c.sandbox {
				t.Errorf("%v GET %s: %d, CSP %q; want sandbox=%v", c.args, f, resp.StatusCode, resp.Header.Get("Content-Security-Policy"), c.sandbox)
			}
		}
	}
	p := Start(t, dir, "-p", "0", "-q")
	for name, want := range map[string]string{"/clip.webm": "video/webm", "/seg.ts": "video/mp2t", "/notes.md": "text/markdown; charset=utf-8"} {
		for _, method := range []string{"GET", "HEAD"} {
			for range 2 { // the second answer may come from the open-file cache
				resp, _ := Do(t, method, p.URL+name, nil)
				if ct := resp.Header.Get("Content-Type"); ct != want {
					t.Errorf("%s %s: Content-Type %q, want %q", method, name, ct, want)
				}
			}
		}
	}
}

// Logs tell a ?zip from a listing, keep the combined request line parseable,
// and name only users whose credentials were checked.
func TestAuditLogQueryAndUser(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"b c.txt": "x"})

	p := Start(t, dir, "-p", "0")
	Do(t, "GET", p.URL+"/?zip", nil)
	Do(t, "GET", p.URL+"/b%20c.txt", nil, "Authorization", "Basic Ym9iOng=") // bob:x, never checked
	if !p.WaitOutput("GET /b c.txt", 5*time.Second) || !strings.Contains(p.Stdout(), "GET /?zip 200") {
		t.Errorf("text log lacks the query:\n%s", p.Stdout())
	}

	p = Start(t, dir, "-p", "0", "--log", "combined")
	Do(t, "GET", p.URL+"/b%20c.txt", nil, "Authorization", "Basic Ym9iOng=")
	if !p.WaitOutput(`"GET /b%20c.txt HTTP/1.1" 200`, 5*time.Second) || strings.Contains(p.Stdout(), "bob") {
		t.Errorf("combined line: want the escaped target and no unchecked user:\n%s", p.Stdout())
	}

	p = Start(t, dir, "-p", "0", "--log", "json", "--auth", "alice:pw")
	Do(t, "GET", p.URL+"/?format=json", nil, "Authorization", "Basic YWxpY2U6cHc=") // alice:pw
	if !p.WaitOutput(`"user":"alice"`, 5*time.Second) || !strings.Contains(p.Stdout(), `"query":"format=json"`) {
		t.Errorf("json line: want user alice and the query:\n%s", p.Stdout())
	}
}

// An absolute symlink whose target lies inside DIR is followed, as a
// relative one is; one that leads out still looks absent.
func TestAuditAbsoluteSymlinkInside(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	WriteFiles(t, dir, map[string]string{"in/i.txt": "inside"})
	WriteFiles(t, outside, map[string]string{"o.txt": "outside"})
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(dir, "in", "i.txt"), filepath.Join(dir, "abs-in")))
	must(os.Symlink(filepath.Join(dir, "in"), filepath.Join(dir, "abs-dir")))
	must(os.Symlink(filepath.Join(outside, "o.txt"), filepath.Join(dir, "abs-out")))
	p := Start(t, dir, "-p", "0", "-q")
	for path, want := range map[string]int{"/abs-in": 200, "/abs-dir/i.txt": 200, "/abs-dir/": 200, "/abs-out": 404} {
		resp, body := Do(t, "GET", p.URL+path, nil)
		if resp.StatusCode != want || strings.Contains(string(body), "outside") {
			t.Errorf("GET %s: %d %q, want %d", path, resp.StatusCode, body, want)
		}
	}
	_, listing := Do(t, "GET", p.URL+"/?format=json", nil)
	if !strings.Contains(string(listing), `"abs-in"`) || strings.Contains(string(listing), `"abs-out"`) {
		t.Errorf("listing: %s", listing)
	}
}

// In FILE mode a whole ?zip of / hands over every shared file at once, so
// --once is done.
func TestAuditOnceByRootArchive(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"x/a.txt": "aaa", "y/b.txt": "bbb"})
	p := Start(t, dir, "-p", "0", "-q", "--once", "x/a.txt", "y/b.txt")
	resp, body := Do(t, "GET", p.URL+"/?zip", nil)
	if resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("?zip: %d", resp.StatusCode)
	}
	if code := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d (want 0) after the archive of every shared file", code)
	}
}
