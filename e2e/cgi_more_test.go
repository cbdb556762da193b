package e2e

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeScripts writes executable scripts under dir.
func writeScripts(t *testing.T, dir string, scripts map[string]string) {
	t.Helper()
	for name, text := range scripts {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// Item 11: REMOTE_USER and AUTH_TYPE come only from credentials ferry
// checked; the no-auth case is in TestCGIScripts/environment.
func TestCGIRemoteUserVerified(t *testing.T) {
	NeedCommand(t, "sh")
	dir := t.TempDir()
	writeScripts(t, dir, map[string]string{"cgi-bin/who.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n" +
		"echo \"REMOTE_USER=${REMOTE_USER-unset}\"\necho \"AUTH_TYPE=${AUTH_TYPE-unset}\"\n"})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--cgi", "--auth", "alice:s3cret", "--auth-anon-read")
	for _, c := range []struct {
		name       string
		hdr        []string
		user, kind string
	}{
		{"verified", []string{"Authorization", "Basic YWxpY2U6czNjcmV0"}, "alice", "Basic"}, // alice:s3cret
		{"anonymous read", nil, "unset", "unset"},
	} {
		resp, b := Do(t, "GET", p.URL+"/cgi-bin/who.sh", nil, c.hdr...)
		env := envOf(b)
		if resp.StatusCode != 200 || env["REMOTE_USER"] != c.user || env["AUTH_TYPE"] != c.kind {
			t.Errorf("%s: status %d, env %v; want REMOTE_USER=%s AUTH_TYPE=%s", c.name, resp.StatusCode, env, c.user, c.kind)
		}
	}
	// Wrong credentials never reach the script.
	resp, b := Do(t, "GET", p.URL+"/cgi-bin/who.sh", nil, "Authorization", "Basic YWxpY2U6d3Jvbmc=")
	if resp.StatusCode != http.StatusUnauthorized || bytes.Contains(b, []byte("REMOTE_USER")) {
		t.Errorf("bad password: %d %q", resp.StatusCode, b)
	}
}

// Item 11: what a script leaves running in its process group ends with it,
// whether or not it still holds the script's output.
func TestCGIGroupEndsWithScript(t *testing.T) {
	NeedCommand(t, "sh")
	NeedCommand(t, "sleep")
	root := t.TempDir()
	dir := filepath.Join(root, "served")
	pidFile := func(n string) string { return filepath.Join(root, n+".pid") }
	head := "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n"
	scripts := map[string]string{
		// The subshell exits at once; its sleep keeps stdout and stderr.
		"holds-output": head + "(sleep 1000 & echo $! > " + pidFile("holds-output") + ")\necho bye\n",
		// Detached from every pipe: nothing tells ferry it still runs.
		"detached": head + "sleep 1000 </dev/null >/dev/null 2>&1 &\necho $! > " + pidFile("detached") + "\necho bye\n",
	}
	for name, text := range scripts {
		writeScripts(t, dir, map[string]string{"cgi-bin/" + name + ".sh": text})
	}
	// The default --cgi-timeout (60s) is far longer than the waits below.
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--cgi")
	client := &http.Client{Timeout: 20 * time.Second}
	for name := range scripts {
		t.Run(name, func(t *testing.T) {
			t.Cleanup(func() {
				// Whatever the outcome, no sleep outlives the test.
				text, _ := os.ReadFile(pidFile(name))
				if pid := strings.TrimSpace(string(text)); pid != "" && alive(pid) {
					n, _ := strconv.Atoi(pid)
					syscall.Kill(n, syscall.SIGKILL)
				}
			})
			resp, err := client.Get(p.URL + "/cgi-bin/" + name + ".sh")
			if err != nil {
				t.Fatalf("no whole response while the script's child lives: %v", err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || string(b) != "bye\n" {
				t.Fatalf("status %d, body %q, %v", resp.StatusCode, b, err)
			}
			text, err := os.ReadFile(pidFile(name))
			if err != nil {
				t.Fatal(err)
			}
			pid := strings.TrimSpace(string(text))
			deadline := time.Now().Add(10 * time.Second)
			for alive(pid) {
				if time.Now().After(deadline) {
					t.Fatalf("the script's child (pid %s) still runs after the script ended", pid)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// Item 18: a chunked body reaches the script whole, with CONTENT_LENGTH,
// within --max-upload, spooled where no one can see it.
func TestCGIChunkedBodySpooled(t *testing.T) {
	NeedCommand(t, "sh")
	NeedCommand(t, "sha256sum")
	NeedCommand(t, "cut")
	root := t.TempDir()
	dir := filepath.Join(root, "served")
	tmp := filepath.Join(root, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp) // ferry's temporary folder
	writeScripts(t, dir, map[string]string{"cgi-bin/sum.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n" +
		"echo \"CONTENT_LENGTH=${CONTENT_LENGTH-unset}\"\necho \"sha256=$(sha256sum | cut -d' ' -f1)\"\n"})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--cgi", "--max-upload", "4M")

	body := make([]byte, 3<<20)
	rand.Read(body)
	sum := sha256.Sum256(body)
	send := func(t *testing.T, chunked bool, data []byte) (int, map[string]string) {
		t.Helper()
		var rd io.Reader = bytes.NewReader(data)
		if chunked {
			// A reader of unknown length: net/http sends it chunked.
			rd = io.MultiReader(bytes.NewReader(data))
		}
		req, _ := http.NewRequest("POST", p.URL+"/cgi-bin/sum.sh", rd)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, envOf(b)
	}
	for _, chunked := range []bool{true, false} {
		name := map[bool]string{true: "chunked", false: "content-length"}[chunked]
		t.Run(name, func(t *testing.T) {
			status, env := send(t, chunked, body)
			if status != 200 || env["CONTENT_LENGTH"] != strconv.Itoa(len(body)) || env["sha256"] != hex.EncodeToString(sum[:]) {
				t.Fatalf("status %d, env %v; want CONTENT_LENGTH=%d sha256=%x", status, env, len(body), sum)
			}
			big := make([]byte, 5<<20)
			if status, _ := send(t, chunked, big); status != http.StatusRequestEntityTooLarge {
				t.Fatalf("5 MiB over --max-upload 4M: status %d, want 413", status)
			}
		})
	}
	// The spool never had a name in the tree, and has none left anywhere.
	var names []string
	for _, d := range []string{dir, tmp} {
		filepath.WalkDir(d, func(path string, _ os.DirEntry, _ error) error {
			rel, _ := filepath.Rel(root, path)
			names = append(names, filepath.ToSlash(rel))
			return nil
		})
	}
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "served served/cgi-bin served/cgi-bin/sum.sh tmp" {
		t.Errorf("files left: %s", got)
	}
}

// Item 18: /htbin/ and --cgi-dir folders run scripts like /cgi-bin/, and no
// file of a CGI folder is ever served: not by GET, not in an archive, not
// after a MOVE or COPY out of it.
func TestCGIFolders(t *testing.T) {
	NeedCommand(t, "sh")
	root := t.TempDir()
	dir := filepath.Join(root, "served")
	// Every file of a CGI folder holds SECRET-SOURCE; nothing else does.
	ran := func(what string) string {
		return "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\necho '" + what + " ran'\n# SECRET-SOURCE\n"
	}
	other := "#!/bin/sh\necho other\n"
	writeScripts(t, dir, map[string]string{
		"htbin/x.sh":         ran("htbin"),
		"tools/run/y.sh":     ran("tools/run"),
		"cgi-bin/z.sh":       ran("cgi-bin"),
		"other/top.sh":       other,
		"tools/run/sub/w.sh": ran("nested"),
	})
	WriteFiles(t, dir, map[string]string{
		"htbin/readme.txt":   "SECRET-SOURCE readme",
		"tools/run/data.txt": "SECRET-SOURCE data",
		"cgi-bin/notes.txt":  "SECRET-SOURCE notes",
		"tools/notes.txt":    "plain notes",
		"other/free.txt":     "free",
	})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--cgi", "--cgi-dir", "/tools/run/", "-w")

	for _, c := range []struct {
		path   string
		status int
		body   string
	}{
		{"/htbin/x.sh", 200, "htbin ran\n"},
		{"/htbin/x.sh/more?q=1", 200, "htbin ran\n"},
		{"/tools/run/y.sh", 200, "tools/run ran\n"},
		{"/tools/run/sub/w.sh", 200, "nested ran\n"},
		{"/cgi-bin/z.sh", 200, "cgi-bin ran\n"},
		{"/htbin/readme.txt", 403, ""},
		{"/tools/run/data.txt", 403, ""},
		{"/cgi-bin/notes.txt", 403, ""},
		{"/htbin/", 403, ""},
		{"/tools/run/", 403, ""},
		{"/HTBIN/x.sh", 404, ""},
		{"/Tools/Run/data.txt", 404, ""},
		{"/tools/notes.txt", 200, "plain notes"},
		{"/other/top.sh", 200, other}, // not a CGI folder: a file
	} {
		resp, b := Do(t, "GET", p.URL+c.path, nil)
		if resp.StatusCode != c.status || c.body != "" && string(b) != c.body {
			t.Errorf("GET %s: %d %q, want %d %q", c.path, resp.StatusCode, b, c.status, c.body)
		}
		if bytes.Contains(b, []byte("SECRET-SOURCE")) {
			t.Errorf("GET %s shows a CGI folder's file: %q", c.path, b)
		}
	}

	t.Run("archives", func(t *testing.T) {
		for _, q := range []string{"/?tar", "/tools/?tar", "/?zip", "/tools/?zip"} {
			resp, b := Do(t, "GET", p.URL+q, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d", q, resp.StatusCode)
			}
			var names []string
			if strings.HasSuffix(q, "zip") {
				zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range zr.File {
					names = append(names, f.Name)
					rc, _ := f.Open()
					data, _ := io.ReadAll(rc)
					rc.Close()
					if bytes.Contains(data, []byte("SECRET-SOURCE")) {
						t.Errorf("%s holds %s from a CGI folder", q, f.Name)
					}
				}
			} else if bytes.Contains(b, []byte("SECRET-SOURCE")) {
				t.Errorf("%s holds a CGI folder's file", q)
			}
			for _, n := range names {
				if strings.Contains(n, "htbin/") && !strings.HasSuffix(n, "htbin/") || strings.Contains(n, "run/") && !strings.HasSuffix(n, "run/") {
					t.Errorf("%s lists %s", q, n)
				}
			}
			if strings.HasSuffix(q, "zip") && q == "/?zip" && !strings.Contains(strings.Join(names, " "), "other/free.txt") {
				t.Errorf("%s lacks the ordinary files: %v", q, names)
			}
		}
	})

	t.Run("move and copy", func(t *testing.T) {
		dest := func(path string) string { return p.URL + path }
		for _, c := range []struct{ method, from, to string }{
			{"MOVE", "/other/top.sh", "/htbin/top.sh"},         // an executable into a CGI folder would run
			{"COPY", "/other/free.txt", "/tools/run/free.txt"}, // nor may anything else land there
			{"MOVE", "/tools", "/tools2"},                      // carries tools/run out: its files would be served
			{"COPY", "/tools", "/tools3"},
		} {
			resp, _ := Do(t, c.method, p.URL+c.from, nil, "Destination", dest(c.to))
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s → %s: %d, want 403", c.method, c.from, c.to, resp.StatusCode)
			}
		}
		for _, gone := range []string{"htbin/top.sh", "tools/run/free.txt", "tools2", "tools3"} {
			if _, err := os.Stat(filepath.Join(dir, gone)); err == nil {
				t.Errorf("%s was created", gone)
			}
		}
		// Elsewhere MOVE works as before.
		resp, _ := Do(t, "COPY", p.URL+"/other/free.txt", nil, "Destination", dest("/other/free2.txt"))
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("COPY outside CGI folders: %d", resp.StatusCode)
		}
	})

	t.Run("FERRY_CGI_DIR", func(t *testing.T) {
		t.Setenv("FERRY_CGI_DIR", "tools/run")
		p := Start(t, dir, "-p", "0", "-b", "127.0.0.1")
		resp, b := Do(t, "GET", p.URL+"/tools/run/y.sh", nil)
		if resp.StatusCode != 200 || string(b) != "tools/run ran\n" {
			t.Errorf("GET /tools/run/y.sh: %d %q", resp.StatusCode, b)
		}
	})

	t.Run("bad --cgi-dir", func(t *testing.T) {
		for _, bad := range []string{"/", "../x", "a/../b", "/.ferry/x", "/.FERRY/x"} {
			code, _, errOut := Run(t, dir, 10*time.Second, "-p", "0", "-b", "127.0.0.1", "--cgi-dir", bad)
			if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "--cgi-dir") {
				t.Errorf("--cgi-dir %q: exit %d, stderr %q; want 2 and one line", bad, code, errOut)
			}
		}
	})
}

// A script that answers without reading its body ends the exchange even
// when the client stops sending mid-body: ferry must not keep the
// response open waiting for the rest.
func TestCGIStalledBody(t *testing.T) {
	NeedCommand(t, "sh")
	dir := t.TempDir()
	writeScripts(t, dir, map[string]string{"cgi-bin/s.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n"})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--cgi")
	resp := RawRequest(t, strings.TrimPrefix(p.URL, "http://"),
		"POST /cgi-bin/s.sh HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n0123456789", 20*time.Second)
	// The last chunk goes out only once the handler has returned.
	if !strings.HasPrefix(resp, "HTTP/1.1 200 ") || !strings.Contains(resp, "\r\nConnection: close\r\n") || !strings.HasSuffix(resp, "ok\n\r\n0\r\n\r\n") {
		t.Fatalf("response %q", resp)
	}
}
