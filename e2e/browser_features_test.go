package e2e

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserFeatures drives the page's viewer, grid, README, selection,
// editor and share links in headless Chromium against the real binary.
func TestBrowserFeatures(t *testing.T) {
	browser := startBrowser(t)
	t.Run("Readme", func(t *testing.T) { testBrowserReadme(t, browser) })
	t.Run("Viewer", func(t *testing.T) { testBrowserViewer(t, browser) })
	t.Run("Grid", func(t *testing.T) { testBrowserGrid(t, browser) })
	t.Run("Selection", func(t *testing.T) { testBrowserSelection(t, browser) })
	t.Run("Editor", func(t *testing.T) { testBrowserEditor(t, browser) })
	t.Run("Share", func(t *testing.T) { testBrowserShare(t, browser) })
	t.Run("Screens", func(t *testing.T) { testBrowserScreens(t, browser) })
}

// photoJPEG draws a w×h picture: a hue sweep with a dark disc, so that a
// thumbnail shows whether it was scaled, cropped or turned.
func photoJPEG(t testing.TB, w, h int, hue float64) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := hsv(hue+float64(x)/float64(w)*60, 0.55+0.4*float64(y)/float64(h), 0.95)
			dx, dy := float64(x)-float64(w)*0.3, float64(y)-float64(h)*0.35
			if dx*dx+dy*dy < float64(h*h)/25 {
				c = color.RGBA{30, 30, 40, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// iconPNG is a transparent PNG with a filled circle.
func iconPNG(t testing.TB, n int) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			dx, dy := float64(x-n/2), float64(y-n/2)
			if dx*dx+dy*dy < float64(n*n)/6 {
				m.SetNRGBA(x, y, color.NRGBA{37, 99, 235, 255})
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func hsv(h, s, v float64) color.RGBA {
	h = math.Mod(h, 360)
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	var r, g, b float64
	switch {
	case h < 60:
		r, g = c, x
	case h < 120:
		r, g = x, c
	case h < 180:
		g, b = c, x
	case h < 240:
		g, b = x, c
	case h < 300:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := v - c
	return color.RGBA{uint8((r + m) * 255), uint8((g + m) * 255), uint8((b + m) * 255), 255}
}

// minimalPDF is a one-page PDF saying "ferry".
const minimalPDF = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
	"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 144]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>endobj\n" +
	"4 0 obj<</Length 41>>stream\nBT /F1 36 Tf 60 60 Td (ferry) Tj ET\nendstream endobj\n" +
	"5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

// photoTree is a photo folder as a new user would have one: pictures, a
// README, notes and a few other files.
func photoTree(t *testing.T) string {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"README.md": "# Holiday 2024\n\nPhotos from the **coast**, sorted by day.\n\n" +
			"| Day | Place |\n|---|---|\n| 1 | Harbour |\n| 2 | Cliffs |\n\n" +
			"- [x] upload\n- [ ] sort\n\n<script>window.readmeRan = true</script>\n" +
			"<img src=x onerror=\"window.readmeRan = true\">\n\n[click](javascript:window.readmeRan=true)\n",
		"notes.txt":      "Day 1: harbour, boats, fish market.\nDay 2: cliffs.\n",
		"plan.md":        "## Plan\n\n1. Sort\n2. Share\n\n```\ncode block\n```\n",
		"report.pdf":     minimalPDF,
		"data.bin":       "\x00\x01\x02",
		"later/day3.txt": "nothing yet",
	})
	for i, name := range []string{"harbour.jpg", "boats.jpg", "cliffs.jpg", "sunset.jpg", "market.jpg"} {
		w, h := 1600, 1067
		if i == 2 {
			w, h = 900, 1350 // portrait
		}
		if err := os.WriteFile(filepath.Join(dir, name), photoJPEG(t, w, h, float64(i*70)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "logo.png"), iconPNG(t, 256), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// testBrowserScreens takes the pictures people look at: the grid, the
// viewer (a photo, Markdown, a PDF) and the editor, in light and dark.
func testBrowserScreens(t *testing.T, browser context.Context) {
	dir := photoTree(t)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	// A tab per picture keeps each well inside the tab's time bound on a
	// loaded machine.
	open := func(scheme string) *tab {
		tb := newTab(t, browser)
		tb.do("viewport", chromedpViewport(1280, 860))
		tb.colorScheme(scheme)
		tb.navigate(p.URL + "/")
		tb.waitFor("app.js", `document.body.classList.contains('js') && document.querySelector('.views')`)
		return tb
	}
	for _, scheme := range []string{"light", "dark"} {
		tb := open(scheme)
		tb.screenshot("features-list-" + scheme + ".png")
		tb.do("grid", clickSel(`.views .view-grid`))
		tb.waitFor("thumbnails", `document.querySelectorAll('img.thumb').length === 6 && Array.from(document.querySelectorAll('img.thumb')).every(i => i.complete && i.naturalWidth > 0)`)
		tb.screenshot("features-grid-" + scheme + ".png")
		tb.do("list", clickSel(`.views .view-list`))

		tb = newTab(t, browser)
		tb.do("viewport", chromedpViewport(1280, 860))
		tb.colorScheme(scheme)
		tb.navigate(p.URL + "/?q=day")
		tb.waitFor("app.js", `document.body.classList.contains('js')`)
		tb.screenshot("features-search-" + scheme + ".png")

		tb = open(scheme)
		tb.do("open a photo", clickSel(rowSel("harbour.jpg")+` td.n a`))
		tb.waitFor("the viewer", openDialog("viewer")+` && document.querySelector('#viewer img.v-img').complete`)
		tb.viewShot("features-viewer-" + scheme + ".png")

		tb = open(scheme)
		tb.do("open the plan", clickSel(rowSel("plan.md")+` td.n a`))
		tb.waitFor("the Markdown", `document.querySelector('#viewer .v-md h3')`)
		tb.viewShot("features-viewer-md-" + scheme + ".png")

		tb = open(scheme)
		tb.do("edit", clickSel(rowSel("notes.txt")+` button.edit`))
		tb.waitFor("the editor", openDialog("editor")+` && document.querySelector('#editor textarea').value.startsWith('Day 1')`)
		tb.do("type", chromedp.SendKeys(chromedp.CSS("#editor textarea"), "Day 0: arrival.\n"))
		tb.viewShot("features-editor-" + scheme + ".png")
		tb.expectDialogs(dialogAnswer{Accept: true}) // close without saving
		tb.do("close", pressKey(kb.Escape))
		tb.waitFor("closed", `!document.querySelector('#editor').open`)
	}
}

// testBrowserReadme: the README shows below the listing, and nothing in it
// runs: not a <script>, not an onerror, not a javascript: link.
func testBrowserReadme(t *testing.T, browser context.Context) {
	p := Start(t, photoTree(t), "-p", "0", "-b", "127.0.0.1")
	tb := newTab(t, browser)
	tb.navigate(p.URL + "/")
	tb.waitFor("app.js", `document.body.classList.contains('js')`)
	if got := eval[string](tb, `document.querySelector('.readme h3').textContent`); got != "Holiday 2024" {
		t.Errorf("README title %q", got)
	}
	if n := eval[int](tb, `document.querySelectorAll('.readme table tr').length`); n != 3 {
		t.Errorf("README table has %d rows, want 3", n)
	}
	if n := eval[int](tb, `document.querySelectorAll('.readme script, .readme [onerror], .readme a[href^="javascript"], .readme iframe').length`); n != 0 {
		t.Errorf("README carries %d active elements", n)
	}
	tb.do("click the README's link", clickSel(`.readme a`))
	// A moment for anything the click set off (waitFor on a Promise would
	// not wait: a Promise is truthy at once).
	time.Sleep(300 * time.Millisecond)
	if eval[bool](tb, `window.readmeRan === true`) {
		t.Error("script from the README ran")
	}
}

// visibleDialog is a JS expression: the open dialog with this id.
func openDialog(id string) string { return `document.querySelector('#` + id + `[open]')` }

// testBrowserViewer: a click on a picture opens it in the page; previous
// and next walk the viewable files in the listing's order (buttons and
// arrow keys); text, Markdown and PDF show too; Escape closes and the
// focus is back on the row of the file last shown.
func testBrowserViewer(t *testing.T, browser context.Context) {
	p := Start(t, photoTree(t), "-p", "0", "-b", "127.0.0.1", "-w")
	tb := newTab(t, browser)
	tb.navigate(p.URL + "/")
	tb.waitFor("app.js", `document.body.classList.contains('js')`)
	title := `document.querySelector('#viewer .m-title').textContent`
	tb.do("open harbour.jpg", clickSel(rowSel("harbour.jpg")+` td.n a`))
	tb.waitFor("the picture", openDialog("viewer")+` && document.querySelector('#viewer img.v-img').complete && document.querySelector('#viewer img.v-img').naturalWidth === 1600`)
	if got := eval[string](tb, `location.pathname`); got != "/" {
		t.Errorf("the click left the page for %s", got)
	}
	nextAt := `Math.round(document.querySelector('#viewer .v-next').getBoundingClientRect().top)`
	pictureNext := eval[int](tb, nextAt)
	if got := eval[string](tb, `document.querySelector('#viewer .v-pos').textContent`); got != "3 of 10" {
		t.Errorf("position %q, want 3 of 10", got)
	}
	if !eval[bool](tb, `document.querySelector('#viewer').contains(document.activeElement)`) {
		t.Error("the focus is not in the viewer")
	}
	tb.do("next", clickSel(`#viewer .v-next`))
	tb.waitFor("logo.png", title+` === 'logo.png'`)
	tb.do("ArrowRight", pressKey(kb.ArrowRight))
	tb.waitFor("market.jpg", title+` === 'market.jpg'`)
	tb.do("ArrowLeft", pressKey(kb.ArrowLeft))
	tb.do("ArrowLeft", pressKey(kb.ArrowLeft))
	tb.do("ArrowLeft", pressKey(kb.ArrowLeft))
	tb.waitFor("cliffs.jpg", title+` === 'cliffs.jpg'`)

	// Text, Markdown, PDF.
	tb.do("close", pressKey(kb.Escape))
	tb.waitFor("closed", `!document.querySelector('#viewer').open`)
	if got := eval[string](tb, `document.activeElement.closest('tr') ? document.activeElement.closest('tr').dataset.name : ''`); got != "cliffs.jpg" {
		t.Errorf("after closing, the focus is on %q, want the row of cliffs.jpg", got)
	}
	tb.do("open notes.txt", clickSel(rowSel("notes.txt")+` td.n a`))
	tb.waitFor("the text", openDialog("viewer")+` && document.querySelector('#viewer pre.v-text') && document.querySelector('#viewer pre.v-text').textContent.startsWith('Day 1: harbour')`)
	if eval[bool](tb, `document.querySelector('#viewer .v-edit').hidden`) {
		t.Error("no Edit button for a text file on a writable server")
	}
	// A short text after a tall picture: Next has not moved from under the
	// pointer.
	if got := eval[int](tb, nextAt); got != pictureNext {
		t.Errorf("Next at y=%d for the text, y=%d for the picture", got, pictureNext)
	}
	tb.do("next", clickSel(`#viewer .v-next`))
	tb.waitFor("the Markdown", `document.querySelector('#viewer .v-md h3') && document.querySelector('#viewer .v-md h3').textContent === 'Plan'`)
	tb.do("next", clickSel(`#viewer .v-next`))
	tb.waitFor("README", title+` === 'README.md'`)
	tb.do("next", clickSel(`#viewer .v-next`))
	tb.waitFor("the PDF", `document.querySelector('#viewer iframe.v-pdf')`)
	if got := eval[string](tb, `document.querySelector('#viewer iframe.v-pdf').getAttribute('src')`); !strings.HasSuffix(got, "/report.pdf") {
		t.Errorf("PDF frame src %q", got)
	}
	tb.do("next wraps", clickSel(`#viewer .v-next`))
	tb.waitFor("sunset", title+` === 'sunset.jpg'`)
	tb.do("next wraps", clickSel(`#viewer .v-next`))
	tb.waitFor("boats, first again", title+` === 'boats.jpg'`)
	if got := eval[string](tb, `document.querySelector('#viewer .v-dl').getAttribute('href')`); !strings.HasSuffix(got, "/boats.jpg") {
		t.Errorf("download link %q", got)
	}

	// The filter narrows what previous and next walk through.
	tb.do("close", pressKey(kb.Escape))
	tb.do("filter", chromedp.SendKeys(chromedp.CSS("#filter"), ".jpg"))
	tb.waitFor("filtered", `document.querySelectorAll('#listing tbody tr[data-name]:not([hidden])').length === 5`)
	tb.do("open boats", clickSel(rowSel("boats.jpg")+` td.n a`))
	tb.waitFor("1 of 5", `document.querySelector('#viewer .v-pos').textContent === '1 of 5'`)

	// A modified click opens the file itself, as a link does.
	if n := eval[int](tb, `(() => { let opened = 0; const a = document.querySelector(`+jsString(rowSel("data.bin")+` td.n a`)+`);
		const e = new MouseEvent('click', {bubbles: true, cancelable: true, ctrlKey: true}); a.addEventListener('click', ev => { opened = ev.defaultPrevented ? 0 : 1; ev.preventDefault(); }, {once: true}); a.dispatchEvent(e); return opened; })()`); n != 1 {
		t.Error("a ctrl-click was taken by the viewer")
	}
}

// testBrowserGrid: the grid shows pictures as thumbnails made by the server
// (at most 320 pixels), the rest as icons, and is remembered.
func testBrowserGrid(t *testing.T, browser context.Context) {
	p := Start(t, photoTree(t), "-p", "0", "-b", "127.0.0.1")
	tb := newTab(t, browser)
	tb.navigate(p.URL + "/")
	tb.waitFor("app.js", `document.body.classList.contains('js')`)
	if got := eval[string](tb, `document.querySelector('.views .view-list').getAttribute('aria-pressed')`); got != "true" {
		t.Errorf("list view not pressed at first: %q", got)
	}
	tb.do("grid", clickSel(`.views .view-grid`))
	tb.waitFor("thumbnails", `document.querySelectorAll('img.thumb').length === 6 && Array.from(document.querySelectorAll('img.thumb')).every(i => i.complete && i.naturalWidth > 0)`)
	sizes := eval[map[string][]int](tb, `Object.fromEntries(Array.from(document.querySelectorAll('tr.has-thumb'), r => { const i = r.querySelector('img.thumb'); return [r.dataset.name, [i.naturalWidth, i.naturalHeight]]; }))`)
	want := map[string][]int{"boats.jpg": {320, 213}, "cliffs.jpg": {213, 320}, "logo.png": {256, 256}}
	for n, wh := range want {
		if got := sizes[n]; len(got) != 2 || got[0] != wh[0] || got[1] != wh[1] {
			t.Errorf("%s thumbnail %v, want %v", n, got, wh)
		}
	}
	for _, r := range tb.seenRequests() {
		if strings.Contains(r, ".jpg") && !strings.Contains(r, "?thumb") {
			t.Errorf("the grid fetched a whole photo: %s", r)
		}
	}
	// Cards: side by side, the same rows the filter and the viewer see.
	if n := eval[int](tb, `new Set(Array.from(document.querySelectorAll('#listing tbody tr[data-name]'), r => r.getBoundingClientRect().top)).size`); n > 3 {
		t.Errorf("grid cards spread over %d lines", n)
	}
	tb.navigate(p.URL + "/")
	tb.waitFor("the grid again", `document.body.classList.contains('grid') && document.querySelectorAll('img.thumb').length === 6`)
	tb.do("list", clickSel(`.views .view-list`))
	tb.waitFor("the list", `!document.body.classList.contains('grid')`)
}

// testBrowserSelection: boxes choose rows; the chosen ones download as one
// zip, move into a folder, or are deleted, and the focus stays in the list.
func testBrowserSelection(t *testing.T, browser context.Context) {
	dir := photoTree(t)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	tb := newTab(t, browser)
	tb.navigate(p.URL + "/")
	tb.waitFor("boxes", `document.querySelectorAll('#listing tbody tr[data-name] td.sel input').length === 12`)
	if !eval[bool](tb, `document.getElementById('selbar').hidden`) {
		t.Error("the selection bar shows with nothing selected")
	}
	tb.do("choose boats", clickSel(rowSel("boats.jpg")+` td.sel input`))
	tb.do("choose later", clickSel(rowSel("later")+` td.sel input`))
	tb.waitFor("the bar", `!document.getElementById('selbar').hidden && document.querySelector('#selbar .sel-count').textContent === '2 selected'`)
	if !eval[bool](tb, `document.getElementById('sel-all').indeterminate`) {
		t.Error("select-all box not indeterminate with 2 of 12")
	}
	// The zip: the page asks for ?zip with the names; what comes back holds them.
	zipURL := eval[string](tb, `(() => { const rows = Array.from(document.querySelectorAll('#listing tbody tr.selected')); return './?zip=' + rows.map(r => '&name=' + encodeURIComponent(r.dataset.name)).join(''); })()`)
	tb.do("download", clickSel(`#selbar .sel-zip`))
	waitRequest(t, tb, "?zip=&name=")
	resp, body := Do(t, "GET", p.URL+"/"+strings.TrimPrefix(zipURL, "./"), nil)
	if got := zipNames(t, body); resp.StatusCode != 200 || !slices.Equal(got, []string{"boats.jpg", "later/", "later/day3.txt"}) {
		t.Errorf("selection zip %s: %d %q", zipURL, resp.StatusCode, got)
	}
	sawZip := slices.ContainsFunc(tb.seenRequests(), func(r string) bool {
		return strings.Contains(r, "/?zip=&name=later&name=boats.jpg") || strings.Contains(r, "/?zip=&name=boats.jpg&name=later")
	})
	if !sawZip {
		t.Errorf("the page did not ask for the zip: %q", tb.seenRequests())
	}

	// Move two files into later/.
	tb.navigate(p.URL + "/")
	tb.waitFor("boxes", `document.querySelectorAll('#listing tbody tr[data-name] td.sel input').length === 12`)
	// The list drawn anew (a new folder here) keeps what was chosen.
	tb.do("choose cliffs", clickSel(rowSel("cliffs.jpg")+` td.sel input`))
	tb.do("name a folder", chromedp.SendKeys(chromedp.CSS(`#mkdir-form input[name=mkdir]`), "fresh"))
	tb.do("create it", clickSel(`#mkdir-form button[type=submit]`))
	tb.waitFor("the new folder's row with its box", `document.querySelector(`+jsString(rowSel("fresh")+` td.sel input`)+`)`)
	tb.waitFor("cliffs still chosen", `document.querySelector(`+jsString(rowSel("cliffs.jpg")+` td.sel input`)+`).checked && document.querySelector('#selbar .sel-count').textContent === '1 selected'`)
	tb.do("clear", clickSel(`#selbar .sel-clear`))
	tb.do("choose notes", clickSel(rowSel("notes.txt")+` td.sel input`))
	tb.do("choose plan", clickSel(rowSel("plan.md")+` td.sel input`))
	tb.expectDialogs(dialogAnswer{Accept: true, Text: "later"})
	tb.do("move", clickSel(`#selbar .sel-move`))
	tb.waitFor("moved", `!document.querySelector(`+jsString(rowSel("notes.txt"))+`) && !document.querySelector(`+jsString(rowSel("plan.md"))+`)`)
	for _, n := range []string{"later/notes.txt", "later/plan.md"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	// Delete two pictures; the focus stays in the list.
	tb.do("choose sunset", clickSel(rowSel("sunset.jpg")+` td.sel input`))
	tb.do("choose market", clickSel(rowSel("market.jpg")+` td.sel input`))
	tb.expectDialogs(dialogAnswer{Accept: true})
	tb.do("delete", clickSel(`#selbar .sel-delete`))
	tb.waitFor("deleted", `!document.querySelector(`+jsString(rowSel("sunset.jpg"))+`) && !document.querySelector(`+jsString(rowSel("market.jpg"))+`)`)
	for _, n := range []string{"sunset.jpg", "market.jpg"} {
		if _, err := os.Stat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("%s still there: %v", n, err)
		}
	}
	tb.waitFor("the focus in a row", `document.activeElement && document.activeElement.closest('#listing tr[data-name]')`)
	if !eval[bool](tb, `document.getElementById('selbar').hidden`) {
		t.Error("the selection bar stays after its entries went")
	}
}

// testBrowserEditor: a text file opens in the editor and saves with
// If-Match; a change made meanwhile by someone else is refused (412), the
// text stays in the editor, the other version on disk; Windows line ends
// stay as they were.
func testBrowserEditor(t *testing.T, browser context.Context) {
	dir := photoTree(t)
	WriteFiles(t, dir, map[string]string{"dos.txt": "one\r\ntwo\r\n"})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	tb := newTab(t, browser)
	tb.allow("status of 412")
	tb.navigate(p.URL + "/")
	tb.waitFor("edit buttons", `document.querySelectorAll('#listing button.edit').length === 4`)
	if n := eval[int](tb, `document.querySelectorAll(`+jsString(rowSel("harbour.jpg")+` button.edit, `+rowSel("report.pdf")+` button.edit`)+`).length`); n != 0 {
		t.Error("pictures or PDFs have an Edit button")
	}
	text := `document.querySelector('#editor textarea')`
	tb.do("edit notes", clickSel(rowSel("notes.txt")+` button.edit`))
	tb.waitFor("the text", openDialog("editor")+` && !`+text+`.disabled && `+text+`.value.startsWith('Day 1')`)
	if !eval[bool](tb, `document.activeElement === `+text) {
		t.Error("the text area does not have the focus")
	}
	tb.do("type", chromedp.SendKeys(chromedp.CSS("#editor textarea"), "Day 0: arrival. "))
	tb.do("save with Ctrl+S", chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	tb.waitFor("saved", `document.querySelector('#editor .e-state').textContent === 'Saved'`)
	if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "Day 0: arrival. Day 1: harbour, boats, fish market.\nDay 2: cliffs.\n" {
		t.Errorf("saved notes.txt: %q", b)
	}
	// Someone else saves meanwhile.
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("their version\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tb.do("type more", chromedp.SendKeys(chromedp.CSS("#editor textarea"), "More. "))
	tb.do("save", clickSel(`#editor .e-save`))
	tb.waitFor("refused", `document.querySelector('#editor .e-state').textContent.includes('someone changed the file')`)
	if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "their version\n" {
		t.Errorf("a refused save changed notes.txt: %q", b)
	}
	if got := eval[string](tb, text+`.value`); !strings.Contains(got, "More. ") {
		t.Errorf("the editor lost the text: %q", got)
	}
	tb.expectDialogs(dialogAnswer{Accept: true})
	tb.do("reload", clickSel(`#editor .e-reload`))
	tb.waitFor("their version", text+`.value === 'their version\n'`)
	tb.do("close", clickSel(`#editor .m-bar button.cancel`))
	tb.waitFor("closed", `!document.querySelector('#editor').open`)
	if got := eval[string](tb, `document.activeElement.closest('tr') ? document.activeElement.closest('tr').dataset.name : ''`); got != "notes.txt" {
		t.Errorf("after the editor, focus on %q, want the notes.txt row", got)
	}

	tb.do("edit dos.txt", clickSel(rowSel("dos.txt")+` button.edit`))
	tb.waitFor("its text", openDialog("editor")+` && !`+text+`.disabled && `+text+`.value === 'one\ntwo\n'`)
	tb.do("end", chromedp.Evaluate[chromedp.Void](text+`.setSelectionRange(8, 8)`))
	tb.do("type", chromedp.SendKeys(chromedp.CSS("#editor textarea"), "three\n"))
	tb.do("save", clickSel(`#editor .e-save`))
	tb.waitFor("saved", `document.querySelector('#editor .e-state').textContent === 'Saved'`)
	if b, _ := os.ReadFile(filepath.Join(dir, "dos.txt")); string(b) != "one\r\ntwo\r\nthree\r\n" {
		t.Errorf("dos.txt saved as %q", b)
	}
}

// testBrowserShare: a user makes a share link from the page (the row's
// button, an expiry, a download limit); a second browser profile without
// credentials opens it, sees the folder and nothing beside it; the maker
// revokes it on the status page, and the link stops working.
func testBrowserShare(t *testing.T, browser context.Context) {
	dir := photoTree(t)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--auth", "bob:pw", "--share-secret", filepath.Join(t.TempDir(), "secret"))
	tb := newTab(t, browser)
	tb.login("bob", "pw")
	tb.navigate(p.URL + "/")
	tb.waitFor("share buttons", `document.querySelectorAll('#listing button.share').length === 12`)
	tb.do("share later/", clickSel(rowSel("later")+` button.share`))
	tb.waitFor("the dialog", openDialog("sharer")+` && document.activeElement === document.querySelector('#sharer select')`)
	if got := eval[string](tb, `document.querySelector('#sharer .m-title').textContent`); got != "Share later/" {
		t.Errorf("dialog title %q", got)
	}
	tb.do("a day", chromedp.SetValue(chromedp.CSS("#sharer select"), "24h"))
	tb.do("three downloads", chromedp.SendKeys(chromedp.CSS("#sharer input[name=downloads]"), "3"))
	tb.do("create", clickSel(`#sharer form button[type=submit]`))
	tb.waitFor("the link", `!document.querySelector('#sharer .share-out').hidden && document.querySelector('#sharer .share-link').value.includes('/.ferry/s/')`)
	link := eval[string](tb, `document.querySelector('#sharer .share-link').value`)
	if !strings.HasPrefix(link, p.URL+"/.ferry/s/") || !strings.HasSuffix(link, "/") {
		t.Errorf("link %q", link)
	}
	if note := eval[string](tb, `document.querySelector('#sharer .share-note').textContent`); !strings.Contains(note, "for 3 downloads") {
		t.Errorf("note %q", note)
	}
	tb.viewShot("features-share-light.png")
	tb.do("close", pressKey(kb.Escape))
	tb.waitFor("the focus back on the row's button", `document.activeElement && document.activeElement.matches('button.share') && document.activeElement.closest('tr').dataset.name === 'later'`)

	// Someone else, in another profile, with no credentials.
	other := newTab(t, browser)
	other.navigate(link)
	other.waitFor("the shared folder", `document.body.classList.contains('js') && document.querySelector(`+jsString(rowSel("day3.txt"))+`)`)
	if got := other.rowNames(); !slices.Equal(got, []string{"day3.txt"}) {
		t.Errorf("the link shows %q", got)
	}
	if n := eval[int](other, `document.querySelectorAll('#listing button.share, #listing button.delete, #upload-form').length`); n != 0 {
		t.Errorf("a link's page offers %d write or share controls", n)
	}
	other.do("open the text", clickSel(rowSel("day3.txt")+` td.n a`))
	other.waitFor("the viewer", `document.querySelector('#viewer pre.v-text') && document.querySelector('#viewer pre.v-text').textContent === 'nothing yet'`)

	// The maker revokes it on the status page.
	tb.navigate(p.URL + "/.ferry/status")
	tb.waitFor("the link listed", `document.querySelector('table.shares form button')`)
	tb.clickNavigate(`table.shares form button`)
	if n := eval[int](tb, `document.querySelectorAll('table.shares').length`); n != 0 {
		t.Error("the revoked link is still listed")
	}
	other.allow("status of 404")
	if resp := other.navigate(link); resp.Status != 404 {
		t.Errorf("revoked link: %d", resp.Status)
	}
}
