package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Browser tests drive a real headless Chromium through the DevTools protocol
// (chromedp). One browser serves a whole TestBrowser run; each subtest gets
// its own tab, which records everything that would show a broken page:
// console errors, uncaught exceptions, CSP violations and any request that
// leaves loopback. A tab's cleanup fails the subtest on any of them.

// tabTimeout bounds each subtest's tab, so a page that never reaches the
// awaited state fails in seconds instead of hanging the suite.
const tabTimeout = 30 * time.Second

// artifactsDir holds screenshots for people to look at (gitignored).
const artifactsDir = "test-artifacts"

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserRequired reports whether a missing or broken browser must fail the
// run (as under .ci/run) rather than skip it.
func browserRequired() bool { return os.Getenv("FERRY_REQUIRE_BROWSER") == "1" }

func skipOrFailBrowser(t *testing.T, msg string) {
	t.Helper()
	if browserRequired() {
		t.Fatalf("%s (FERRY_REQUIRE_BROWSER=1)", msg)
	}
	t.Skip(msg)
}

// startBrowser starts headless Chromium for t and its subtests and stops it
// when t ends. It skips t when Chromium is absent, unless FERRY_REQUIRE_BROWSER=1.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		skipOrFailBrowser(t, "chromium not found: apt-get install chromium to run browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests may run as root, where the sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	// An upper bound for the whole browser's life, whatever happens to the
	// tests: the suite takes well under a minute.
	life, cancelLife := context.WithTimeout(context.Background(), 3*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		cancelLife()
	})
	start := make(chan error, 1)
	go func() { start <- chromedp.Do(ctx) }()
	select {
	case err := <-start:
		if err != nil {
			skipOrFailBrowser(t, fmt.Sprintf("chromium at %s did not start: %v", path, err))
		}
	case <-time.After(30 * time.Second):
		skipOrFailBrowser(t, fmt.Sprintf("chromium at %s did not start within 30s", path))
	}
	return ctx
}

// dialogAnswer says how to close the next JavaScript dialog.
type dialogAnswer struct {
	Accept bool
	Text   string // for prompt()
}

// tab is one browser tab and what it has seen.
type tab struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string // console errors, exceptions, CSP violations, foreign requests
	allowed  []string // substrings of problems a subtest provokes on purpose
	requests []string // every URL the page asked for
	dialogs  []*page.EventJavascriptDialogOpening
	answers  []dialogAnswer
	hooks    []func(ev any) // extra listeners; same rules as onEvent
}

// newTab opens a tab in the browser and checks, when the subtest ends, that
// nothing went wrong in it.
func newTab(t *testing.T, browser context.Context) *tab {
	t.Helper()
	return newTabFor(t, browser, tabTimeout)
}

// newTabFor is newTab for a subtest that needs longer than tabTimeout (a
// walk through the page, key by key).
func newTabFor(t *testing.T, browser context.Context, timeout time.Duration) *tab {
	t.Helper()
	tb := &tab{t: t}
	// WithListener sees every event from the tab's first moment; the func runs
	// in the tab's read loop, so it only records and never sends a command.
	tabCtx, cancelTab := chromedp.NewContext(browser, chromedp.WithListener(tb.onEvent))
	ctx, cancel := context.WithTimeout(tabCtx, timeout)
	tb.mu.Lock()
	tb.ctx = ctx
	tb.mu.Unlock()
	t.Cleanup(func() {
		tb.check()
		cancel()
		cancelTab()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return tb
}

func (tb *tab) onEvent(ev any) {
	tb.mu.Lock()
	hooks := tb.hooks
	tb.mu.Unlock()
	for _, h := range hooks {
		h(ev)
	}
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, remoteText(a))
			}
			tb.problem("console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		tb.problem("exception at %s:%d: %s", d.URL, d.LineNumber+1, text)
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		// Errors of any source (failed loads, CSP refusals), and security
		// warnings (report-only CSP, mixed content).
		if e.Level == cdplog.EntryLevelError || (e.Source == cdplog.EntrySourceSecurity && e.Level == cdplog.EntryLevelWarning) {
			tb.problem("log %s/%s: %s (%s)", e.Source, e.Level, e.Text, e.URL)
		}
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		tb.mu.Lock()
		tb.requests = append(tb.requests, ev.Request.Method+" "+u)
		tb.mu.Unlock()
		if !isLoopbackURL(u) {
			tb.problem("request leaves loopback: %s %s", ev.Request.Method, u)
		}
	case *page.EventJavascriptDialogOpening:
		tb.mu.Lock()
		tb.dialogs = append(tb.dialogs, ev)
		ans, ok := dialogAnswer{}, len(tb.answers) > 0
		if ok {
			ans, tb.answers = tb.answers[0], tb.answers[1:]
		}
		ctx := tb.ctx
		tb.mu.Unlock()
		if !ok {
			tb.problem("unexpected %s dialog: %q", ev.Type, ev.Message)
		}
		// A dialog blocks the page and the action that opened it, so it is
		// answered from another goroutine.
		go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: ans.Accept, PromptText: ans.Text})
	}
}

func remoteText(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	if len(o.Value) > 0 {
		return string(o.Value)
	}
	return o.Description
}

// isLoopbackURL accepts what a page served from loopback may load without
// reaching any other machine: loopback hosts and inline data.
func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "data":
		return true
	case "chrome-extension":
		// The browser's own PDF viewer, loaded from inside the browser.
		return true
	case "http", "https", "ws", "wss":
		h := u.Hostname()
		if h == "localhost" {
			return true
		}
		ip := net.ParseIP(h)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

func (tb *tab) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.problems = append(tb.problems, msg)
}

// allow tolerates problems containing s: for errors a subtest provokes on
// purpose (a refused rename logs its 412 as a failed resource load).
func (tb *tab) allow(s string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.allowed = append(tb.allowed, s)
}

// takeProblems returns the problems so far and forgets them.
func (tb *tab) takeProblems() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	p := tb.problems
	tb.problems = nil
	return p
}

func (tb *tab) check() {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, p := range tb.problems {
		ok := false
		for _, a := range tb.allowed {
			if strings.Contains(p, a) {
				ok = true
				break
			}
		}
		if !ok {
			tb.t.Errorf("browser: %s", p)
		}
	}
	if len(tb.answers) > 0 {
		tb.t.Errorf("browser: %d expected dialog(s) never opened", len(tb.answers))
	}
}

// listen adds a listener for the tab's events. It runs in the tab's read
// loop: it must return fast and send commands only from a goroutine.
func (tb *tab) listen(h func(ev any)) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.hooks = append(tb.hooks, h)
}

// expectDialogs queues answers for the next dialogs, in order.
func (tb *tab) expectDialogs(answers ...dialogAnswer) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.answers = append(tb.answers, answers...)
}

// seenDialogs returns the dialogs opened so far.
func (tb *tab) seenDialogs() []*page.EventJavascriptDialogOpening {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]*page.EventJavascriptDialogOpening(nil), tb.dialogs...)
}

func (tb *tab) seenRequests() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.requests...)
}

// do runs actions, failing the test on error.
func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
}

// navigate loads url and waits for the page's load event.
func (tb *tab) navigate(u string) *network.Response {
	tb.t.Helper()
	resp, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(u))
	if err != nil {
		tb.t.Fatalf("navigate %s: %v", u, err)
	}
	return resp
}

// clickNavigate clicks sel and waits for the page it leads to.
func (tb *tab) clickNavigate(sel string) *network.Response {
	tb.t.Helper()
	resp, err := chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Fatalf("click %s and wait for the next page: %v", sel, err)
	}
	return resp
}

// call sends one protocol command to the tab.
func call[P, R any](tb *tab, cmd cdp.Command[P, R], params P) R {
	tb.t.Helper()
	r, err := chromedp.Call(tb.ctx, cmd, params)
	if err != nil {
		tb.t.Fatalf("%s: %v", cmd.Method, err)
	}
	return r
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds. Errors while a page
// is replaced (no execution context) count as "not yet".
func (tb *tab) waitFor(what, cond string) {
	tb.t.Helper()
	var last error
	for {
		ok, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		if err == nil && ok {
			return
		}
		last = err
		select {
		case <-tb.ctx.Done():
			tb.t.Fatalf("waiting for %s: %v (last evaluation error: %v)\nrequests: %v", what, tb.ctx.Err(), last, tb.seenRequests())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// rowNames are the entry names of the listing, top to bottom, visible or
// not: data-name once app.js has read the rows, else (without script) the
// text of each entry row's link, less a folder's trailing slash.
func (tb *tab) rowNames() []string {
	tb.t.Helper()
	return eval[[]string](tb, `Array.from(document.querySelectorAll('#listing tbody tr'))
		.filter(r => r.dataset.name != null || !/\b(parent|empty|note|hit|no-match)\b/.test(r.className) && r.querySelector('td > a'))
		.map(r => r.dataset.name != null ? r.dataset.name : r.querySelector('td > a').textContent.replace(/\/$/, ''))`)
}

// visibleRowNames are the entry names a person sees.
func (tb *tab) visibleRowNames() []string {
	tb.t.Helper()
	return eval[[]string](tb, `Array.from(document.querySelectorAll('#listing tbody tr[data-name]'))
		.filter(r => getComputedStyle(r).display !== 'none' && r.getClientRects().length > 0)
		.map(r => r.dataset.name)`)
}

// colorScheme makes the page see prefers-color-scheme as scheme.
func (tb *tab) colorScheme(scheme string) {
	tb.t.Helper()
	call(tb, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	})
}

// screenshot saves a full-page PNG under test-artifacts and returns its bytes.
func (tb *tab) screenshot(name string) []byte {
	tb.t.Helper()
	return tb.saveShot(name, chromedp.FullScreenshot(100))
}

// viewShot saves what the viewport shows (a dialog over the page) as PNG.
func (tb *tab) viewShot(name string) []byte {
	tb.t.Helper()
	return tb.saveShot(name, chromedp.CaptureScreenshot())
}

func (tb *tab) saveShot(name string, shot chromedp.Action[[]byte]) []byte {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, shot)
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(artifactsDir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	p := filepath.Join(artifactsDir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	abs, _ := filepath.Abs(p)
	tb.t.Logf("screenshot: %s (%d bytes)", abs, len(png))
	return png
}

// jsString quotes s as a JavaScript string literal (JSON is a subset).
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// plainRow is a JavaScript expression for the listing row of name as the
// server sent it (no data-name without script): the row whose link reads
// name.
func plainRow(name string) string {
	return `Array.from(document.querySelectorAll('#listing tbody tr')).find(r => { const a = r.querySelector('td > a'); return a && a.textContent === ` + jsString(name) + `; })`
}

// rowSel is a CSS selector for the listing row of name.
func rowSel(name string) string {
	return `#listing tr[data-name=` + jsString(name) + `]`
}

// chromedpViewport sets the tab's viewport.
func chromedpViewport(w, h int64) chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(w, h)
}

// clickSel clicks the first element matching a CSS selector.
func clickSel(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

// pressKey sends one key to whatever has the focus.
func pressKey(key string) chromedp.Action[chromedp.Void] { return chromedp.KeyEvent(key) }

// waitRequest waits until the tab has asked for a URL containing s.
func waitRequest(t *testing.T, tb *tab, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !slices.ContainsFunc(tb.seenRequests(), func(r string) bool { return strings.Contains(r, s) }) {
		if time.Now().After(deadline) {
			t.Fatalf("no request for %q; seen: %q", s, tb.seenRequests())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// login makes the tab send Basic credentials with every request.
func (tb *tab) login(user, pass string) {
	tb.t.Helper()
	call(tb, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))},
	})
}
