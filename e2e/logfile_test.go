package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitFile waits for the file at path to contain s.
func waitFile(t *testing.T, path, s string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), s) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never held %q; it holds:\n%s", path, s, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// --log-file appends the request log to a file; after logrotate renames it
// and sends SIGHUP, new lines land in a new file at the same path.
func TestLogFileRotate(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "a", "b.txt": "b"})
	logs := t.TempDir()
	path := filepath.Join(logs, "access.log")
	os.WriteFile(path, []byte("an earlier line\n"), 0o640)
	p := Start(t, dir, "-p", "0", "--log-file", path, "--log", "json")
	if !strings.Contains(p.Stdout(), "request log: appended to "+path) {
		t.Errorf("banner does not name the log file:\n%s", p.Stdout())
	}
	Do(t, "GET", p.URL+"/a.txt", nil)
	first := waitFile(t, path, `"path":"/a.txt"`)
	if !strings.HasPrefix(first, "an earlier line\n{") {
		t.Errorf("the file was not appended to:\n%s", first)
	}

	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	p.Signal(syscall.SIGHUP)
	// The reopen is asynchronous: wait until the new file exists.
	deadline := time.Now().Add(10 * time.Second)
	for _, err := os.Stat(path); err != nil; _, err = os.Stat(path) {
		if time.Now().After(deadline) {
			t.Fatalf("no new %s after SIGHUP: %v", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	Do(t, "GET", p.URL+"/b.txt", nil)
	cur := waitFile(t, path, `"path":"/b.txt"`)
	if strings.Contains(cur, "/a.txt") || strings.Contains(cur, "earlier") {
		t.Errorf("new file holds old lines:\n%s", cur)
	}
	if old, _ := os.ReadFile(path + ".1"); strings.Contains(string(old), "/b.txt") {
		t.Errorf("rotated file got a line after SIGHUP:\n%s", old)
	}
	// ferry is still running, and a pipe gets no request lines (the file has them).
	if code := p.Wait(200 * time.Millisecond); code != -1 {
		t.Fatalf("ferry exited (%d) on SIGHUP", code)
	}
	if strings.Contains(p.Stdout(), "/a.txt") && strings.Contains(p.Stdout(), `"status"`) {
		t.Errorf("request lines on stdout too:\n%s", p.Stdout())
	}
}

// On a terminal, the live view stays (bars and text lines) while the
// file gets the log in its own format.
func TestLogFileKeepsTermView(t *testing.T) {
	dir := bigFile(t)
	path := filepath.Join(t.TempDir(), "access.log")
	tm, base := startInTmux(t, dir, "--log-file", path, "--log", "json")
	resp := startDownload(t, base)
	tm.waitFor("a bar", func(s string) bool { return barRE.MatchString(s) })
	resp.Body.Close()
	tm.waitFor("the cut-short line", func(s string) bool {
		return strings.Contains(s, "GET /big.bin 200") && strings.Contains(s, "cut short")
	})
	waitFile(t, path, `"outcome":"cut short"`)
}
