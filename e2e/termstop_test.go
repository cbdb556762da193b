package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// keepPane keeps the pane on screen after ferry exits, to read what it
// left there.
func (tm *tmuxTerm) keepPane() {
	tm.t.Helper()
	if out, err := tm.run("set-option", "-g", "remain-on-exit", "on"); err != nil {
		tm.t.Fatalf("tmux set-option: %v: %s", err, out)
	}
}

// afterBanner is what the screen shows below "press Ctrl-C to stop".
func afterBanner(s string) string {
	_, rest, _ := strings.Cut(s, "press Ctrl-C to stop\n")
	return rest
}

// stopScreenLine is every line ferry may leave below its banner once it
// stopped: log lines, its words about stopping, the summary, the list of
// what moved; tmux's own note on the dead pane; blank lines.
var stopScreenLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ [A-Z]+ /\S* \d{3} .*|` +
	`stopping: waiting for \d+ transfers? \(Ctrl-C (again )?to quit\)|stopped|.* exiting as asked .*|` +
	`summary: .*|moved:|  [↑↓] /\S+  .*|  and \d+ more|Pane is dead .*|)$`)

// noDebris fails the test for any line of the stopped screen that ferry
// should not have left: a bar, a garbled line, a "^C".
func noDebris(t *testing.T, screen string) {
	t.Helper()
	rest := afterBanner(screen)
	// The summary line may wrap on the 160 columns.
	rest = regexp.MustCompile(`(summary: [^\n]*)\n([^\n]*up \d+s)`).ReplaceAllString(rest, "$1$2")
	for _, line := range strings.Split(rest, "\n") {
		if !stopScreenLine.MatchString(strings.TrimRight(line, " ")) {
			t.Errorf("debris on the screen: %q\nscreen:\n%s", line, screen)
		}
	}
	if strings.Contains(screen, "^C") || strings.Contains(screen, "/ 48.0 MiB") || barRE.MatchString(screen) {
		t.Errorf("a bar or ^C left on the screen:\n%s", screen)
	}
}

// Ctrl-C in a real terminal: ferry says it waits for the transfer (its bar
// still moving), then leaves the log lines, the summary and the list of
// what moved, and nothing else: no frozen bar, no garbled line, no ^C.
func TestTermViewCtrlCLeavesNoDebris(t *testing.T) {
	dir := bigFile(t)
	tm, base := startInTmux(t, dir)
	tm.keepPane()

	resp := startDownload(t, base)
	tm.waitFor("a bar", func(s string) bool { return barRE.MatchString(s) })
	if _, err := tm.run("send-keys", "C-c"); err != nil {
		t.Fatal(err)
	}
	s := tm.waitFor("the word about waiting", func(s string) bool {
		return strings.Contains(s, "stopping: waiting for 1 transfer (Ctrl-C again to quit)")
	})
	// The bar goes on below the word during the grace period.
	if !barRE.MatchString(s[strings.Index(s, "stopping:"):]) {
		t.Errorf("no bar below the word about waiting:\n%s", s)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	s = tm.waitFor("the summary", tm.ended)
	if !strings.Contains(s, "GET /big.bin 200 48.0 MiB") || !strings.Contains(s, "moved:\n  ↓ /big.bin  48.0 MiB") {
		t.Errorf("the end lacks the log line or what moved:\n%s", s)
	}
	noDebris(t, s)
}

// A second Ctrl-C ends the waiting at once, as cleanly.
func TestTermViewSecondCtrlC(t *testing.T) {
	dir := bigFile(t)
	tm, base := startInTmux(t, dir)
	tm.keepPane()
	resp := startDownload(t, base)
	defer resp.Body.Close()
	tm.waitFor("a bar", func(s string) bool { return barRE.MatchString(s) })
	tm.run("send-keys", "C-c")
	tm.waitFor("the word about waiting", func(s string) bool { return strings.Contains(s, "stopping: waiting for 1 transfer") })
	time.Sleep(500 * time.Millisecond) // a few redraws of the bar
	tm.run("send-keys", "C-c")
	s := tm.waitFor("the end", tm.ended)
	if !regexp.MustCompile(`GET /big\.bin 200 .* cut short: .* of 48\.0 MiB`).MatchString(s) ||
		!strings.Contains(s, "  ↓ /big.bin  cut short:") {
		t.Errorf("the cut download is not logged and named before the end:\n%s", s)
	}
	noDebris(t, s)
}

// --once exits when the file was fetched whole, while another download of
// it goes on: the same word, the same clean end.
func TestTermViewOnceExitLeavesNoDebris(t *testing.T) {
	dir := bigFile(t)
	tm, base := startInTmux(t, dir, "--once", "big.bin")
	tm.keepPane()
	slow := startDownload(t, base)
	tm.waitFor("a bar", func(s string) bool { return barRE.MatchString(s) })
	Do(t, "GET", base+"/big.bin", nil)
	tm.waitFor("the word about waiting", func(s string) bool {
		return strings.Contains(s, "stopping: waiting for 1 transfer (Ctrl-C to quit)")
	})
	slow.Body.Close()
	s := tm.waitFor("the end", tm.ended)
	if !strings.Contains(s, "moved:\n  ↓ /big.bin  48.0 MiB\n  ↓ /big.bin  cut short:") {
		t.Errorf("what moved is not named:\n%s", s)
	}
	noDebris(t, s)
}

// upBarRE matches the bar of an upload of up.bin: percentage, bytes of the
// whole file.
var upBarRE = regexp.MustCompile(`↑ /up\.bin\s+\[[=>\-]+\]\s+(\d{1,3})%\s+[\d.]+ MiB / 48\.0 MiB`)

// A resumable upload's bar tracks the whole file across its PATCH requests,
// not the one piece in flight.
func TestTermViewTusBarTracksWholeFile(t *testing.T) {
	dir := t.TempDir()
	tm, base := startInTmux(t, dir, "--upload")
	c := newTus(t, base)
	u, status := c.create("/", "up.bin", 48<<20)
	if status != 201 {
		t.Fatalf("create: %d", status)
	}
	if r := c.patch(u, 0, make([]byte, 24<<20)); r.StatusCode != 204 {
		t.Fatalf("first half: %s", r.Status)
	}
	// The second half, sent in part and held.
	pu, _ := url.Parse(u)
	conn, err := net.Dial("tcp", pu.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: localhost\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: %d\r\nContent-Length: %d\r\n\r\n",
		pu.Path, 24<<20, 24<<20)
	if _, err := io.Copy(conn, bytes.NewReader(make([]byte, 4<<20))); err != nil {
		t.Fatal(err)
	}
	// 24 + 4 of 48 MiB: 58 %; a bar over the piece in flight would show
	// 16 % (4 of 24 MiB), or less.
	var pct int
	s := tm.waitFor("the upload's bar past half", func(s string) bool {
		m := upBarRE.FindStringSubmatch(s)
		if m != nil {
			pct, _ = strconv.Atoi(m[1])
		}
		return m != nil && pct >= 58
	})
	if pct != 58 {
		t.Errorf("bar at %d%%, want 58%% (28 of 48 MiB):\n%s", pct, s)
	}
	conn.Close() // the browser hangs up
	tm.waitFor("the cut-short line", func(s string) bool {
		return regexp.MustCompile(`PATCH /up\.bin 204 4\.0 MiB \S+ cut short: 28\.0 MiB of 48\.0 MiB`).MatchString(s)
	})
}
