// Package e2e runs the real ferry binary on loopback and talks to it with
// real clients (Go's http.Client, curl, wget, raw sockets, Chromium).
package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
)

// ferryBin is the binary built once for the whole package.
var ferryBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ferry-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ferryBin = filepath.Join(dir, "ferry")
	_, here, _, _ := runtime.Caller(0)
	args := []string{"build", "-o", ferryBin}
	if os.Getenv("FERRY_RACE") == "1" {
		// The binary under test reports data races on its stderr.
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "./cmd/ferry")...)
	build.Dir = filepath.Dir(filepath.Dir(here))
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building ferry:", err)
		os.Exit(1)
	}
	code := m.Run()
	weedtest.StopShared() // the SeaweedFS the S3 tests share, if one started
	os.RemoveAll(dir)
	os.Exit(code)
}

// Proc is a running ferry.
type Proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	// URL is the loopback base URL ("http://127.0.0.1:PORT"), no trailing slash.
	URL  string
	Port string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var localhostRE = regexp.MustCompile(`https?://(localhost|127\.0\.0\.1|\[::1\]):(\d+)/`)

// Start runs ferry with args (a serve command unless args say otherwise),
// waits until its banner names a loopback URL, and stops it when the test ends.
// Pass "-p", "0" yourself where the default port must not be used.
func Start(t testing.TB, dir string, args ...string) *Proc {
	t.Helper()
	p := StartNoWait(t, dir, args...)
	p.WaitBanner()
	return p
}

// StartNoWait starts ferry without waiting for its banner.
func StartNoWait(t testing.TB, dir string, args ...string) *Proc {
	t.Helper()
	return startCmd(t, exec.Command(ferryBin, args...), dir, args)
}

// startCmd starts cmd, a command that becomes ferry with args (perhaps
// through a shell that sets limits first), in dir, and stops it when the
// test ends, logging its output if the test failed.
func startCmd(t testing.TB, cmd *exec.Cmd, dir string, args []string) *Proc {
	t.Helper()
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TERM=dumb")
	p := &Proc{t: t, cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ferry: %v", err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("ferry %v stdout:\n%s\nstderr:\n%s", args, p.stdout.String(), p.stderr.String())
		}
	})
	return p
}

// WaitBanner waits for the banner's loopback URL.
func (p *Proc) WaitBanner() {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := localhostRE.FindStringSubmatch(p.stdout.String()); m != nil {
			p.Port = m[2]
			scheme := "http"
			if strings.HasPrefix(m[0], "https") {
				scheme = "https"
			}
			p.URL = scheme + "://127.0.0.1:" + m[2]
			if m[1] == "[::1]" {
				p.URL = scheme + "://[::1]:" + m[2]
			}
			return
		}
		select {
		case <-p.done:
			p.t.Fatalf("ferry exited early: %v\nstdout:\n%s\nstderr:\n%s", p.cmd.ProcessState, p.stdout.String(), p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	p.t.Fatalf("no banner URL within 10s; stdout:\n%s", p.stdout.String())
}

// Stdout and Stderr return what ferry printed so far.
func (p *Proc) Stdout() string { return p.stdout.String() }
func (p *Proc) Stderr() string { return p.stderr.String() }

// Signal sends sig to ferry.
func (p *Proc) Signal(sig syscall.Signal) { p.cmd.Process.Signal(sig) }

// Wait waits up to d for ferry to exit and returns its exit code (-1 on timeout).
func (p *Proc) Wait(d time.Duration) int {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		return -1
	}
}

// WaitOutput waits up to d for stdout to contain s.
func (p *Proc) WaitOutput(s string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if strings.Contains(p.stdout.String(), s) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// Run runs ferry to completion with a timeout and returns exit code, stdout, stderr.
func Run(t testing.TB, dir string, timeout time.Duration, args ...string) (int, string, string) {
	t.Helper()
	p := StartNoWait(t, dir, args...)
	code := p.Wait(timeout)
	if code == -1 {
		t.Fatalf("ferry %v did not exit within %s", args, timeout)
	}
	return code, p.Stdout(), p.Stderr()
}

// Do sends a request and returns the response with its body read.
func Do(t testing.TB, method, url string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	return DoWith(t, noRedirect, method, url, body, hdr...)
}

// DoWith is Do through the client c (another source address, a transport
// of its own).
func DoWith(t testing.TB, c *http.Client, method, url string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp, b
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// RawRequest writes raw bytes to ferry and returns everything read until the
// server closes or timeout passes: for paths no Go client would send.
func RawRequest(t testing.TB, addr string, raw string, timeout time.Duration) string {
	t.Helper()
	conn, err := dialTimeout(addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatalf("write: %v", err)
	}
	var out bytes.Buffer
	io.Copy(&out, bufio.NewReader(conn))
	return out.String()
}

// WriteFiles creates files under dir from a name → content map; names may
// contain slashes.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// NeedCommand skips the test when a command-line tool is missing, or fails it
// when FERRY_REQUIRE_TOOLS=1 (CI installs every tool the tests use).
func NeedCommand(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		pkg := name
		switch name {
		case "cut", "sha256sum", "sleep":
			pkg = "coreutils"
		case "sh":
			pkg = "dash"
		}
		msg := fmt.Sprintf("%s is not installed; install it (apt-get install %s) to run this test", name, pkg)
		if os.Getenv("FERRY_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s (FERRY_REQUIRE_TOOLS=1)", msg)
		}
		t.Skip(msg)
	}
	return path
}

func dialTimeout(addr string, d time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", addr, d)
}

// procStatus reads a field of /proc/PID/status in KiB (VmRSS, VmHWM); the
// test is skipped where there is no /proc.
func procStatus(t testing.TB, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc/PID/status here: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q", field, line)
			}
			return kb
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// Tmpfs mounts a tmpfs of size ("4m") on a fresh folder and returns it;
// the test is skipped where that needs a root this process is not.
// Call it before Start: the unmount then runs after ferry has stopped.
func Tmpfs(t testing.TB, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs CAP_SYS_ADMIN): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}
