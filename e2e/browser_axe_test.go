package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// axe-core (the npm package) checks pages against WCAG in the browser. .ci/run
// installs it into the user cache, as it installs Chromium; without it the
// accessibility tests skip with a message, unless FERRY_REQUIRE_BROWSER=1.

// axeScript finds axe.min.js: $FERRY_AXE, or the cache .ci/run fills.
var axeScript = sync.OnceValues(func() (string, error) {
	candidates := []string{os.Getenv("FERRY_AXE")}
	if cache, err := os.UserCacheDir(); err == nil {
		candidates = append(candidates, filepath.Join(cache, "ferry", "axe", "node_modules", "axe-core", "axe.min.js"))
	}
	for _, p := range candidates {
		if p == "" {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			return string(b), nil
		}
	}
	return "", fmt.Errorf("axe-core not found (looked in %q): npm install --prefix ~/.cache/ferry/axe axe-core@4", candidates[1:])
})

// needAxe skips t without axe-core, or fails it under FERRY_REQUIRE_BROWSER=1.
func needAxe(t *testing.T) {
	t.Helper()
	if _, err := axeScript(); err != nil {
		skipOrFailBrowser(t, err.Error())
	}
}

type axeNode struct {
	Target  []any  `json:"target"`
	HTML    string `json:"html"`
	Summary string `json:"failureSummary"`
}

type axeViolation struct {
	ID     string    `json:"id"`
	Impact string    `json:"impact"`
	Help   string    `json:"help"`
	Nodes  []axeNode `json:"nodes"`
}

// axe runs axe-core's WCAG 2 A/AA and best-practice rules on the page as it
// is now and fails the test for every violation, naming where.
func (tb *tab) axe(what string) {
	tb.t.Helper()
	src, err := axeScript()
	if err != nil {
		tb.t.Fatal(err)
	}
	// Evaluated through the DevTools protocol, the library is not subject
	// to the page's Content-Security-Policy; nothing of it stays in the
	// page's own scripts.
	// Colours caught in a transition are neither the old nor the new.
	tb.waitFor("transitions to end", `document.getAnimations().every(a => a.playState !== 'running')`)
	if !eval[bool](tb, `typeof window.axe === 'object'`) {
		tb.do("inject axe-core", chromedp.Evaluate[chromedp.Void](src+"\n;void 0"))
	}
	out, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`axe.run(document, {
		runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},
		resultTypes: ['violations']
	}).then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("axe on %s: %v", what, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		tb.t.Fatalf("axe on %s: %v", what, err)
	}
	for _, v := range vs {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprintf("    %v %s\n      %s", n.Target, truncate(n.HTML, 160), strings.ReplaceAll(n.Summary, "\n", "\n      ")))
		}
		tb.t.Errorf("axe on %s: %s (%s): %s\n%s", what, v.ID, v.Impact, v.Help, strings.Join(where, "\n"))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
