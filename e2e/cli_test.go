package e2e

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)

	cases := []struct {
		name    string
		args    []string
		env     []string
		mention string
	}{
		{"unknown flag", []string{"--frobnicate"}, nil, "frobnicate"},
		{"unknown shorthand", []string{"-Z"}, nil, "Z"},
		{"bad log", []string{"--log", "xml"}, nil, "xml"},
		{"bad duration", []string{"--idle-exit", "soon"}, nil, "soon"},
		{"s3 endpoint not a URL", []string{"--s3-endpoint", "ftp://x", "s3://b"}, nil, "--s3-endpoint"},
		{"s3 endpoint without a scheme", []string{"--s3-endpoint", "127.0.0.1:8333", "s3://b"}, nil, "--s3-endpoint"},
		{"negative duration", []string{"--idle-exit", "-5s"}, nil, "idle-exit"},
		{"auth without colon", []string{"--auth", "alice"}, nil, "--auth"},
		{"missing flag value", []string{"--port"}, nil, "port"},
		{"bad port", []string{"-p", "70000"}, nil, "70000"},
		{"port not a number", []string{"-p", "eighty"}, nil, "eighty"},
		{"missing dir", []string{"-p", "0", filepath.Join(dir, "nope")}, nil, "nope"},
		{"missing dir, relative", []string{"-p", "0", "does-not-exist"}, nil, "does-not-exist"},
		{"port taken", []string{"-p", busyPort, "--bind", "127.0.0.1"}, nil, busyPort},
		{"port taken, every interface", []string{"-p", busyPort}, nil, busyPort},
		{"env port taken", []string{"--bind", "127.0.0.1"}, []string{"FERRY_PORT=" + busyPort}, busyPort},
		{"bad env bool", []string{"-p", "0"}, []string{"FERRY_HIDDEN=maybe"}, "FERRY_HIDDEN"},
		{"bad env duration", []string{"-p", "0"}, []string{"FERRY_IDLE_EXIT=later"}, "FERRY_IDLE_EXIT"},
		{"bad size", []string{"-p", "0", "--max-upload", "lots"}, nil, "lots"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(ferryBin, tc.args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), tc.env...)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			done := make(chan error, 1)
			cmd.Start()
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("ferry %v did not exit", tc.args)
			}
			code := cmd.ProcessState.ExitCode()
			errText := stderr.String()
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", code, errText)
			}
			if strings.Count(errText, "\n") != 1 || !strings.HasSuffix(errText, "\n") {
				t.Errorf("stderr is not exactly one line: %q", errText)
			}
			if !strings.Contains(errText, tc.mention) || !strings.Contains(errText, "--help") {
				t.Errorf("stderr %q should mention %q and --help", errText, tc.mention)
			}
			for _, bad := range []string{"goroutine", "panic", "Usage:", "Flags:"} {
				if strings.Contains(errText+stdout.String(), bad) {
					t.Errorf("output contains %q", bad)
				}
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := Run(t, dir, 10*time.Second, "version")
	if code != 0 || !strings.HasPrefix(out, "ferry ") || !strings.Contains(out, runtime.Version()) || errOut != "" {
		t.Errorf("version: %d %q %q", code, out, errOut)
	}
	for _, arg := range []string{"-h", "--help", "help"} {
		code, out, errOut := Run(t, dir, 10*time.Second, arg)
		if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, "--port") || errOut != "" {
			t.Errorf("%s: exit %d, stdout %d bytes, stderr %q", arg, code, len(out), errOut)
		}
	}
}

// startEnv starts ferry with extra environment variables (through the test
// process's environment, which Start passes on).
func startEnv(t *testing.T, dir string, env []string, args ...string) *Proc {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	p := Start(t, dir, args...)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		os.Unsetenv(k)
	}
	return p
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func TestEnvironment(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "a", ".env": "secret", "sub/b.txt": "b"})
	port := freePort(t)

	p := startEnv(t, dir, []string{"FERRY_PORT=" + port, "FERRY_NO_LISTING=1", "FERRY_HIDDEN=true", "FERRY_BIND=127.0.0.1"})
	if p.Port != port {
		t.Errorf("FERRY_PORT: serving on %s, want %s", p.Port, port)
	}
	if r, _ := Do(t, "GET", p.URL+"/sub/", nil); r.StatusCode != 404 {
		t.Errorf("FERRY_NO_LISTING=1: listing answers %d", r.StatusCode)
	}
	if r, b := Do(t, "GET", p.URL+"/.env", nil); r.StatusCode != 200 || string(b) != "secret" {
		t.Errorf("FERRY_HIDDEN=true: /.env answers %d", r.StatusCode)
	}
	p.Signal(syscall.SIGINT)
	p.Wait(5 * time.Second)

	// The command line wins over the environment.
	p = startEnv(t, dir, []string{"FERRY_PORT=" + port, "FERRY_NO_LISTING=1", "FERRY_HIDDEN=1", "FERRY_LOG=json"},
		"-p", "0", "--bind", "127.0.0.1", "--hidden=false", "--log", "text")
	if p.Port == port {
		t.Errorf("-p 0 lost to FERRY_PORT")
	}
	if r, _ := Do(t, "GET", p.URL+"/.env", nil); r.StatusCode != 404 {
		t.Errorf("--hidden=false lost to FERRY_HIDDEN: %d", r.StatusCode)
	}
	if r, _ := Do(t, "GET", p.URL+"/sub/", nil); r.StatusCode != 404 {
		t.Errorf("FERRY_NO_LISTING not applied when not on the command line: %d", r.StatusCode)
	}
	if !p.WaitOutput("GET /sub/ 404", 5*time.Second) {
		t.Errorf("--log text lost to FERRY_LOG=json:\n%s", p.Stdout())
	}
}

var urlLineRE = regexp.MustCompile(`(?m)^\s+(https?://\S+)$`)

// bannerURLs are the base URLs the banner lists (not the per-file links).
func bannerURLs(out string) []string {
	head, _, _ := strings.Cut(out, "files:")
	var urls []string
	for _, m := range urlLineRE.FindAllStringSubmatch(head, -1) {
		urls = append(urls, m[1])
	}
	return urls
}

func fileLinks(out string) []string {
	_, tail, found := strings.Cut(out, "files:\n")
	if !found {
		return nil
	}
	var links []string
	for l := range strings.SplitSeq(tail, "\n") {
		if !strings.HasPrefix(l, "  http") {
			break
		}
		links = append(links, strings.TrimSpace(l))
	}
	return links
}

func TestDefaultPort(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "a"})
	t.Run("free", func(t *testing.T) {
		ln, err := net.Listen("tcp", ":8000")
		if err != nil {
			t.Skip("port 8000 is busy on this machine")
		}
		ln.Close()
		p := Start(t, dir)
		if p.Port != "8000" {
			t.Errorf("default port %s, want 8000", p.Port)
		}
		if strings.Contains(p.Stdout(), "in use") {
			t.Errorf("banner claims 8000 is in use:\n%s", p.Stdout())
		}
	})
	t.Run("taken", func(t *testing.T) {
		ln, err := net.Listen("tcp", ":8000")
		if err != nil {
			t.Skip("cannot occupy port 8000 ourselves")
		}
		defer ln.Close()
		p := Start(t, dir)
		if p.Port == "8000" {
			t.Fatalf("serving on 8000 although it is taken")
		}
		want := "port 8000 is in use; serving on port " + p.Port + " instead"
		if !strings.Contains(p.Stdout(), want) {
			t.Errorf("banner lacks %q:\n%s", want, p.Stdout())
		}
		// Issue 11 item 22: the next ports are tried before a random one,
		// so the fallback is guessable. Other programs may hold some of
		// them; only when all ten are taken may ferry go elsewhere.
		if n, _ := strconv.Atoi(p.Port); n < 8001 || n > 8010 {
			for port := 8001; port <= 8010; port++ {
				if ln, err := net.Listen("tcp", ":"+strconv.Itoa(port)); err == nil {
					ln.Close()
					t.Errorf("fell back to %s although %d is free", p.Port, port)
					break
				}
			}
		}
		if r, b := Do(t, "GET", p.URL+"/a.txt", nil); r.StatusCode != 200 || string(b) != "a" {
			t.Errorf("fallback URL answers %d", r.StatusCode)
		}
	})
}

func TestBanner(t *testing.T) {
	few := t.TempDir()
	WriteFiles(t, few, map[string]string{"a.txt": "a", "b c.txt": "bc", "ünï.txt": "u", ".hidden": "h", "sub/x": "x"})
	p := Start(t, few, "-p", "0")
	out := p.Stdout()
	if !strings.Contains(out, few) {
		t.Errorf("banner does not name the folder %s:\n%s", few, out)
	}
	urls := bannerURLs(out)
	if len(urls) == 0 {
		t.Fatalf("no URLs:\n%s", out)
	}
	hasLocal := false
	for _, u := range urls {
		if strings.Contains(u, "0.0.0.0") || strings.Contains(u, "[::]") {
			t.Errorf("banner shows %s", u)
		}
		if strings.HasPrefix(u, "http://localhost:") {
			hasLocal = true
			if r, _ := Do(t, "GET", u, nil); r.StatusCode != 200 {
				t.Errorf("%s answers %d", u, r.StatusCode)
			}
		}
	}
	if !hasLocal {
		t.Errorf("no localhost URL: %v", urls)
	}
	links := fileLinks(out)
	if len(links) != 3 {
		t.Errorf("file links %v, want 3 (no dotfile, no folder)", links)
	}
	for _, l := range links {
		u := p.URL + l[strings.Index(l[len("http://"):], "/")+len("http://"):]
		if r, _ := Do(t, "GET", u, nil); r.StatusCode != 200 {
			t.Errorf("link %s (%s) answers %d", l, u, r.StatusCode)
		}
	}

	many := t.TempDir()
	files := map[string]string{}
	for i := range 21 {
		files["f"+strconv.Itoa(i)+".txt"] = "x"
	}
	WriteFiles(t, many, files)
	pm := Start(t, many, "-p", "0")
	if l := fileLinks(pm.Stdout()); len(l) != 0 || strings.Contains(pm.Stdout(), "f20.txt") {
		t.Errorf("21 files: per-file links shown:\n%s", pm.Stdout())
	}
	files = map[string]string{}
	for i := range 20 {
		files["f"+strconv.Itoa(i)+".txt"] = "x"
	}
	twenty := t.TempDir()
	WriteFiles(t, twenty, files)
	pt := Start(t, twenty, "-p", "0")
	if l := fileLinks(pt.Stdout()); len(l) != 20 {
		t.Errorf("20 files: %d links", len(l))
	}
}

func TestBind(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "a"})
	p := Start(t, dir, "-p", "0", "--bind", "127.0.0.1")
	if urls := bannerURLs(p.Stdout()); len(urls) != 1 || urls[0] != p.URL+"/" {
		t.Errorf("--bind 127.0.0.1: URLs %v, want just %s/", urls, p.URL)
	}
	if r, _ := Do(t, "GET", p.URL+"/a.txt", nil); r.StatusCode != 200 {
		t.Errorf("GET: %d", r.StatusCode)
	}
	if c, err := net.DialTimeout("tcp", "[::1]:"+p.Port, time.Second); err == nil {
		c.Close()
		t.Errorf("--bind 127.0.0.1 also accepts on ::1")
	}

	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback")
	}
	ln.Close()
	p6 := Start(t, dir, "-p", "0", "--bind", "::1")
	if urls := bannerURLs(p6.Stdout()); len(urls) != 1 || !strings.HasPrefix(urls[0], "http://[::1]:") {
		t.Errorf("--bind ::1: URLs %v", urls)
	}
	if r, b := Do(t, "GET", p6.URL+"/a.txt", nil); r.StatusCode != 200 || string(b) != "a" {
		t.Errorf("GET over ::1: %d", r.StatusCode)
	}
	// Both, repeated.
	pb := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-b", "::1")
	if urls := bannerURLs(pb.Stdout()); len(urls) != 2 {
		t.Errorf("two binds: URLs %v", urls)
	}
	for _, u := range bannerURLs(pb.Stdout()) {
		if r, err := http.Get(u + "a.txt"); err != nil || r.StatusCode != 200 {
			t.Errorf("%s: %v", u, err)
		} else {
			r.Body.Close()
		}
	}
}

// TestCommandLineHabits covers habits brought from other tools (issue 11
// item 22): each gets a hint or simply works.
func TestCommandLineHabits(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "a", "sub/b.txt": "b"})
	for _, tc := range []struct {
		name string
		args []string
		hint string
	}{
		{"port as the argument", []string{"9000"}, "did you mean -p 9000?"},
		{"port after -d", []string{"-d", "sub", "9000"}, "did you mean -p 9000?"},
		{"echo with a port argument", []string{"echo", "9000"}, "did you mean -p 9000?"},
		{"time with a port argument", []string{"time", "8765"}, "did you mean -p 8765?"},
		{"bind with a port", []string{"-b", "127.0.0.1:9000"}, "use -b 127.0.0.1 -p 9000"},
		{"bind with an IPv6 port", []string{"-b", "[::1]:9000"}, "use -b ::1 -p 9000"},
		{"bind with only a port", []string{"--bind", ":9000"}, "use -p 9000"},
		{"echo bind with a port", []string{"echo", "-b", "localhost:9000"}, "use -b localhost -p 9000"},
		{"swapped letters", []string{"--uplaod"}, "unknown flag --uplaod; did you mean --upload?"},
		{"missing letter", []string{"--hiden"}, "did you mean --hidden?"},
		{"extra letter, with a value", []string{"--cgi-timout=5s"}, "did you mean --cgi-timeout?"},
		{"echo flag typo", []string{"echo", "--max-bdy", "1K"}, "did you mean --max-body?"},
		{"single dash long flag", []string{"-port", "9000"}, "unknown flag -port; did you mean --port?"},
		{"single dash bool flag", []string{"-quiet"}, "did you mean --quiet?"},
		{"-d and a folder", []string{"-d", "sub", "."}, "either with -d or as an argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := Run(t, dir, 10*time.Second, tc.args...)
			if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.hint) || out != "" {
				t.Errorf("ferry %v: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q",
					tc.args, code, out, errOut, tc.hint)
			}
		})
	}
	// Nothing is guessed for a name far from every flag.
	if _, _, errOut := Run(t, dir, 10*time.Second, "--frobnicate"); strings.Contains(errOut, "did you mean") {
		t.Errorf("--frobnicate: %q", errOut)
	}

	t.Run("--version", func(t *testing.T) {
		_, want, _ := Run(t, dir, 10*time.Second, "version")
		for _, args := range [][]string{{"--version"}, {"-p", "0", "--version"}, {"echo", "--version"}} {
			code, out, errOut := Run(t, dir, 10*time.Second, args...)
			if code != 0 || out != want || errOut != "" {
				t.Errorf("%v: exit %d, stdout %q (want %q), stderr %q", args, code, out, want, errOut)
			}
		}
	})

	t.Run("-d DIR", func(t *testing.T) {
		for _, args := range [][]string{{"-d", "sub"}, {"--directory", "sub"}, {"--directory=sub"}} {
			p := Start(t, dir, append([]string{"-p", "0", "-b", "127.0.0.1"}, args...)...)
			if r, b := Do(t, "GET", p.URL+"/b.txt", nil); r.StatusCode != 200 || string(b) != "b" {
				t.Errorf("%v: GET /b.txt = %d %q", args, r.StatusCode, b)
			}
			if r, _ := Do(t, "GET", p.URL+"/a.txt", nil); r.StatusCode != 404 {
				t.Errorf("%v: GET /a.txt = %d, want 404 (outside the folder)", args, r.StatusCode)
			}
		}
	})

	t.Run("-b localhost", func(t *testing.T) {
		p := Start(t, dir, "-p", "0", "-b", "localhost")
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+p.Port, 5*time.Second); err != nil {
			t.Errorf("127.0.0.1: %v", err)
		} else {
			c.Close()
		}
		ln, err := net.Listen("tcp", "[::1]:0")
		if err != nil {
			t.Skip("no IPv6 loopback")
		}
		ln.Close()
		if r, b := Do(t, "GET", "http://[::1]:"+p.Port+"/a.txt", nil); r.StatusCode != 200 || string(b) != "a" {
			t.Errorf("::1: %d %q", r.StatusCode, b)
		}
		if !strings.Contains(p.Stdout(), "http://[::1]:"+p.Port+"/") {
			t.Errorf("banner lacks the ::1 URL:\n%s", p.Stdout())
		}
	})

	t.Run("--auth with a mangled bcrypt hash", func(t *testing.T) {
		// What bash leaves of alice:$2a$10$fbLX99PERTmrcIOSOxRnQenBf97gpfshhihQfr8OSSatr.unuR/3m
		// and of alice:$2a$10$50CluXK.IrsQj4Qg603RNuq62kuXn4McUOSviW7fEUeOkH2HaoaD2 unquoted,
		// one with its dollars gone, and the whole-tail case.
		for _, spec := range []string{"alice:a0.unuR/3m", "alice:a00CluXK.IrsQj4Qg603RNuq62kuXn4McUOSviW7fEUeOkH2HaoaD2",
			"alice:2a10fbLX99PERTmrcIOSOxRnQenBf97gpfshhihQfr8OSSatr.unuR/3m", "alice:a0"} {
			p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--auth", spec)
			// Stopped first: its stderr is read whole only once it has exited.
			p.Signal(syscall.SIGINT)
			if p.Wait(10*time.Second) != 0 {
				t.Errorf("--auth %s: no clean exit after Ctrl-C", spec)
			}
			if errOut := p.Stderr(); !strings.Contains(errOut, "looks like a bcrypt hash") || !strings.Contains(errOut, "single quotes") ||
				strings.Count(errOut, "\n") != 1 {
				t.Errorf("--auth %s: stderr %q, want one warning line suggesting single quotes", spec, errOut)
			}
		}
		p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--auth", "alice:correct-horse")
		p.Signal(syscall.SIGINT)
		p.Wait(10 * time.Second)
		if p.Stderr() != "" {
			t.Errorf("plain password: stderr %q", p.Stderr())
		}
	})
}

// ferry echo and ferry time on a Unix socket say where they listen (the
// banner named no address at all, and time suggested "nc localhost 0"),
// and answer there.
func TestSiblingsOnUnixSocket(t *testing.T) {
	dir := t.TempDir()
	tsock, esock := filepath.Join(dir, "time.sock"), filepath.Join(dir, "echo.sock")
	tp := StartNoWait(t, dir, "time", "-b", "unix:"+tsock)
	ep := StartNoWait(t, dir, "echo", "-b", "unix:"+esock)
	for _, p := range []*Proc{tp, ep} {
		if !p.WaitOutput("press Ctrl-C", 10*time.Second) {
			t.Fatalf("no banner:\n%s%s", p.Stdout(), p.Stderr())
		}
	}
	for p, want := range map[*Proc]string{tp: "  unix:" + tsock + " (Unix socket)\ntry: nc -U " + tsock + "\n", ep: "  unix:" + esock + " (Unix socket)\n"} {
		if !strings.Contains(p.Stdout(), want) {
			t.Errorf("banner lacks %q:\n%s", want, p.Stdout())
		}
	}
	c, err := net.DialTimeout("unix", tsock, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("seconds\n"))
	line := make([]byte, 64)
	n, _ := c.Read(line)
	if _, err := strconv.ParseInt(strings.TrimSpace(string(line[:n])), 10, 64); err != nil {
		t.Errorf("time over the socket answered %q", line[:n])
	}
	resp, body := DoWith(t, unixClient(esock), "GET", "http://localhost/hello", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "/hello") {
		t.Errorf("echo over the socket: %d\n%s", resp.StatusCode, body)
	}
}
