package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCGIGitHTTPBackend clones from and pushes to git-http-backend behind
// ferry's CGI, with git's defaults: a push whose pack exceeds
// http.postBuffer (1 MiB) is sent chunked (item 18), a smaller one with a
// Content-Length.
func TestCGIGitHTTPBackend(t *testing.T) {
	gitBin := NeedCommand(t, "git")
	NeedCommand(t, "sh")
	root := t.TempDir()
	home := filepath.Join(root, "home")
	os.MkdirAll(home, 0o755)
	trace := filepath.Join(root, "curl.trace")
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command(gitBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
			// Headers only: shows whether git sent the pack chunked.
			"GIT_TRACE_CURL="+trace, "GIT_TRACE_CURL_NO_DATA=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	execPath := strings.TrimSpace(git(root, "--exec-path"))
	backend := filepath.Join(execPath, "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Fatalf("git-http-backend is not at %s: %v", backend, err)
	}

	repos := filepath.Join(root, "repos")
	git(root, "init", "--bare", "--initial-branch=main", filepath.Join(repos, "r.git"))
	// Anonymous pushes: no REMOTE_USER reaches the backend without --auth.
	git(filepath.Join(repos, "r.git"), "config", "http.receivepack", "true")

	served := filepath.Join(root, "served")
	writeScripts(t, served, map[string]string{"cgi-bin/git": "#!/bin/sh\n" +
		"GIT_PROJECT_ROOT='" + repos + "' GIT_HTTP_EXPORT_ALL=1 exec '" + backend + "'\n"})
	p := Start(t, served, "-p", "0", "-b", "127.0.0.1", "--cgi")
	url := p.URL + "/cgi-bin/git/r.git"

	work := filepath.Join(root, "work")
	git(root, "clone", url, work)
	os.WriteFile(filepath.Join(work, "small.txt"), []byte("small\n"), 0o644)
	git(work, "add", "small.txt")
	git(work, "commit", "-m", "small")
	os.Remove(trace)
	git(work, "push", "origin", "HEAD:main")
	// curl's trace marks what git sent with "=> Send header".
	sentChunked := func(tr []byte) bool {
		return strings.Contains(strings.ToLower(string(tr)), "=> send header: transfer-encoding: chunked")
	}
	if tr, _ := os.ReadFile(trace); !strings.Contains(string(tr), "POST /cgi-bin/git/r.git/git-receive-pack") || sentChunked(tr) {
		t.Fatalf("the small push was not sent with a Content-Length; trace:\n%s", tr)
	}

	big := make([]byte, 3<<20) // random: the pack cannot compress below 1 MiB
	rand.Read(big)
	os.WriteFile(filepath.Join(work, "big.bin"), big, 0o644)
	git(work, "add", "big.bin")
	git(work, "commit", "-m", "big")
	os.Remove(trace)
	git(work, "push", "origin", "HEAD:main")
	tr, _ := os.ReadFile(trace)
	if !sentChunked(tr) {
		t.Fatalf("git did not send the big push chunked; trace:\n%s", tr)
	}

	again := filepath.Join(root, "again")
	git(root, "clone", url, again)
	for _, name := range []string{"small.txt", "big.bin"} {
		a, _ := os.ReadFile(filepath.Join(work, name))
		b, err := os.ReadFile(filepath.Join(again, name))
		if err != nil || sha256.Sum256(a) != sha256.Sum256(b) {
			t.Errorf("%s differs after push and clone (%v)", name, err)
		}
	}
	if log := git(again, "log", "--format=%s"); log != "big\nsmall\n" {
		t.Errorf("history %q", log)
	}
}
