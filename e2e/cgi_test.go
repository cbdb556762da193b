package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cgiTree builds a served folder with scripts in cgi-bin/, a script at the
// top of the tree and one outside it; the last two (and the symlinks to
// them) create a marker file when run, which no test may ever see.
type cgiTree struct {
	dir, marker, pidFile string
}

func newCGITree(t *testing.T) cgiTree {
	t.Helper()
	NeedCommand(t, "sh")
	root := t.TempDir()
	dir := filepath.Join(root, "served")
	outside := filepath.Join(root, "outside")
	ct := cgiTree{dir: dir, marker: filepath.Join(root, "MARKER"), pidFile: filepath.Join(root, "sleep.pid")}
	runs := "#!/bin/sh\ntouch " + ct.marker + "\necho 'Content-Type: text/plain'\necho\necho ran\n"
	scripts := map[string]string{
		"cgi-bin/env.sh": `#!/bin/sh
echo "Content-Type: text/plain"
echo
for v in REQUEST_METHOD PATH_INFO QUERY_STRING CONTENT_TYPE CONTENT_LENGTH SERVER_SOFTWARE REMOTE_ADDR REMOTE_PORT SCRIPT_NAME GATEWAY_INTERFACE HTTP_X_CUSTOM HTTP_PROXY HTTP_AUTHORIZATION REMOTE_USER AUTH_TYPE; do
  eval "echo $v=\${$v-unset}"
done
echo "body=$(cat)"
echo "stderr line from env.sh" >&2
`,
		"cgi-bin/sub/deep.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nDEEP %s\\n' \"$PATH_INFO\"\n",
		"cgi-bin/teapot.sh":   "#!/bin/sh\nprintf 'Status: 418 I am a teapot\\r\\nContent-Type: text/plain\\r\\nX-Script: yes\\r\\n\\r\\nshort and stout\\n'\n",
		"cgi-bin/redirect.sh": "#!/bin/sh\nprintf 'Location: http://example.com/elsewhere\\n\\n'\n",
		"cgi-bin/hang.sh":     "#!/bin/sh\nsleep 30 &\necho $! > " + ct.pidFile + "\nwait\n",
		"cgi-bin/crash.sh":    "#!/bin/sh\necho 'dying' >&2\nexit 1\n",
		"cgi-bin/badhdr.sh":   "#!/bin/sh\necho 'this is not a header'\necho\necho body\n",
		"cgi-bin/notype.sh":   "#!/bin/sh\nprintf 'X-Only: 1\\n\\nbody\\n'\n",
		"cgi-bin/late.sh":     "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\nexit 3\n",
		"cgi-bin/.hidden.sh":  runs,
		"top.sh":              runs,
	}
	for name, text := range scripts {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	WriteFiles(t, dir, map[string]string{"cgi-bin/source.sh": "#!/bin/sh\n# SECRET-SOURCE password=hunter2\n"})
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "evil.sh"), []byte(runs), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"cgi-bin/out.sh":    filepath.Join(outside, "evil.sh"), // leaves the tree
		"cgi-bin/up.sh":     "../top.sh",                       // stays in the tree, leaves cgi-bin
		"cgi-bin/outdir":    outside,                           // a folder out of the tree
		"cgi-bin/alias.sh":  "env.sh",                          // inside cgi-bin: fine
		"cgi-bin/absenv.sh": filepath.Join(dir, "cgi-bin", "env.sh"),
	} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	return ct
}

func (ct cgiTree) assertNoMarker(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(ct.marker); err == nil {
		t.Fatal("a script outside cgi-bin/ ran: the marker file exists")
	}
}

// envOf parses env.sh's KEY=VALUE lines.
func envOf(body []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(body), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

func TestCGIScripts(t *testing.T) {
	ct := newCGITree(t)
	p := Start(t, ct.dir, "-p", "0", "-b", "127.0.0.1", "--cgi", "--cgi-timeout", "1s")

	t.Run("environment", func(t *testing.T) {
		cases := []struct {
			name, method, path, body, ctype string
			want                            map[string]string
		}{
			{"custom method with path info and query", "FUNC", "/cgi-bin/env.sh/a/b%20c/?x=1&y=%20z", "", "",
				map[string]string{"REQUEST_METHOD": "FUNC", "PATH_INFO": "/a/b c/", "QUERY_STRING": "x=1&y=%20z",
					"CONTENT_LENGTH": "unset", "body": ""}},
			{"post body on stdin", "POST", "/cgi-bin/env.sh", "name=ferry&x=1", "application/x-www-form-urlencoded",
				map[string]string{"REQUEST_METHOD": "POST", "PATH_INFO": "", "CONTENT_LENGTH": "14",
					"CONTENT_TYPE": "application/x-www-form-urlencoded", "body": "name=ferry&x=1"}},
			{"put", "PUT", "/cgi-bin/env.sh/x", "raw", "text/plain",
				map[string]string{"REQUEST_METHOD": "PUT", "PATH_INFO": "/x", "CONTENT_LENGTH": "3", "body": "raw"}},
			{"delete", "DELETE", "/cgi-bin/env.sh", "", "", map[string]string{"REQUEST_METHOD": "DELETE"}},
			{"options", "OPTIONS", "/cgi-bin/env.sh", "", "", map[string]string{"REQUEST_METHOD": "OPTIONS"}},
			{"double slash", "GET", "/cgi-bin//env.sh", "", "", map[string]string{"SCRIPT_NAME": "/cgi-bin/env.sh"}},
			{"symlink inside cgi-bin", "GET", "/cgi-bin/alias.sh", "", "", map[string]string{"SCRIPT_NAME": "/cgi-bin/alias.sh"}},
			{"absolute symlink inside cgi-bin", "GET", "/cgi-bin/absenv.sh", "", "", nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var body io.Reader
				if c.body != "" {
					body = strings.NewReader(c.body)
				}
				hdr := []string{"X-Custom", "hello", "Proxy", "http://evil.example:3128", "Authorization", "Basic dTpw"}
				if c.ctype != "" {
					hdr = append(hdr, "Content-Type", c.ctype)
				}
				resp, b := Do(t, c.method, p.URL+c.path, body, hdr...)
				if c.name == "absolute symlink inside cgi-bin" {
					// os.Root refuses absolute symlinks even into the tree.
					if resp.StatusCode != http.StatusNotFound {
						t.Fatalf("status %d, want 404", resp.StatusCode)
					}
					return
				}
				if resp.StatusCode != 200 {
					t.Fatalf("status %d, body %q", resp.StatusCode, b)
				}
				env := envOf(b)
				want := map[string]string{
					"SERVER_SOFTWARE": "ferry/", "REMOTE_ADDR": "127.0.0.1", "GATEWAY_INTERFACE": "CGI/1.1",
					"HTTP_X_CUSTOM": "hello", "HTTP_PROXY": "unset", "HTTP_AUTHORIZATION": "unset",
					// Without --auth nothing checked "Basic dTpw": it names nobody.
					"REMOTE_USER": "unset", "AUTH_TYPE": "unset",
				}
				for k, v := range c.want {
					want[k] = v
				}
				for k, v := range want {
					got := env[k]
					if k == "SERVER_SOFTWARE" {
						if !strings.HasPrefix(got, v) || len(got) == len(v) {
							t.Errorf("%s = %q, want ferry/<version>", k, got)
						}
						continue
					}
					if got != v {
						t.Errorf("%s = %q, want %q", k, got, v)
					}
				}
				if port, err := strconv.Atoi(env["REMOTE_PORT"]); err != nil || port <= 0 {
					t.Errorf("REMOTE_PORT = %q", env["REMOTE_PORT"])
				}
			})
		}
	})

	t.Run("chunked body is buffered", func(t *testing.T) {
		pr, pw := io.Pipe()
		go func() { pw.Write([]byte("chunk-one ")); pw.Write([]byte("chunk-two")); pw.Close() }()
		req, _ := http.NewRequest("POST", p.URL+"/cgi-bin/env.sh", pr)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		env := envOf(b)
		if resp.StatusCode != 200 || env["CONTENT_LENGTH"] != "19" || env["body"] != "chunk-one chunk-two" {
			t.Fatalf("status %d, env %v", resp.StatusCode, env)
		}
	})

	t.Run("curl -X FUNC", func(t *testing.T) {
		curl := NeedCommand(t, "curl")
		out, err := exec.Command(curl, "-sS", "-X", "FUNC", "--data-binary", "via curl", p.URL+"/cgi-bin/env.sh/pi?q=1").Output()
		if err != nil {
			t.Fatal(err)
		}
		env := envOf(out)
		if env["REQUEST_METHOD"] != "FUNC" || env["PATH_INFO"] != "/pi" || env["QUERY_STRING"] != "q=1" || env["body"] != "via curl" {
			t.Fatalf("env %v", env)
		}
	})

	t.Run("script headers", func(t *testing.T) {
		resp, b := Do(t, "GET", p.URL+"/cgi-bin/teapot.sh", nil)
		if resp.StatusCode != 418 || resp.Header.Get("X-Script") != "yes" || resp.Header.Get("Content-Type") != "text/plain" || string(b) != "short and stout\n" {
			t.Fatalf("teapot: %d %v %q", resp.StatusCode, resp.Header, b)
		}
		if resp.Header.Get("Status") != "" {
			t.Error("the Status header leaked into the response")
		}
		resp, _ = Do(t, "GET", p.URL+"/cgi-bin/redirect.sh", nil)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://example.com/elsewhere" {
			t.Fatalf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, b = Do(t, "GET", p.URL+"/cgi-bin/sub/deep.sh/more", nil)
		if resp.StatusCode != 200 || string(b) != "DEEP /more\n" {
			t.Fatalf("nested script: %d %q", resp.StatusCode, b)
		}
		resp, _ = Do(t, "HEAD", p.URL+"/cgi-bin/teapot.sh", nil)
		if resp.StatusCode != 418 {
			t.Fatalf("HEAD: %d", resp.StatusCode)
		}
	})

	t.Run("failures", func(t *testing.T) {
		cases := []struct {
			path   string
			status int
		}{
			{"/cgi-bin/crash.sh", http.StatusBadGateway},
			{"/cgi-bin/badhdr.sh", http.StatusBadGateway},
			{"/cgi-bin/notype.sh", http.StatusBadGateway},
			{"/cgi-bin/late.sh", http.StatusOK}, // headers came before the failing exit
			{"/cgi-bin/missing.sh", http.StatusNotFound},
			{"/cgi-bin/source.sh", http.StatusForbidden},
			{"/cgi-bin/source.sh/extra", http.StatusForbidden},
			{"/cgi-bin/", http.StatusForbidden},
			{"/cgi-bin", http.StatusForbidden},
			{"/cgi-bin/sub/", http.StatusForbidden},
		}
		for _, c := range cases {
			start := time.Now()
			resp, b := Do(t, "GET", p.URL+c.path, nil)
			if resp.StatusCode != c.status {
				t.Errorf("%s: status %d, want %d (%q)", c.path, resp.StatusCode, c.status, b)
			}
			if bytes.Contains(b, []byte("SECRET-SOURCE")) || bytes.Contains(b, []byte(ct.dir)) {
				t.Errorf("%s: the reply shows the source or a host path: %q", c.path, b)
			}
			if time.Since(start) > 900*time.Millisecond {
				t.Errorf("%s took %s", c.path, time.Since(start))
			}
		}
	})

	t.Run("traversal never runs outside cgi-bin", func(t *testing.T) {
		for _, c := range []struct {
			raw    string
			status string
		}{
			{"/cgi-bin/../top.sh", "400"},
			{"/cgi-bin/%2e%2e/top.sh", "400"},
			{"/cgi-bin/%2E%2E/top.sh", "400"},
			{"/cgi-bin/..%2ftop.sh", "400"},
			{"/cgi-bin/%2e%2e%2ftop.sh", "400"},
			{"/cgi-bin\\..\\top.sh", "400"},
			{"/cgi-bin/out.sh", "404"},
			{"/cgi-bin/out.sh/x", "404"},
			{"/cgi-bin/outdir/evil.sh", "404"},
			{"/cgi-bin/up.sh", "403"},
			{"/cgi-bin/.hidden.sh", "404"},
			{"/CGI-BIN/env.sh", "404"},
			{"/Cgi-Bin/../top.sh", "400"},
			{"/top.sh", "200"}, // served as a file, not run
			{"/./cgi-bin/./up.sh", "403"},
		} {
			resp := RawRequest(t, strings.TrimPrefix(p.URL, "http://"),
				"GET "+c.raw+" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 5*time.Second)
			if !strings.HasPrefix(resp, "HTTP/1.1 "+c.status+" ") {
				t.Errorf("%s: want %s, got %q", c.raw, c.status, firstLine(resp))
			}
		}
		ct.assertNoMarker(t)
	})

	t.Run("hang is killed with 504", func(t *testing.T) {
		start := time.Now()
		resp, b := Do(t, "GET", p.URL+"/cgi-bin/hang.sh", nil)
		took := time.Since(start)
		if resp.StatusCode != http.StatusGatewayTimeout {
			t.Fatalf("status %d (%q), want 504", resp.StatusCode, b)
		}
		if took < 900*time.Millisecond || took > 2500*time.Millisecond {
			t.Fatalf("504 after %s, want about 1s", took)
		}
		pidText, err := os.ReadFile(ct.pidFile)
		if err != nil {
			t.Fatal(err)
		}
		pid := strings.TrimSpace(string(pidText))
		deadline := time.Now().Add(2 * time.Second)
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("the script's sleep (pid %s) is still running", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("stderr is logged with the script", func(t *testing.T) {
		Do(t, "GET", p.URL+"/cgi-bin/env.sh", nil)
		Do(t, "GET", p.URL+"/cgi-bin/crash.sh", nil)
		deadline := time.Now().Add(3 * time.Second)
		for {
			errs := p.Stderr()
			if strings.Contains(errs, "script=/cgi-bin/env.sh line=stderr line from env.sh") &&
				strings.Contains(errs, "script=/cgi-bin/crash.sh line=dying") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("stderr lines not logged; ferry's stderr:\n%s", errs)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if strings.Contains(p.Stdout(), "stderr line from env.sh") {
			t.Error("script stderr went to stdout")
		}
	})
}

// alive reports whether a process runs (a zombie awaiting its reaper does not).
func alive(pid string) bool {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

func TestCGIOffServesFiles(t *testing.T) {
	ct := newCGITree(t)
	p := Start(t, ct.dir, "-p", "0", "-b", "127.0.0.1")
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/cgi-bin/env.sh", 200},
		{"POST", "/cgi-bin/env.sh", 405},
		{"FUNC", "/cgi-bin/env.sh", 501},
		{"GET", "/cgi-bin/up.sh", 200}, // a link inside the tree: its text
		{"GET", "/cgi-bin/out.sh", 404},
		{"GET", "/top.sh", 200},
	} {
		resp, b := Do(t, c.method, p.URL+c.path, nil)
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.status)
		}
		if c.status == 200 && !bytes.HasPrefix(b, []byte("#!/bin/sh")) {
			t.Errorf("%s %s: not served as a file: %q", c.method, c.path, b)
		}
	}
	resp, _ := Do(t, "GET", p.URL+"/cgi-bin/", nil)
	if resp.StatusCode != 200 {
		t.Errorf("cgi-bin/ listing without --cgi: %d", resp.StatusCode)
	}
	ct.assertNoMarker(t)
}
