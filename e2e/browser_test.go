package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowser runs the listing page in headless Chromium against the real
// binary. All subtests share one browser; each has its own tab, and fails on
// any console error, exception, CSP violation or request off loopback.
func TestBrowser(t *testing.T) {
	browser := startBrowser(t)
	t.Run("ReadOnly", func(t *testing.T) { testBrowserReadOnly(t, browser) })
	t.Run("Writes", func(t *testing.T) { testBrowserWrites(t, browser) })
	t.Run("CleanConsoleAndLoopbackOnly", func(t *testing.T) { testBrowserClean(t, browser) })
	t.Run("Screenshots", func(t *testing.T) { testBrowserScreenshots(t, browser) })
	t.Run("NoJavaScript", func(t *testing.T) { testBrowserNoJS(t, browser) })
	t.Run("Resumable", func(t *testing.T) { testBrowserResumable(t, browser) })
	t.Run("PutFallback", func(t *testing.T) { testBrowserPutFallback(t, browser) })
	t.Run("UploadErrors", func(t *testing.T) { testBrowserUploadErrors(t, browser) })
	t.Run("PageDetails", func(t *testing.T) { testBrowserPageDetails(t, browser) })
	t.Run("PageNoJavaScript", func(t *testing.T) { testBrowserPageNoJS(t, browser) })
	t.Run("UploadCards", func(t *testing.T) { testBrowserUploadCards(t, browser) })
	t.Run("StatusRefresh", func(t *testing.T) { testBrowserStatusRefresh(t, browser) })
}

// readOnlyTree has distinct sizes so that size order differs from name order.
func readOnlyTree(t *testing.T) string {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"big.bin":           strings.Repeat("b", 5000),
		"photo.png":         strings.Repeat("p", 1000),
		"Readme.md":         strings.Repeat("r", 300),
		"tiny.txt":          "t t",
		"zeta.go":           strings.Repeat("z", 100),
		"docs/sub/deep.txt": "deep",
	})
	return dir
}

func testBrowserReadOnly(t *testing.T, browser context.Context) {
	dir := readOnlyTree(t)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1")
	tb := newTab(t, browser)

	if resp := tb.navigate(p.URL + "/"); resp.Status != 200 {
		t.Fatalf("listing: HTTP %d", resp.Status)
	}
	tb.waitFor("app.js to run", `document.body.classList.contains('js')`)

	// Folders first, then names without regard to case.
	want := []string{"docs", "big.bin", "photo.png", "Readme.md", "tiny.txt", "zeta.go"}
	if got := tb.rowNames(); !slices.Equal(got, want) {
		t.Errorf("rows = %q, want %q", got, want)
	}
	if got := eval[[]string](tb, `Array.from(document.querySelectorAll('nav.crumbs li'), li => li.textContent.trim())`); !slices.Equal(got, []string{"Home"}) {
		t.Errorf("root breadcrumbs = %q, want [Home]", got)
	}

	// A read-only server offers no way to write: no forms, no buttons, no
	// drop zone, no actions column.
	if n := eval[int](tb, `document.querySelectorAll('#upload-form, #mkdir-form, #uploads, #drop, input[type=file], button.rename, button.delete, th.a, td.a').length`); n != 0 {
		t.Errorf("read-only page has %d write controls", n)
	}
	if html := eval[string](tb, `document.body.innerText`); strings.Contains(html, "Upload") || strings.Contains(html, "New folder") {
		t.Errorf("read-only page mentions uploads or new folders:\n%s", html)
	}

	// The filter hides what does not match, ignoring case, and Escape
	// brings everything back.
	tb.waitFor("the filter box to show", `!document.getElementById('filter-wrap').hidden && document.getElementById('filter').offsetParent !== null`)
	tb.do("type into the filter", chromedp.SendKeys(chromedp.CSS("#filter"), "READ"))
	tb.waitFor("the filter to apply", `document.querySelectorAll('#listing tbody tr[data-name]:not([hidden])').length === 1`)
	if got := tb.visibleRowNames(); !slices.Equal(got, []string{"Readme.md"}) {
		t.Errorf("filter READ shows %q, want [Readme.md]", got)
	}
	tb.do("type more", chromedp.SendKeys(chromedp.CSS("#filter"), "x"))
	tb.waitFor("no match", `document.querySelectorAll('#listing tbody tr[data-name]:not([hidden])').length === 0`)
	tb.do("press Escape", chromedp.SendKeys(chromedp.CSS("#filter"), kb.Escape))
	tb.waitFor("the filter to clear", `document.getElementById('filter').value === ''`)
	if got := tb.visibleRowNames(); !slices.Equal(got, want) {
		t.Errorf("after Escape rows shown = %q, want %q", got, want)
	}

	// Sorting: the Size header sorts ascending, a second click descending;
	// folders stay first. (The headers are GET forms since issue 11, so that
	// mirroring tools do not fetch every order of every folder.)
	tb.clickNavigate(`#listing th.s button.sort`)
	if got := eval[string](tb, `location.search`); got != "?sort=size&order=asc" {
		t.Errorf("after clicking Size: location.search = %q", got)
	}
	wantAsc := []string{"docs", "tiny.txt", "zeta.go", "Readme.md", "photo.png", "big.bin"}
	if got := tb.rowNames(); !slices.Equal(got, wantAsc) {
		t.Errorf("size ascending = %q, want %q", got, wantAsc)
	}
	if got := eval[string](tb, `document.querySelector('#listing th.s').getAttribute('aria-sort')`); got != "ascending" {
		t.Errorf("Size header aria-sort = %q, want ascending", got)
	}
	tb.clickNavigate(`#listing th.s button.sort`)
	wantDesc := []string{"docs", "big.bin", "photo.png", "Readme.md", "zeta.go", "tiny.txt"}
	if got := tb.rowNames(); !slices.Equal(got, wantDesc) {
		t.Errorf("size descending = %q, want %q", got, wantDesc)
	}

	// Breadcrumbs: walk down two folders by their rows, then back up by the
	// crumbs.
	tb.clickNavigate(rowSel("docs") + ` td.n a`)
	tb.clickNavigate(rowSel("sub") + ` td.n a`)
	if got := eval[string](tb, `location.pathname`); got != "/docs/sub/" {
		t.Fatalf("after two clicks: at %q, want /docs/sub/", got)
	}
	if got := eval[[]string](tb, `Array.from(document.querySelectorAll('nav.crumbs li'), li => li.textContent.trim())`); !slices.Equal(got, []string{"Home", "docs", "sub"}) {
		t.Errorf("breadcrumbs = %q, want [Home docs sub]", got)
	}
	if got := eval[string](tb, `document.querySelector('nav.crumbs [aria-current=page]').textContent`); got != "sub" {
		t.Errorf("current crumb = %q, want sub", got)
	}
	if got := tb.rowNames(); !slices.Equal(got, []string{"deep.txt"}) {
		t.Errorf("rows in /docs/sub/ = %q", got)
	}
	tb.clickNavigate(`nav.crumbs li:nth-child(2) a`)
	if got := eval[string](tb, `location.pathname`); got != "/docs/" {
		t.Errorf("docs crumb led to %q", got)
	}
	tb.clickNavigate(`nav.crumbs a.home`)
	if got := eval[string](tb, `location.pathname`); got != "/" {
		t.Errorf("Home crumb led to %q", got)
	}
}

func testBrowserWrites(t *testing.T, browser context.Context) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"keep.txt":     "keep",
		"old-name.txt": "rename me",
		"doomed.txt":   "delete me",
	})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	tb := newTab(t, browser)
	tb.navigate(p.URL + "/")
	tb.waitFor("app.js to run", `document.body.classList.contains('js')`)

	// Every entry row gets rename and delete buttons.
	tb.waitFor("row actions", `document.querySelectorAll('#listing tbody tr[data-name] button.rename').length === 3 &&
		document.querySelectorAll('#listing tbody tr[data-name] button.delete').length === 3`)

	// Upload two files through the file input: progress ends at 100 % and
	// "uploaded", the rows appear, and the bytes on disk are the same.
	src := t.TempDir()
	alpha := randomBytes(t, 300<<10)
	beta := []byte(strings.Repeat("notes, with a space in the name\n", 100))
	paths := []string{filepath.Join(src, "alpha.bin"), filepath.Join(src, "beta notes.txt")}
	for i, b := range [][]byte{alpha, beta} {
		if err := os.WriteFile(paths[i], b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tb.do("choose files", chromedp.SetUploadFiles(chromedp.CSS(`#upload-form input[type=file]`), paths))
	tb.waitFor("both uploads to complete", `(() => {
		const done = Array.from(document.querySelectorAll('#uploads li.done'));
		return done.length === 2 && done.every(li => li.querySelector('progress').value === 100 &&
			li.querySelector('.u-stat').textContent.startsWith('uploaded'));
	})()`)
	if got := eval[[]string](tb, `Array.from(document.querySelectorAll('#uploads li .u-name'), e => e.textContent).sort()`); !slices.Equal(got, []string{"alpha.bin", "beta notes.txt"}) {
		t.Errorf("upload list = %q", got)
	}
	if n := eval[int](tb, `document.querySelectorAll('#uploads li.failed').length`); n != 0 {
		t.Errorf("%d uploads failed", n)
	}
	tb.waitFor("uploaded files listed", `document.querySelector(`+jsString(rowSel("alpha.bin"))+`) && document.querySelector(`+jsString(rowSel("beta notes.txt"))+`)`)
	for name, want := range map[string][]byte{"alpha.bin": alpha, "beta notes.txt": beta} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("uploaded %s: %v", name, err)
			continue
		}
		if sha(got) != sha(want) {
			t.Errorf("%s on disk: sha256 %s (%d bytes), want %s (%d bytes)", name, sha(got), len(got), sha(want), len(want))
		}
	}
	// Refreshed rows get their action buttons too.
	tb.waitFor("actions on new rows", `document.querySelector(`+jsString(rowSel("alpha.bin")+` button.delete`)+`)`)
	tb.screenshot("uploads-light.png")

	// New folder through the page's form.
	tb.do("name a folder", chromedp.SendKeys(chromedp.CSS(`#mkdir-form input[name=mkdir]`), "new folder"))
	tb.do("create it", chromedp.Click(chromedp.CSS(`#mkdir-form button[type=submit]`)))
	tb.waitFor("the folder row", `document.querySelector(`+jsString(rowSel("new folder")+`[data-dir="1"]`)+`)`)
	if fi, err := os.Stat(filepath.Join(dir, "new folder")); err != nil || !fi.IsDir() {
		t.Errorf("new folder on disk: %v", err)
	}
	if got := tb.rowNames(); got[0] != "new folder" {
		t.Errorf("folder not listed first: %q", got)
	}

	// Rename: the prompt offers the old name; the answer is the new one.
	tb.expectDialogs(dialogAnswer{Accept: true, Text: "renamed.txt"})
	tb.do("click rename", chromedp.Click(chromedp.CSS(rowSel("old-name.txt")+` button.rename`)))
	tb.waitFor("the renamed row", `document.querySelector(`+jsString(rowSel("renamed.txt"))+`) && !document.querySelector(`+jsString(rowSel("old-name.txt"))+`)`)
	if d := tb.seenDialogs(); len(d) != 1 || d[0].Type != "prompt" || d[0].DefaultPrompt != "old-name.txt" {
		t.Errorf("rename dialog = %+v, want a prompt defaulting to old-name.txt", d)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "renamed.txt")); err != nil || string(b) != "rename me" {
		t.Errorf("renamed.txt on disk: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "old-name.txt")); !os.IsNotExist(err) {
		t.Errorf("old-name.txt still on disk: %v", err)
	}

	// Renaming onto an existing name is refused with words, and nothing
	// changes. The browser logs the 412 as a failed load: expected here.
	tb.allow("status of 412")
	tb.expectDialogs(dialogAnswer{Accept: true, Text: "keep.txt"})
	tb.do("click rename", chromedp.Click(chromedp.CSS(rowSel("renamed.txt")+` button.rename`)))
	tb.waitFor("an error message", `(() => { const t = document.querySelector('.toast.error'); return t && !t.hidden; })()`)
	if msg := eval[string](tb, `document.querySelector('.toast-msg').textContent`); !strings.Contains(msg, `"keep.txt" already exists`) {
		t.Errorf("rename onto keep.txt: message %q", msg)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "keep.txt")); string(b) != "keep" {
		t.Errorf("keep.txt changed to %q", b)
	}

	// Delete asks first; dismissing keeps the file.
	tb.expectDialogs(dialogAnswer{Accept: false})
	tb.do("click delete", chromedp.Click(chromedp.CSS(rowSel("doomed.txt")+` button.delete`)))
	waitDialogs(t, tb, 3)
	for _, r := range tb.seenRequests() {
		if strings.HasPrefix(r, "DELETE ") {
			t.Errorf("a dismissed confirm still sent %s", r)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "doomed.txt")); err != nil {
		t.Errorf("doomed.txt gone after a dismissed confirm: %v", err)
	}
	tb.expectDialogs(dialogAnswer{Accept: true})
	tb.do("click delete", chromedp.Click(chromedp.CSS(rowSel("doomed.txt")+` button.delete`)))
	tb.waitFor("the row to go", `!document.querySelector(`+jsString(rowSel("doomed.txt"))+`)`)
	d := tb.seenDialogs()
	if len(d) != 4 || d[3].Type != "confirm" || !strings.Contains(d[3].Message, "doomed.txt") {
		t.Errorf("delete dialog = %+v, want a confirm naming doomed.txt", d[len(d)-1])
	}
	if _, err := os.Stat(filepath.Join(dir, "doomed.txt")); !os.IsNotExist(err) {
		t.Errorf("doomed.txt still on disk: %v", err)
	}
	want := []string{"new folder", "alpha.bin", "beta notes.txt", "keep.txt", "renamed.txt"}
	if got := tb.rowNames(); !slices.Equal(got, want) {
		t.Errorf("final rows = %q, want %q", got, want)
	}
	ents, _ := os.ReadDir(dir)
	var onDisk []string
	for _, e := range ents {
		onDisk = append(onDisk, e.Name())
	}
	if !slices.Equal(onDisk, []string{"alpha.bin", "beta notes.txt", "keep.txt", "new folder", "renamed.txt"}) {
		t.Errorf("on disk: %q (a leftover temporary file?)", onDisk)
	}
}

// waitDialogs waits until n dialogs have opened and been answered.
func waitDialogs(t *testing.T, tb *tab, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(tb.seenDialogs()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d dialogs seen, want %d", len(tb.seenDialogs()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The answer goes out from another goroutine, and an open dialog blocks
	// the page: a round trip to the page proves the dialog is closed and the
	// script after it has run.
	tb.waitFor("the page to respond", `true`)
}

// kindsTree has one entry of every kind the page draws an icon for.
func kindsTree(t *testing.T) string {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"Photos/.keep-out": "",
		"src/main.go":      "package main\n",
		"holiday.jpg":      strings.Repeat("j", 2<<20),
		"clip.mp4":         strings.Repeat("v", 40<<20/10),
		"song.mp3":         strings.Repeat("a", 700<<10),
		"backup.zip":       strings.Repeat("z", 12345),
		"main.go":          "package main\n",
		"notes.txt":        "notes\n",
		"report.pdf":       strings.Repeat("%", 90000),
		"data.bin":         strings.Repeat("\x00", 4096),
		"a rather long file name that goes on and on, as downloads often do (1).tar.gz": strings.Repeat("t", 777),
	})
	return dir
}

// testBrowserClean loads a writable page, uses its read-side features, and
// checks that the tab saw no console error and no request off loopback; then
// it proves the checks themselves catch a console error, an exception and a
// CSP refusal.
func testBrowserClean(t *testing.T, browser context.Context) {
	dir := kindsTree(t)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	tb := newTab(t, browser)
	tb.navigate(p.URL + "/")
	tb.waitFor("app.js to run", `document.body.classList.contains('js')`)
	tb.waitFor("row actions", `document.querySelectorAll('#listing td.a button').length > 0`)

	// The QR pop-up loads its image on demand.
	tb.do("open the QR code", chromedp.Click(chromedp.CSS(`#qr button`)))
	tb.waitFor("the QR image", `(() => { const i = document.querySelector('#qr .qr-pop img'); return i && i.complete && i.naturalWidth > 0; })()`)
	tb.do("filter", chromedp.SendKeys(chromedp.CSS("#filter"), "zip"))
	tb.waitFor("the filter", `document.querySelectorAll('#listing tbody tr[data-name]:not([hidden])').length === 1`)

	reqs := tb.seenRequests()
	// The stylesheet is inline since issue 11 (mirroring tools saved it).
	for _, want := range []string{"/.ferry/assets/app.js", "/.ferry/qr.svg"} {
		if !slices.ContainsFunc(reqs, func(r string) bool { return strings.Contains(r, want) }) {
			t.Errorf("no request for %s seen (the network listener is blind?): %q", want, reqs)
		}
	}
	for _, r := range reqs {
		if !strings.HasPrefix(r, "GET data:") {
			t.Logf("request: %s", r)
		}
	}
	if p := tb.takeProblems(); len(p) > 0 {
		t.Errorf("the page logged problems:\n%s", strings.Join(p, "\n"))
	}

	// The checks catch what they are meant to catch.
	tb.do("misbehave", chromedp.Evaluate[chromedp.Void](`
		console.error('probe-console-error');
		setTimeout(() => { throw new Error('probe-exception'); }, 0);
		const img = document.createElement('img');
		img.src = 'http://192.0.2.1/probe.png';
		document.body.appendChild(img);`))
	deadline := time.Now().Add(5 * time.Second)
	var got []string
	for {
		got = append(got, tb.takeProblems()...)
		all := strings.Join(got, "\n")
		if strings.Contains(all, "probe-console-error") && strings.Contains(all, "probe-exception") &&
			strings.Contains(all, "192.0.2.1/probe.png") && strings.Contains(all, "Content Security Policy") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tab recorder missed a console error, an exception or a CSP refusal; it saw:\n%s", all)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, g := range got {
		if !strings.Contains(g, "probe") {
			t.Errorf("unexpected problem: %s", g)
		}
	}
}

func testBrowserScreenshots(t *testing.T, browser context.Context) {
	dir := kindsTree(t)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	tb := newTab(t, browser)
	tb.do("set the viewport", chromedp.EmulateViewport(1280, 800))
	tb.colorScheme("light")
	tb.navigate(p.URL + "/")
	tb.waitFor("app.js to run", `document.body.classList.contains('js')`)
	// Rename and delete on every row (text files have Edit besides).
	tb.waitFor("row actions", `document.querySelectorAll('#listing tbody tr[data-name] td.a button.rename, #listing tbody tr[data-name] td.a button.delete').length === 2 * document.querySelectorAll('#listing tbody tr[data-name]').length`)

	// Each kind has its own icon: a mask from a data: SVG on the name's
	// ::before, different for folders, images, videos and so on.
	icons := eval[map[string]string](tb, `Object.fromEntries(Array.from(document.querySelectorAll('#listing tbody tr[data-kind]'), r => {
		const s = getComputedStyle(r.querySelector('td.n a'), '::before');
		return [r.dataset.kind, (s.maskImage && s.maskImage !== 'none' ? s.maskImage : s.webkitMaskImage) + ' ' + s.backgroundColor];
	}))`)
	seen := map[string]string{}
	for _, kind := range []string{"folder", "image", "video", "audio", "archive", "code", "text", "pdf", "file"} {
		icon, ok := icons[kind]
		if !ok {
			t.Errorf("no row of kind %q (kinds: %v)", kind, icons)
			continue
		}
		if !strings.Contains(icon, "data:image/svg+xml") {
			t.Errorf("kind %s: no SVG icon: %s", kind, icon)
		}
		if other, dup := seen[icon]; dup {
			t.Errorf("kinds %s and %s look the same: %s", kind, other, icon)
		}
		seen[icon] = kind
	}

	bodyBG := `getComputedStyle(document.body).backgroundColor`
	light := eval[string](tb, bodyBG)
	lightPNG := tb.screenshot("listing-light.png")
	tb.colorScheme("dark")
	dark := eval[string](tb, bodyBG)
	darkPNG := tb.screenshot("listing-dark.png")
	if light == dark {
		t.Errorf("body background is %s in both light and dark mode", light)
	}
	t.Logf("body background: light %s, dark %s", light, dark)
	for name, b := range map[string][]byte{"light": lightPNG, "dark": darkPNG} {
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s screenshot is not a PNG: %v", name, err)
			continue
		}
		if r := img.Bounds(); r.Dx() != 1280 || r.Dy() < 400 {
			t.Errorf("%s screenshot is %v, want 1280 wide and a page tall", name, r)
		}
	}
	if bytes.Equal(lightPNG, darkPNG) {
		t.Error("light and dark screenshots are identical")
	}

	// A phone: no sideways scrolling, and the rows still show name, size
	// and actions.
	tb.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	tb.navigate(p.URL + "/")
	tb.waitFor("app.js to run", `document.body.classList.contains('js')`)
	if w := eval[int](tb, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("on a 390 px phone the page is %d px wide (sideways scrolling)", w)
	}
	tb.screenshot("listing-phone-dark.png")
	tb.colorScheme("light")
	tb.screenshot("listing-phone-light.png")
}

func testBrowserNoJS(t *testing.T, browser context.Context) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"existing.txt": "x"})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--upload")
	tb := newTab(t, browser)
	call(tb, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	tb.navigate(p.URL + "/")

	if eval[bool](tb, `document.body.classList.contains('js')`) {
		t.Fatal("app.js ran although scripts are disabled")
	}
	if !eval[bool](tb, `document.querySelector('#upload-form button[type=submit]').offsetParent !== null`) {
		t.Error("without JavaScript the Upload button is hidden")
	}

	src := t.TempDir()
	content := randomBytes(t, 64<<10)
	file := filepath.Join(src, "plain form.bin")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	tb.do("choose a file", chromedp.SetUploadFiles(chromedp.CSS(`#upload-form input[type=file]`), []string{file}))
	resp := tb.clickNavigate(`#upload-form button[type=submit]`)
	// The POST answers 303 to the listing; the browser follows it.
	if resp.Status != 200 || resp.URL != p.URL+"/" {
		t.Errorf("after the form post: HTTP %d at %s, want 200 at %s/", resp.Status, resp.URL, p.URL)
	}
	if got := tb.rowNames(); !slices.Contains(got, "plain form.bin") {
		t.Errorf("after the form post the listing shows %q", got)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "plain form.bin")); err != nil || sha(got) != sha(content) {
		t.Errorf("plain form.bin on disk: %d bytes, %v; want %d bytes with sha256 %s", len(got), err, len(content), sha(content))
	}

	tb.do("name a folder", chromedp.SendKeys(chromedp.CSS(`#mkdir-form input[name=mkdir]`), "made without js"))
	resp = tb.clickNavigate(`#mkdir-form button[type=submit]`)
	if resp.Status != 200 {
		t.Errorf("after the new-folder form: HTTP %d at %s", resp.Status, resp.URL)
	}
	if got := tb.rowNames(); !slices.Contains(got, "made without js") {
		t.Errorf("after the new-folder form the listing shows %q", got)
	}
	if fi, err := os.Stat(filepath.Join(dir, "made without js")); err != nil || !fi.IsDir() {
		t.Errorf("folder on disk: %v", err)
	}
}

// testBrowserResumable uploads through the page's resumable (tus)
// transport in small chunks, cuts one PATCH off as a dropped connection
// would, and checks that the page asks the server where it stopped (HEAD)
// and goes on from that offset instead of starting over.
func testBrowserResumable(t *testing.T, browser context.Context) {
	if _, err := os.Stat(filepath.Join("..", "internal", "listing", "assets", "tus.js")); err != nil {
		t.Skip("the page has no resumable (tus) upload transport (internal/listing/assets/tus.js)")
	}
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--upload")
	tb := newTab(t, browser)
	tb.navigate(p.URL + "/")
	tb.waitFor("app.js to run", `document.body.classList.contains('js')`)
	if !eval[bool](tb, `document.body.dataset.canResume === '1' && !!window.ferryTus`) {
		t.Fatal("with --upload the page offers no resumable uploads (data-can-resume, window.ferryTus)")
	}
	const chunk = 256 << 10
	tb.do("small chunks, quick retries", chromedp.Evaluate[chromedp.Void](
		`ferryTus.chunkSize = 262144; ferryTus.retryDelays = [0.2, 0.5, 1];`))

	// Every tus request passes through here; the second PATCH is cut as if
	// the connection dropped before the server saw it.
	type seen struct {
		method, offset, checksum string
		cut                      bool
	}
	var mu sync.Mutex
	var tusReqs []seen
	patches := 0
	tb.listen(func(ev any) {
		e, ok := ev.(*fetch.EventRequestPaused)
		if !ok {
			return
		}
		mu.Lock()
		s := seen{method: e.Request.Method}
		for k, v := range e.Request.Headers {
			if strings.EqualFold(k, "Upload-Offset") {
				s.offset = fmt.Sprint(v)
			}
			if strings.EqualFold(k, "Upload-Checksum") {
				s.checksum = fmt.Sprint(v)
			}
		}
		if s.method == "PATCH" {
			patches++
			s.cut = patches == 2
		}
		tusReqs = append(tusReqs, s)
		mu.Unlock()
		go func() {
			if s.cut {
				chromedp.Call(tb.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: e.RequestID, ErrorReason: network.ErrorReasonConnectionReset})
				return
			}
			chromedp.Call(tb.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
		}()
	})
	call(tb, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/.ferry/tus/*"}}})
	// The cut PATCH is logged as a failed load: provoked on purpose.
	tb.allow("ERR_CONNECTION_RESET")

	src := t.TempDir()
	content := randomBytes(t, 4*chunk+1000)
	file := filepath.Join(src, "resumed.bin")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	tb.do("choose a file", chromedp.SetUploadFiles(chromedp.CSS(`#upload-form input[type=file]`), []string{file}))
	tb.waitFor("the upload to complete", `(() => {
		const li = document.querySelector('#uploads li');
		return li && li.classList.contains('done') && li.querySelector('progress').value === 100;
	})()`)
	tb.waitFor("the file listed", `document.querySelector(`+jsString(rowSel("resumed.bin"))+`)`)
	if got, err := os.ReadFile(filepath.Join(dir, "resumed.bin")); err != nil || sha(got) != sha(content) {
		t.Errorf("resumed.bin on disk: %d bytes, %v; want %d bytes with sha256 %s", len(got), err, len(content), sha(content))
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %q, want only resumed.bin (tus leftovers?)", names)
	}
	if n := eval[int](tb, `Object.keys(localStorage).filter(k => k.startsWith('ferry-tus')).length`); n != 0 {
		t.Errorf("%d resume entries left in localStorage after a finished upload", n)
	}

	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, s := range tusReqs {
		e := s.method
		if s.offset != "" {
			e += "@" + s.offset
		}
		if s.cut {
			e += "(cut)"
		}
		got = append(got, e)
	}
	want := []string{"POST", "PATCH@0", "PATCH@262144(cut)", "HEAD", "PATCH@262144", "PATCH@524288", "PATCH@786432", "PATCH@1048576"}
	if !slices.Equal(got, want) {
		t.Errorf("tus requests = %q\nwant %q", got, want)
	}
	// Each piece carries its SHA-256 (Web Crypto), which the server checks
	// before appending it.
	for _, s := range tusReqs {
		if s.method == "PATCH" {
			if sum, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s.checksum, "sha256 ")); !strings.HasPrefix(s.checksum, "sha256 ") || err != nil || len(sum) != 32 {
				t.Errorf("PATCH@%s Upload-Checksum %q", s.offset, s.checksum)
			}
		}
	}
	for _, r := range tb.seenRequests() {
		if strings.HasPrefix(r, "PUT ") {
			t.Errorf("the page fell back to PUT: %s", r)
		}
	}
}

// testBrowserPutFallback makes the tus endpoint answer 404, as a server
// without one would, and checks that the page then uploads with PUT.
func testBrowserPutFallback(t *testing.T, browser context.Context) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--upload")
	tb := newTab(t, browser)
	tb.listen(func(ev any) {
		e, ok := ev.(*fetch.EventRequestPaused)
		if !ok {
			return
		}
		go func() {
			if e.Request.Method == "POST" {
				chromedp.Call(tb.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: e.RequestID, ResponseCode: 404, Body: []byte("404 Not Found\n")})
				return
			}
			chromedp.Call(tb.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
		}()
	})
	call(tb, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/.ferry/tus/*"}}})
	tb.allow("status of 404")
	tb.navigate(p.URL + "/")
	tb.waitFor("app.js to run", `document.body.classList.contains('js')`)

	src := t.TempDir()
	content := randomBytes(t, 100<<10)
	file := filepath.Join(src, "by put.bin")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	tb.do("choose a file", chromedp.SetUploadFiles(chromedp.CSS(`#upload-form input[type=file]`), []string{file}))
	tb.waitFor("the upload to complete", `document.querySelector('#uploads li.done') && document.querySelector(`+jsString(rowSel("by put.bin"))+`)`)
	if got, err := os.ReadFile(filepath.Join(dir, "by put.bin")); err != nil || sha(got) != sha(content) {
		t.Errorf("on disk: %d bytes, %v; want %d bytes with sha256 %s", len(got), err, len(content), sha(content))
	}
	if !slices.ContainsFunc(tb.seenRequests(), func(r string) bool { return r == "PUT "+p.URL+"/by%20put.bin" }) {
		t.Errorf("no PUT of the file after the tus endpoint refused; requests: %q", tb.seenRequests())
	}
}

// testBrowserUploadErrors checks that refused uploads say why in words: a
// file over --max-upload, and a name that exists without --overwrite.
func testBrowserUploadErrors(t *testing.T, browser context.Context) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"taken.txt": "original"})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--upload", "--max-upload", "64K")
	tb := newTab(t, browser)
	tb.allow("status of 409")
	tb.navigate(p.URL + "/")
	tb.waitFor("app.js to run", `document.body.classList.contains('js')`)

	src := t.TempDir()
	big := filepath.Join(src, "big.bin")
	taken := filepath.Join(src, "taken.txt")
	ok := filepath.Join(src, "fine.txt")
	WriteFiles(t, src, map[string]string{"big.bin": strings.Repeat("x", 65<<10), "taken.txt": "replacement", "fine.txt": "fine"})
	tb.do("choose files", chromedp.SetUploadFiles(chromedp.CSS(`#upload-form input[type=file]`), []string{big, taken, ok}))
	tb.waitFor("all three to finish", `document.querySelectorAll('#uploads li.done, #uploads li.failed').length === 3`)
	stats := eval[map[string]string](tb, `Object.fromEntries(Array.from(document.querySelectorAll('#uploads li:not(.u-clear-row)'),
		li => [li.querySelector('.u-name').textContent, li.className + ': ' + li.querySelector('.u-stat').textContent]))`)
	for name, want := range map[string]string{
		"big.bin":   "failed: failed: too large",
		"taken.txt": "failed: failed: already exists",
		"fine.txt":  "done: uploaded",
	} {
		if !strings.HasPrefix(stats[name], want) {
			t.Errorf("%s: upload list says %q, want it to start with %q", name, stats[name], want)
		}
	}
	tb.waitFor("a message about the failures", `(() => { const t = document.querySelector('.toast.error'); return t && !t.hidden && /2 uploads failed/.test(t.textContent); })()`)
	tb.screenshot("upload-errors-light.png")
	if b, _ := os.ReadFile(filepath.Join(dir, "taken.txt")); string(b) != "original" {
		t.Errorf("taken.txt became %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "big.bin")); !os.IsNotExist(err) {
		t.Errorf("big.bin was stored: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "fine.txt")); string(b) != "fine" {
		t.Errorf("fine.txt on disk: %q", b)
	}
}
