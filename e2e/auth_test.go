package e2e

import (
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// hashPassword runs `ferry hash-password` with pw on stdin.
func hashPassword(t *testing.T, pw string) string {
	t.Helper()
	cmd := exec.Command(ferryBin, "hash-password", "--cost", "10")
	cmd.Stdin = strings.NewReader(pw + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hash-password: %v", err)
	}
	h := strings.TrimSpace(string(out))
	if !strings.HasPrefix(h, "$2a$10$") || len(h) != 60 {
		t.Fatalf("hash-password printed %q", h)
	}
	return h
}

func TestAuthRequiredEverywhere(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "secret a\n", "sub/b.txt": "b"})
	p := Start(t, dir, "-p", "0", "-w", "--auth", "alice:s3cret")
	addr := secAddr(p)
	for _, c := range []struct{ method, target string }{
		{"GET", "/"}, {"GET", "/a.txt"}, {"HEAD", "/a.txt"}, {"OPTIONS", "/"}, {"OPTIONS", "*"},
		{"PUT", "/n.txt"}, {"DELETE", "/a.txt"}, {"MKCOL", "/d/"}, {"POST", "/"}, {"MOVE", "/a.txt"},
		{"COPY", "/a.txt"}, {"FUNC", "/"}, {"POST", "/.ferry/health"}, {"GET", "/.ferry/assets/app.css"},
		{"GET", "/missing"}, {"GET", "/%2e%2e/x"}, {"GET", "/sub"}, {"GET", "/?format=json"}, {"GET", "/?zip"},
	} {
		resp, body := secRaw(t, addr, c.method, c.target, nil, "")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without credentials = %d, want 401", c.method, c.target, resp.StatusCode)
		}
		if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Basic realm="ferry"`) {
			t.Errorf("%s %s: WWW-Authenticate %q", c.method, c.target, got)
		}
		if strings.Contains(body, "secret a") {
			t.Errorf("%s %s leaked the file", c.method, c.target)
		}
	}
	resp, body := Do(t, "GET", "http://alice:s3cret@"+addr+"/a.txt", nil)
	if resp.StatusCode != 200 || string(body) != "secret a\n" {
		t.Fatalf("with credentials: %d %q", resp.StatusCode, body)
	}
	resp, _ = Do(t, "PUT", "http://alice:s3cret@"+addr+"/new.txt", strings.NewReader("n"))
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		t.Fatalf("PUT with credentials = %d", resp.StatusCode)
	}
	resp, _ = Do(t, "GET", "http://alice:wrong@"+addr+"/a.txt", nil)
	if resp.StatusCode != 401 {
		t.Fatalf("wrong password = %d", resp.StatusCode)
	}
}

func TestAuthCurlAndWget(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "curl me\n"})
	p := Start(t, dir, "-p", "0", "--auth", "alice:s3cret")
	curl := NeedCommand(t, "curl")
	out, err := exec.Command(curl, "-s", "-u", "alice:s3cret", p.URL+"/a.txt").Output()
	if err != nil || string(out) != "curl me\n" {
		t.Fatalf("curl -u: %q %v", out, err)
	}
	out, _ = exec.Command(curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "alice:nope", p.URL+"/a.txt").Output()
	if string(out) != "401" {
		t.Fatalf("curl wrong password: %s", out)
	}
	if wget, err := exec.LookPath("wget"); err == nil {
		out, err := exec.Command(wget, "-q", "-O", "-", "--user", "alice", "--password", "s3cret", p.URL+"/a.txt").Output()
		if err != nil || string(out) != "curl me\n" {
			t.Fatalf("wget --user: %q %v", out, err)
		}
	}
}

func TestAuthBcryptAndCache(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "x"})
	hash := hashPassword(t, "correct horse")
	p := Start(t, dir, "-p", "0", "--auth", "carol:"+hash)
	base := strings.Replace(p.URL, "://", "://carol:correct%20horse@", 1)
	resp, _ := Do(t, "GET", base+"/a.txt", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("bcrypt user = %d", resp.StatusCode)
	}
	resp, _ = secRaw(t, secAddr(p), "GET", "/a.txt", []string{"Authorization", "Basic " + b64("carol:"+hash)}, "")
	if resp.StatusCode != 401 {
		t.Fatalf("the hash itself as password = %d, want 401", resp.StatusCode)
	}
	// With the success cache, authenticated requests are not bound by
	// bcrypt's cost (about 50-150 ms each at cost 10).
	client := &http.Client{}
	const n = 300
	start := time.Now()
	for range n {
		req, _ := http.NewRequest("GET", p.URL+"/a.txt", nil)
		req.SetBasicAuth("carol", "correct horse")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	d := time.Since(start)
	t.Logf("%d authenticated requests (bcrypt password) in %s: %.0f req/s", n, d, n/d.Seconds())
	if d > 5*time.Second {
		t.Errorf("authenticated requests are slow: %s for %d", d, n)
	}
}

func TestAuthPathRules(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"top.txt": "top", "docs/a.txt": "doc", "drop/.keep": "", "private/p.txt": "p"})
	p := Start(t, dir, "-p", "0", "-w",
		"--auth", "admin:adminpw",
		"--auth", "bob:bobpw@/docs:ro",
		"--auth", "bob:bobpw@/drop:rw")
	as := func(user, pass string) string { return strings.Replace(p.URL, "://", "://"+user+":"+pass+"@", 1) }
	cases := []struct {
		user, pass, method, path string
		want                     int
	}{
		{"bob", "bobpw", "GET", "/docs/a.txt", 200},
		{"bob", "bobpw", "GET", "/docs/", 200},
		{"bob", "bobpw", "GET", "/top.txt", 403},
		{"bob", "bobpw", "GET", "/", 403},
		{"bob", "bobpw", "GET", "/private/p.txt", 403},
		{"bob", "bobpw", "PUT", "/docs/b.txt", 403},
		{"bob", "bobpw", "DELETE", "/docs/a.txt", 403},
		{"bob", "bobpw", "PUT", "/private/x.txt", 403},
		{"bob", "bobpw", "GET", "/drop/", 200},
		{"admin", "adminpw", "GET", "/private/p.txt", 200},
		{"admin", "adminpw", "GET", "/", 200},
		{"bob", "wrong", "GET", "/docs/a.txt", 401},
	}
	for _, c := range cases {
		resp, _ := Do(t, c.method, as(c.user, c.pass)+c.path, strings.NewReader("x"))
		if resp.StatusCode != c.want {
			t.Errorf("%s %s %s = %d, want %d", c.user, c.method, c.path, resp.StatusCode, c.want)
		}
	}
	// Writes in bob's drop folder pass the auth check (the write itself
	// may still be answered by the upload handler as it sees fit).
	resp, _ := Do(t, "PUT", as("bob", "bobpw")+"/drop/new.txt", strings.NewReader("x"))
	if resp.StatusCode == 401 || resp.StatusCode == 403 {
		t.Errorf("bob PUT /drop/new.txt = %d", resp.StatusCode)
	}
	resp, _ = Do(t, "MOVE", as("bob", "bobpw")+"/drop/new.txt", nil, "Destination", p.URL+"/docs/new.txt")
	if resp.StatusCode != 403 {
		t.Errorf("bob MOVE out of /drop = %d, want 403", resp.StatusCode)
	}
}

func TestAuthAnonRead(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "open"})
	p := Start(t, dir, "-p", "0", "-w", "--auth", "alice:pw", "--auth-anon-read")
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/a.txt", 200}, {"HEAD", "/a.txt", 200}, {"GET", "/", 200}, {"OPTIONS", "/", 204},
		{"PUT", "/b.txt", 401}, {"DELETE", "/a.txt", 401}, {"MKCOL", "/d/", 401}, {"POST", "/", 401},
		{"FUNC", "/", 401},
	} {
		resp, _ := Do(t, c.method, p.URL+c.path, nil)
		if resp.StatusCode != c.want {
			t.Errorf("anonymous %s %s = %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
	}
	resp, _ := Do(t, "PUT", strings.Replace(p.URL, "://", "://alice:pw@", 1)+"/b.txt", strings.NewReader("x"))
	if resp.StatusCode == 401 || resp.StatusCode == 403 {
		t.Errorf("PUT with credentials = %d", resp.StatusCode)
	}
}

func TestAuthRateLimit(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "x"})
	p := Start(t, dir, "-p", "0", "--auth", "alice:"+hashPassword(t, "right"), "--auth", "bob:bobpw")
	addr := secAddr(p)
	var codes []int
	start := time.Now()
	for range 12 {
		resp, _ := secRaw(t, addr, "GET", "/a.txt", []string{"Authorization", "Basic " + b64("alice:guess")}, "")
		codes = append(codes, resp.StatusCode)
	}
	t.Logf("12 guesses in %s: %v", time.Since(start), codes)
	for i, c := range codes {
		want := 401
		if i >= 10 {
			want = 429
		}
		if c != want {
			t.Fatalf("guess %d = %d, want %d (all: %v)", i+1, c, want, codes)
		}
	}
	resp, _ := secRaw(t, addr, "GET", "/a.txt", []string{"Authorization", "Basic " + b64("bob:bobpw")}, "")
	if resp.StatusCode != 429 {
		t.Errorf("right password of another user from a blocked address = %d, want 429", resp.StatusCode)
	}
	if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("429 without a useful Retry-After: %q", ra)
	}
	// Another address is unaffected.
	client := &http.Client{Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext,
	}, Timeout: 5 * time.Second}
	req, _ := http.NewRequest("GET", p.URL+"/a.txt", nil)
	req.SetBasicAuth("alice", "right")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("other address = %d", resp.StatusCode)
	}
	// A flood of wrong guesses from many connections is refused quickly and
	// leaves the server responsive.
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			secRaw(t, addr, "GET", "/a.txt", []string{"Authorization", "Basic " + b64("alice:flood")}, "")
		}()
	}
	wg.Wait()
	start = time.Now()
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(start); resp.StatusCode != 200 || d > time.Second {
		t.Errorf("after a flood: %d in %s", resp.StatusCode, d)
	}
}

func TestAuthCredentialsNeverLogged(t *testing.T) {
	const pw = "Pa55-never-in-logs"
	for _, format := range []string{"text", "json", "combined"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			WriteFiles(t, dir, map[string]string{"a.txt": "x"})
			p := Start(t, dir, "-p", "0", "--log", format, "--auth", "alice:"+pw)
			with := strings.Replace(p.URL, "://", "://alice:"+pw+"@", 1)
			Do(t, "GET", with+"/a.txt", nil)
			Do(t, "GET", with+"/missing", nil)
			Do(t, "GET", strings.Replace(p.URL, "://", "://alice:"+pw+"x@", 1)+"/a.txt", nil)
			Do(t, "GET", strings.Replace(p.URL, "://", "://"+pw+":x@", 1)+"/a.txt", nil)
			Do(t, "GET", p.URL+"/a.txt", nil)
			time.Sleep(200 * time.Millisecond)
			logs := p.Stdout() + p.Stderr()
			for _, secret := range []string{pw, b64("alice:" + pw), b64("alice:" + pw + "x")} {
				if strings.Contains(logs, secret) {
					t.Fatalf("logs contain a credential:\n%s", logs)
				}
			}
			if strings.Count(logs, "/a.txt") < 3 {
				t.Fatalf("requests not logged:\n%s", logs)
			}
			// The human text line leaves the user out; the others name it.
			if format != "text" && !strings.Contains(logs, "alice") {
				t.Errorf("the user name is not logged:\n%s", logs)
			}
		})
	}
	// The command line's own errors do not repeat the password either.
	code, _, stderr := Run(t, t.TempDir(), 10*time.Second, "-p", "0", "--auth", "alice:"+pw+"@/../x")
	if code != 2 || strings.Contains(stderr, pw) {
		t.Fatalf("bad --auth: exit %d, stderr %q", code, stderr)
	}
}

func TestAuthBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--auth", "alice"},
		{"--auth", ":pw"},
		{"--auth", "alice:"},
		{"--auth", "alice:pw@/docs:rx"},
		{"--auth", "alice:pw@/../etc"},
		{"--auth", "alice:$2a$10$tooshort"},
		{"--auth-anon-read"},
	} {
		code, stdout, stderr := Run(t, t.TempDir(), 10*time.Second, append([]string{"-p", "0"}, args...)...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "ferry: ") || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

// FERRY_AUTH takes a comma-separated list, like every repeatable flag.
func TestAuthFromEnvironment(t *testing.T) {
	t.Setenv("FERRY_AUTH", "alice:pw1,bob:pw2")
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "x"})
	p := Start(t, dir, "-p", "0")
	for _, up := range []string{"alice:pw1", "bob:pw2"} {
		resp, _ := Do(t, "GET", strings.Replace(p.URL, "://", "://"+up+"@", 1)+"/a.txt", nil)
		if resp.StatusCode != 200 {
			t.Errorf("%s = %d", up, resp.StatusCode)
		}
	}
	if resp, _ := Do(t, "GET", p.URL+"/a.txt", nil); resp.StatusCode != 401 {
		t.Errorf("anonymous = %d", resp.StatusCode)
	}
}

func TestHashPasswordCommand(t *testing.T) {
	h := hashPassword(t, "pw with spaces")
	if strings.Contains(h, "pw with spaces") {
		t.Fatal("the hash shows the password")
	}
	for _, c := range []struct {
		stdin string
		args  []string
	}{
		{"", nil},
		{"\n", nil},
		{"x\n", []string{"extra"}},
		{"x\n", []string{"--cost", "99"}},
		{strings.Repeat("x", 73) + "\n", nil},
	} {
		cmd := exec.Command(ferryBin, append([]string{"hash-password"}, c.args...)...)
		cmd.Stdin = strings.NewReader(c.stdin)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("hash-password %v with %q: %v, stderr %q", c.args, c.stdin, err, stderr.String())
		}
	}
}
