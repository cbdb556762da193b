package e2e

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tmuxTerm runs ferry in a detached tmux session (a real pseudo-terminal)
// on a private tmux server, and reads its screen.
type tmuxTerm struct {
	t      *testing.T
	socket string
	pid    int // the pane's process: ferry
	// goneSince is when ended first found ferry gone without tmux saying so.
	goneSince time.Time
}

func startInTmux(t *testing.T, dir string, args ...string) (*tmuxTerm, string) {
	t.Helper()
	NeedCommand(t, "tmux")
	tm := &tmuxTerm{t: t, socket: fmt.Sprintf("ferry-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	cmd := append([]string{"new-session", "-d", "-x", "160", "-y", "40", "-c", dir, "--", ferryBin, "-p", "0"}, args...)
	if out, err := tm.run(cmd...); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	// kill-server only hangs up on the pane, and a ferry with --log-file
	// takes SIGHUP as "reopen the log": end it for sure first.
	pid, _ := tm.run("display-message", "-p", "#{pane_pid}")
	tm.pid, _ = strconv.Atoi(strings.TrimSpace(pid))
	t.Cleanup(func() {
		if tm.pid > 1 {
			syscall.Kill(tm.pid, syscall.SIGKILL)
		}
		tm.run("kill-server")
	})
	var m []string
	tm.waitFor("banner", func(s string) bool { m = localhostRE.FindStringSubmatch(s); return m != nil })
	return tm, "http://127.0.0.1:" + m[2]
}

func (tm *tmuxTerm) run(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", tm.socket}, args...)...).CombinedOutput()
	return string(out), err
}

// screen is what the terminal shows now.
func (tm *tmuxTerm) screen() string {
	out, err := tm.run("capture-pane", "-p", "-J")
	if err != nil {
		tm.t.Fatalf("tmux capture-pane: %v: %s", err, out)
	}
	return out
}

func (tm *tmuxTerm) waitFor(what string, ok func(string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := tm.screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the terminal never showed %s; screen:\n%s", what, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// barRE matches a transfer's line in the view: file, bar, percentage.
var barRE = regexp.MustCompile(`big\.bin\s+\[[=>\-]+\]\s+\d{1,3}%\s+[\d.]+ [KMG]?i?B / 48\.0 MiB`)

// startDownload begins a GET of big.bin and reads its first MiB, leaving
// the transfer in flight (the rest is far more than socket buffers hold).
func startDownload(t *testing.T, base string) *http.Response {
	t.Helper()
	resp, err := http.Get(base + "/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, 1<<20); err != nil {
		t.Fatal(err)
	}
	return resp
}

func bigFile(t *testing.T) string {
	dir := t.TempDir()
	data := make([]byte, 48<<20)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTermViewShowsTransfers(t *testing.T) {
	dir := bigFile(t)
	tm, base := startInTmux(t, dir)

	done := startDownload(t, base)
	cut := startDownload(t, base)
	s := tm.waitFor("two bars", func(s string) bool { return len(barRE.FindAllString(s, -1)) == 2 })
	if !strings.Contains(s, "127.0.0.1") || !strings.Contains(s, "/s") {
		t.Errorf("bar lines lack the client or the speed:\n%s", s)
	}

	cut.Body.Close()
	tm.waitFor("the cut-short line", func(s string) bool {
		return regexp.MustCompile(`GET /big\.bin 200 [\d.]+ MiB .* cut short`).MatchString(s)
	})
	io.Copy(io.Discard, done.Body)
	done.Body.Close()
	s = tm.waitFor("the complete line and no bar", func(s string) bool {
		return strings.Contains(s, "GET /big.bin 200 48.0 MiB") && strings.Contains(s, "complete") && !barRE.MatchString(s)
	})
	// Log lines stay whole: each starts with the date.
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "GET /big.bin") && !regexp.MustCompile(`^\d{4}-\d\d-\d\d `).MatchString(line) {
			t.Errorf("garbled log line %q", line)
		}
	}
}

// Without a text log on a terminal there is no view: plain lines only.
func TestTermViewOff(t *testing.T) {
	dir := bigFile(t)
	for _, args := range [][]string{{"--log", "json"}, {"--log", "combined"}, {"-q"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			tm, base := startInTmux(t, dir, args...)
			resp := startDownload(t, base)
			time.Sleep(700 * time.Millisecond) // several redraws of a view
			if s := tm.screen(); barRE.MatchString(s) || strings.Contains(s, "/ 48.0 MiB") {
				t.Errorf("a bar with %v:\n%s", args, s)
			}
			resp.Body.Close()
		})
	}
}

// With stdout piped (as in every other test) ferry writes no escape code.
func TestTermViewPipedHasNoEscapes(t *testing.T) {
	dir := bigFile(t)
	p := Start(t, dir, "-p", "0")
	resp := startDownload(t, p.URL)
	time.Sleep(500 * time.Millisecond)
	resp.Body.Close()
	Do(t, "GET", p.URL+"/big.bin", nil)
	if !p.WaitOutput("complete", 5*time.Second) || !p.WaitOutput("cut short", 5*time.Second) {
		t.Fatalf("log lines missing:\n%s", p.Stdout())
	}
	if strings.ContainsRune(p.Stdout()+p.Stderr(), '\x1b') {
		t.Errorf("escape codes in piped output: %q", p.Stdout())
	}
}

// ended reports that ferry has exited: tmux says the pane is dead, or the
// process is gone or a zombie (a loaded machine may leave tmux seconds late
// in reaping it; what ferry printed is all on the screen by then).
func (tm *tmuxTerm) ended(screen string) bool {
	if strings.Contains(screen, "Pane is dead") {
		return true
	}
	if tm.pid <= 1 {
		return false
	}
	gone := true
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", tm.pid)); err == nil {
		// The state follows the command name in parentheses.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		gone = len(f) > 0 && f[0] == "Z"
	}
	if !gone {
		return false
	}
	// Give tmux a second to draw the last bytes ferry wrote, so that the
	// screen returned is the final one.
	if tm.goneSince.IsZero() {
		tm.goneSince = time.Now()
	}
	return time.Since(tm.goneSince) > time.Second
}
