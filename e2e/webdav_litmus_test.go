package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
)

// litmusGroups are the five groups of the WebDAV conformance suite; a clean
// run of all of them is what issue 13 asks for.
var litmusGroups = []string{"basic", "copymove", "props", "locks", "http"}

// litmusSummary is one group's figures.
type litmusSummary struct {
	run, passed, failed, warnings, skipped int
}

var (
	litmusSummaryRE = regexp.MustCompile("<- summary for `([a-z]+)': of (\\d+) tests run: (\\d+) passed, (\\d+) failed")
	litmusWarnRE    = regexp.MustCompile(`-> (\d+) warnings? (?:was|were) issued`)
	litmusSkipRE    = regexp.MustCompile(`-> (\d+) tests? (?:was|were) skipped`)
	litmusGroupRE   = regexp.MustCompile("-> running `([a-z]+)':")
)

// parseLitmus reads litmus's output into per-group figures.
func parseLitmus(out string) map[string]*litmusSummary {
	sums := map[string]*litmusSummary{}
	group := ""
	for line := range strings.SplitSeq(out, "\n") {
		if m := litmusGroupRE.FindStringSubmatch(line); m != nil {
			group = m[1]
			sums[group] = &litmusSummary{}
			continue
		}
		s := sums[group]
		if s == nil {
			continue
		}
		if m := litmusSummaryRE.FindStringSubmatch(line); m != nil {
			s.run, _ = strconv.Atoi(m[2])
			s.passed, _ = strconv.Atoi(m[3])
			s.failed, _ = strconv.Atoi(m[4])
		}
		if m := litmusWarnRE.FindStringSubmatch(line); m != nil {
			s.warnings, _ = strconv.Atoi(m[1])
		}
		if m := litmusSkipRE.FindStringSubmatch(line); m != nil {
			s.skipped, _ = strconv.Atoi(m[1])
		}
	}
	return sums
}

// runLitmus runs all five groups against url and fails t on any failure,
// warning or skipped test.
func runLitmus(t *testing.T, url string, creds ...string) {
	t.Helper()
	bin := NeedCommand(t, "litmus")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-k", url}, creds...)...)
	cmd.Dir = t.TempDir() // litmus leaves debug.log and child.log there
	out, _ := cmd.CombinedOutput()
	text := string(out)
	sums := parseLitmus(text)
	var table strings.Builder
	fmt.Fprintf(&table, "%-9s %4s %6s %6s %8s %7s\n", "group", "run", "passed", "failed", "warnings", "skipped")
	bad := false
	for _, g := range litmusGroups {
		s := sums[g]
		if s == nil {
			t.Errorf("litmus group %s did not run", g)
			bad = true
			continue
		}
		fmt.Fprintf(&table, "%-9s %4d %6d %6d %8d %7d\n", g, s.run, s.passed, s.failed, s.warnings, s.skipped)
		if s.run == 0 || s.failed > 0 || s.warnings > 0 || s.skipped > 0 || s.passed != s.run {
			bad = true
		}
	}
	t.Logf("litmus %s:\n%s", url, table.String())
	for line := range strings.SplitSeq(text, "\n") {
		if strings.Contains(line, "FAIL") || strings.Contains(line, "WARNING") {
			t.Errorf("litmus: %s", strings.TrimSpace(line))
			bad = true
		}
	}
	if bad {
		t.Errorf("litmus is not clean against %s; output:\n%s", url, text)
	}
}

// TestWebDAVLitmus runs the WebDAV conformance suite against ferry serving
// a folder, with and without --auth.
func TestWebDAVLitmus(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		creds []string
	}{
		{"folder", []string{"-w", "--webdav"}, nil},
		{"auth", []string{"-w", "--webdav", "--auth", "alice:s3cret"}, []string{"alice", "s3cret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := Start(t, dir, append([]string{"-p", "0", "-b", "127.0.0.1"}, tc.args...)...)
			runLitmus(t, p.URL+"/", tc.creds...)
			if strings.Contains(p.Stderr(), "webdav") || strings.Contains(p.Stderr(), "panic") {
				t.Errorf("server complained:\n%s", p.Stderr())
			}
		})
	}
}

func TestParseLitmus(t *testing.T) {
	out := "-> running `basic':\n 0. init.... pass\n<- summary for `basic': of 16 tests run: 15 passed, 1 failed. 93.8%\n-> 1 warning was issued.\n" +
		"-> running `props':\n-> 16 tests were skipped.\n<- summary for `props': of 14 tests run: 14 passed, 0 failed. 100.0%\n"
	s := parseLitmus(out)
	if b := s["basic"]; b == nil || b.run != 16 || b.passed != 15 || b.failed != 1 || b.warnings != 1 {
		t.Errorf("basic = %+v", b)
	}
	if p := s["props"]; p == nil || p.run != 14 || p.skipped != 16 || p.warnings != 0 {
		t.Errorf("props = %+v", p)
	}
}

// TestWebDAVLitmusS3 runs litmus against the binary serving a bucket of a
// real SeaweedFS: WebDAV on the object store, locks and dead properties kept
// in the bucket.
func TestWebDAVLitmusS3(t *testing.T) {
	p := s3Ferry(t, weedtest.Shared(t), "litmus-"+strings.ToLower(rand.Text()), "-w", "--webdav")
	runLitmus(t, p.URL+"/")
	if strings.Contains(p.Stderr(), "panic") {
		t.Errorf("server complained:\n%s", p.Stderr())
	}
}
