package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// pageTree has names for the filter (accents, a compatibility form), a name
// with a run of spaces, and one file with a known modification time.
func pageTree(t *testing.T) string {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"Été 2024.txt":  "summer",
		"ete-notes.md":  "notes",
		"ﬁnal.txt":      "ligature",
		"a  b.txt":      "two spaces",
		"other.bin":     strings.Repeat("o", 2048),
		"docs/deep.txt": "deep",
	})
	if err := os.Chtimes(filepath.Join(dir, "a  b.txt"), stampTime, stampTime); err != nil {
		t.Fatal(err)
	}
	return dir
}

// stampTime is 14:07 UTC; in Kolkata (UTC+5:30, no daylight saving) 19:37.
var stampTime = time.Date(2024, 3, 5, 14, 7, 9, 0, time.UTC)

// testBrowserPageDetails covers what a new user tripped over on the page
// (issue 11): times in the viewer's zone, the filter, runs of spaces.
func testBrowserPageDetails(t *testing.T, browser context.Context) {
	dir := pageTree(t)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1")
	tb := newTab(t, browser)
	call(tb, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Kolkata"})
	tb.navigate(p.URL + "/")
	tb.waitFor("app.js to run", `document.body.classList.contains('js')`)

	// Times: the viewer's own zone, and the header says which.
	// The server sends 14:07 UTC as the cell's text (no <time>, issue 16).
	timeOf := `document.querySelector(` + jsString(rowSel("a  b.txt")+` td.t`) + `)`
	tb.waitFor("local times", timeOf+`.textContent === '2024-03-05 19:37'`)
	if tz := eval[string](tb, `document.querySelector('#listing th.t .tz').textContent`); tz == "(UTC)" || !strings.Contains(tz, "5:30") {
		t.Errorf("time header names zone %q; want the viewer's (GMT+5:30)", tz)
	}

	// A run of spaces is shown as it is, not collapsed.
	if got := eval[string](tb, `document.querySelector(`+jsString(rowSel("a  b.txt")+` td.n a`)+`).innerText`); got != "a  b.txt" {
		t.Errorf("name shown as %q, want %q", got, "a  b.txt")
	}

	// The filter folds case, accents and compatibility forms, and the
	// summary counts what it shows.
	summary := `document.getElementById('summary').textContent`
	before := eval[string](tb, summary)
	tb.do("filter", chromedp.SendKeys(chromedp.CSS("#filter"), "ete"))
	tb.waitFor("the filter to apply", `document.querySelectorAll('#listing tbody tr[data-name]:not([hidden])').length === 2`)
	if got := tb.visibleRowNames(); !slices.Equal(got, []string{"ete-notes.md", "Été 2024.txt"}) {
		t.Errorf("filter ete shows %q", got)
	}
	if got := eval[string](tb, summary); got != "2 files · 11 B (2 of 6)" {
		t.Errorf("summary while filtering = %q, want %q", got, "2 files · 11 B (2 of 6)")
	}
	tb.do("empty the filter", chromedp.Evaluate[chromedp.Void](`document.getElementById('filter').value = ''`))
	tb.do("type", chromedp.SendKeys(chromedp.CSS("#filter"), "FINAL"))
	tb.waitFor("the ligature to match", `document.querySelectorAll('#listing tbody tr[data-name]:not([hidden])').length === 1`)
	if got := tb.visibleRowNames(); !slices.Equal(got, []string{"ﬁnal.txt"}) {
		t.Errorf("filter FINAL shows %q", got)
	}

	// Nothing matches: the table says so, the summary too.
	tb.do("type more", chromedp.SendKeys(chromedp.CSS("#filter"), "zz"))
	tb.waitFor("the no-match row", `(() => { const r = document.querySelector('#listing tr.no-match'); return r && !r.hidden && r.innerText === 'No matches for “FINALzz”.'; })()`)
	if got := eval[string](tb, summary); !strings.HasPrefix(got, "no matches") {
		t.Errorf("summary with no match = %q", got)
	}
	// The row spans every column: name, size, time and (since issue 14)
	// the selection boxes.
	if got, want := eval[int](tb, `document.querySelector('#listing tr.no-match td').colSpan`), eval[int](tb, `document.querySelector('#listing thead tr').cells.length`); got != want || want != 4 {
		t.Errorf("no-match cell spans %d columns, want %d (of 4)", got, want)
	}
	tb.do("Escape", chromedp.SendKeys(chromedp.CSS("#filter"), kb.Escape))
	tb.waitFor("everything back", `document.querySelectorAll('#listing tbody tr[data-name]:not([hidden])').length === 6`)
	if eval[bool](tb, `(() => { const r = document.querySelector('#listing tr.no-match'); return r && !r.hidden; })()`) {
		t.Error("the no-match row stays after clearing the filter")
	}
	if got := eval[string](tb, summary); got != before {
		t.Errorf("summary after clearing = %q, want %q", got, before)
	}

	// The QR pop-up shows the code and the address it encodes.
	tb.do("open the QR code", chromedp.Click(chromedp.CSS(`#qr button`)))
	tb.waitFor("the QR image", `(() => { const i = document.querySelector('#qr .qr-pop img'); return i && i.complete && i.naturalWidth > 0; })()`)
	if got := eval[string](tb, `document.querySelector('#qr .qr-url').textContent`); got == "" {
		t.Error("the QR pop-up does not spell out its address")
	}
	tb.do("close it", chromedp.Click(chromedp.CSS(`#summary`)))
	tb.waitFor("the pop-up to close", `document.querySelector('#qr .qr-pop').hidden`)
}

// testBrowserPageNoJS: without script the page still says what its times
// mean, and the upload form is a plain, usable file input (issue 11).
func testBrowserPageNoJS(t *testing.T, browser context.Context) {
	dir := pageTree(t)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--upload")
	tb := newTab(t, browser)
	call(tb, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	call(tb, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Kolkata"})
	tb.navigate(p.URL + "/")
	if eval[bool](tb, `document.body.classList.contains('js')`) {
		t.Fatal("app.js ran although scripts are disabled")
	}
	if got := eval[string](tb, plainRow("a  b.txt")+`.cells[2].textContent.trim()`); got != "2024-03-05 14:07" {
		t.Errorf("time without script = %q, want the UTC 2024-03-05 14:07", got)
	}
	if got := eval[string](tb, `document.querySelector('#listing th.t').innerText`); !strings.Contains(got, "UTC") {
		t.Errorf("time header %q does not say UTC", got)
	}
	if got := eval[string](tb, plainRow("a  b.txt")+`.cells[0].querySelector('a').innerText`); got != "a  b.txt" {
		t.Errorf("name shown as %q, want %q", got, "a  b.txt")
	}

	// The file input is drawn as a browser draws one, beside a separate
	// Upload button: not squeezed into a styled label.
	input := `document.querySelector('#upload-form input[type=file]')`
	if !eval[bool](tb, `(() => { const i = `+input+`, s = getComputedStyle(i), r = i.getBoundingClientRect();
		return s.opacity === '1' && s.position === 'static' && r.width >= 150 && r.height >= 16; })()`) {
		t.Error("without script the file input is not drawn as a plain input")
	}
	if eval[bool](tb, `document.querySelector('#upload-form .picker').classList.contains('btn')`) {
		t.Error("without script the file input sits inside a button-styled label")
	}
	if !eval[bool](tb, `(() => { const b = document.querySelector('#upload-form button[type=submit]'); return b.offsetParent !== null; })()`) {
		t.Error("without script there is no visible Upload button")
	}
	if eval[string](tb, `document.querySelector('#upload-form .picker').innerText.trim()`) != "" {
		t.Error("without script the picker carries a label meant for the scripted button")
	}
	tb.screenshot("listing-nojs-upload.png")

	// Sorting works as a plain form, and the archive and QR buttons lead
	// where their links used to.
	resp := tb.clickNavigate(`#listing th.s button.sort`)
	if resp.Status != 200 || !strings.HasSuffix(resp.URL, "/?sort=size&order=asc") {
		t.Errorf("sort without script: HTTP %d at %s", resp.Status, resp.URL)
	}
	resp = tb.clickNavigate(`#qr button`)
	if resp.Status != 200 || resp.MimeType != "image/svg+xml" {
		t.Errorf("QR without script: HTTP %d, %s at %s", resp.Status, resp.MimeType, resp.URL)
	}
}

// testBrowserUploadCards: finished upload cards go by themselves; and with
// --overwrite, dropping a file whose name exists asks first (issue 11).
func testBrowserUploadCards(t *testing.T, browser context.Context) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"same.txt": "original", "sub/inner.txt": "inner original"})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	tb := newTab(t, browser)
	tb.navigate(p.URL + "/")
	tb.waitFor("app.js to run", `document.body.classList.contains('js')`)

	src := t.TempDir()
	fresh := filepath.Join(src, "fresh.txt")
	same := filepath.Join(src, "same.txt")
	os.WriteFile(fresh, []byte("fresh"), 0o644)
	os.WriteFile(same, []byte("replacement"), 0o644)

	// A new name: no question; the card shows "uploaded", then goes.
	tb.do("choose a new file", chromedp.SetUploadFiles(chromedp.CSS(`#upload-form input[type=file]`), []string{fresh}))
	tb.waitFor("the upload to finish", `document.querySelectorAll('#uploads li.done').length === 1`)
	if d := tb.seenDialogs(); len(d) != 0 {
		t.Errorf("a new name asked %q", d[0].Message)
	}
	tb.waitFor("the finished card to clear itself", `document.querySelectorAll('#uploads li.done').length === 0 && document.getElementById('uploads').hidden`)

	// An existing name: asked; Cancel uploads nothing.
	sent := len(tb.seenRequests())
	tb.expectDialogs(dialogAnswer{Accept: false})
	tb.do("choose an existing name", chromedp.SetUploadFiles(chromedp.CSS(`#upload-form input[type=file]`), []string{same}))
	waitDialogs(t, tb, 1)
	d := tb.seenDialogs()
	if d[0].Type != "confirm" || !strings.Contains(d[0].Message, `"same.txt" already exists`) {
		t.Errorf("dialog = %s %q, want a confirm naming same.txt", d[0].Type, d[0].Message)
	}
	tb.waitFor("the refusal to be said", `(() => { const t = document.querySelector('.toast'); return t && !t.hidden && t.textContent.includes('Nothing uploaded'); })()`)
	for _, r := range tb.seenRequests()[sent:] {
		if strings.HasPrefix(r, "PUT ") || strings.HasPrefix(r, "POST ") && strings.Contains(r, "/.ferry/tus") || strings.HasPrefix(r, "PATCH ") {
			t.Errorf("cancelled upload still sent %s", r)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "same.txt")); string(b) != "original" {
		t.Errorf("same.txt = %q after Cancel", b)
	}

	// OK replaces it.
	tb.expectDialogs(dialogAnswer{Accept: true})
	tb.do("choose it again", chromedp.SetUploadFiles(chromedp.CSS(`#upload-form input[type=file]`), []string{same}))
	waitDialogs(t, tb, 2)
	tb.waitFor("the replacement to finish", `document.querySelectorAll('#uploads li.done').length === 1`)
	tb.waitFor("its card to go", `document.getElementById('uploads').hidden`)
	if b, _ := os.ReadFile(filepath.Join(dir, "same.txt")); string(b) != "replacement" {
		t.Errorf("same.txt = %q after OK, want the replacement", b)
	}

	// A failed upload's card stays when the finished ones go: its reason
	// must be read. A dotfile name is refused without --hidden.
	tb.allow("status of 4") // the browser logs the refusal
	bad := filepath.Join(src, ".hidden")
	good := filepath.Join(src, "good.txt")
	os.WriteFile(bad, []byte("x"), 0o644)
	os.WriteFile(good, []byte("good"), 0o644)
	tb.do("choose a good and a refused name", chromedp.SetUploadFiles(chromedp.CSS(`#upload-form input[type=file]`), []string{good, bad}))
	tb.waitFor("both to end", `document.querySelectorAll('#uploads li.failed').length === 1 && document.querySelectorAll('#uploads li.done').length === 1`)
	tb.waitFor("the finished card to go", `document.querySelectorAll('#uploads li.done').length === 0`)
	if n := eval[int](tb, `document.querySelectorAll('#uploads li.failed').length`); n != 1 {
		t.Errorf("%d failed cards left, want 1", n)
	}
	if !eval[bool](tb, `!!document.querySelector('#uploads .u-clear')`) {
		t.Error("no button left to clear the failed card")
	}
}

// testBrowserStatusRefresh: the status page keeps its figures current
// without reloading, so it never takes the reader's focus (issue 11).
func testBrowserStatusRefresh(t *testing.T, browser context.Context) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "a"})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1")
	tb := newTab(t, browser)
	tb.navigate(p.URL + "/.ferry/status")
	requests := `(() => { const r = Array.from(document.querySelectorAll('main tr')).find(r => r.cells[0] && r.cells[0].textContent === 'Requests'); return r ? r.cells[1].textContent : ''; })()`
	first := eval[string](tb, requests)
	if first == "" {
		t.Fatal("no Requests figure on the status page")
	}
	tb.do("mark the page and focus its link", chromedp.Evaluate[chromedp.Void](`window.sameDocument = true; document.querySelector('nav.crumbs a').focus();`))
	for range 3 {
		Do(t, "GET", p.URL+"/a.txt", nil)
	}
	tb.waitFor("the figures to update", requests+` !== `+jsString(first))
	if !eval[bool](tb, `window.sameDocument === true`) {
		t.Error("the status page reloaded itself instead of updating in place")
	}
	// Whole after two updates: every heading and table still there, no
	// node lost (a live list walked while emptied once dropped half).
	Do(t, "GET", p.URL+"/a.txt", nil)
	time.Sleep(4500 * time.Millisecond)
	if got := eval[string](tb, `Array.from(document.querySelectorAll('main h1, main h2, main table'), e => e.tagName).join(' ') + (document.querySelector('main').textContent.includes('undefined') ? ' undefined' : '')`); got != "H1 TABLE H2 H2 TABLE" {
		t.Errorf("after two updates the status page holds %q, want H1 TABLE H2 H2 TABLE", got)
	}
	if got := eval[string](tb, `document.activeElement ? document.activeElement.textContent : ''`); got != "Home" {
		t.Errorf("focus moved to %q", got)
	}

	// Without script it still refreshes, by reloading.
	nojs := newTab(t, browser)
	call(nojs, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	nojs.navigate(p.URL + "/.ferry/status")
	before := eval[string](nojs, requests)
	if resp, _ := Do(t, "GET", p.URL+"/a.txt", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET a.txt: %d", resp.StatusCode)
	}
	nojs.waitFor("a reload with new figures", requests+` !== `+jsString(before))
}
