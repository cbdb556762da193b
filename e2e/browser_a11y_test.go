package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserA11y runs axe-core on every kind of page ferry serves and on
// each state of the listing page (grid, viewer, editor, selection, a
// message, a filter that matches nothing), in light and in dark, checks the
// contrast of what axe does not (icons), and walks the page by keyboard
// alone.
func TestBrowserA11y(t *testing.T) {
	needAxe(t)
	browser := startBrowser(t)
	dir := photoTree(t)
	w := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	ro := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--auth", "ann:pw@/later", "--auth", "bob:pw")
	sh := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--auth", "bob:pw", "--share-secret", filepath.Join(t.TempDir(), "secret"))
	for _, scheme := range []string{"light", "dark"} {
		t.Run("Pages-"+scheme, func(t *testing.T) { testA11yPages(t, browser, scheme, w, ro) })
		t.Run("Sharing-"+scheme, func(t *testing.T) { testA11ySharing(t, browser, scheme, sh) })
		t.Run("States-"+scheme, func(t *testing.T) { testA11yStates(t, browser, scheme, w) })
		t.Run("Contrast-"+scheme, func(t *testing.T) { testA11yContrast(t, browser, scheme, w) })
	}
	t.Run("Keyboard", func(t *testing.T) { testA11yKeyboard(t, browser) })
	t.Run("UploadsSaid", func(t *testing.T) { testA11yUploads(t, browser) })
}

// testA11yUploads: the upload list's start and end reach screen readers
// through the live region, not each repaint of a progress bar.
func testA11yUploads(t *testing.T, browser context.Context) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	src := t.TempDir()
	WriteFiles(t, src, map[string]string{"a.txt": "a", "b.txt": "b"})
	tb := newTab(t, browser)
	tb.navigate(p.URL + "/")
	tb.waitFor("app.js", `document.body.classList.contains('js')`)
	tb.do("choose files", chromedp.SetUploadFiles(chromedp.CSS(`#upload-form input[type=file]`), []string{filepath.Join(src, "a.txt"), filepath.Join(src, "b.txt")}))
	tb.waitFor("the end said", `document.getElementById('live').textContent === '2 files uploaded'`)
	if got := eval[string](tb, `document.getElementById('live').getAttribute('aria-live')`); got != "polite" {
		t.Errorf("live region aria-live=%q", got)
	}
}

func a11yTab(t *testing.T, browser context.Context, scheme string) *tab {
	tb := newTab(t, browser)
	tb.colorScheme(scheme)
	return tb
}

// testA11yPages: the pages as they load.
func testA11yPages(t *testing.T, browser context.Context, scheme string, w, ro *Proc) {
	tb := a11yTab(t, browser, scheme)
	tb.allow("status of 404")
	for _, pg := range []struct{ what, url string }{
		{"writable listing", w.URL + "/"},
		{"subfolder", w.URL + "/later/"},
		{"search results", w.URL + "/?q=jpg"},
		{"search without results", w.URL + "/?q=nothing-like-it"},
		{"404 page", w.URL + "/nope"},
		{"status page", w.URL + "/.ferry/status"},
	} {
		tb.navigate(pg.url)
		tb.waitFor("load", `document.readyState === 'complete'`)
		if strings.Contains(pg.what, "listing") || pg.what == "subfolder" {
			tb.waitFor("app.js", `document.body.classList.contains('js') && document.querySelector('.views')`)
		}
		tb.axe(pg.what + ", " + scheme)
	}
	// A user with a grant on one folder: a listing, and the 403 page of
	// what is not hers. (A 401 page is the same page; Chromium shows its
	// own login prompt in its place.)
	auth := a11yTab(t, browser, scheme)
	auth.allow("status of 403")
	auth.login("ann", "pw")
	auth.navigate(ro.URL + "/later/")
	auth.waitFor("app.js", `document.body.classList.contains('js')`)
	auth.axe("listing with auth, " + scheme)
	auth.navigate(ro.URL + "/")
	auth.axe("403 page, " + scheme)
}

// testA11ySharing: the share dialog, the status page listing the user's
// links, and a link's page as its recipient sees it.
func testA11ySharing(t *testing.T, browser context.Context, scheme string, p *Proc) {
	tb := a11yTab(t, browser, scheme)
	tb.login("bob", "pw")
	tb.navigate(p.URL + "/")
	tb.waitFor("share buttons", `document.querySelectorAll('#listing button.share').length > 0`)
	tb.do("share", clickSel(rowSel("later")+` button.share`))
	tb.waitFor("the dialog", openDialog("sharer"))
	tb.axe("share dialog, " + scheme)
	tb.do("create", clickSel(`#sharer form button[type=submit]`))
	tb.waitFor("the link", `!document.querySelector('#sharer .share-out').hidden`)
	tb.axe("share dialog with its link, " + scheme)
	link := eval[string](tb, `document.querySelector('#sharer .share-link').value`)
	tb.navigate(p.URL + "/.ferry/status")
	tb.waitFor("the links", `document.querySelector('table.shares')`)
	tb.axe("status page with share links, " + scheme)
	other := a11yTab(t, browser, scheme)
	other.navigate(link)
	other.waitFor("app.js", `document.body.classList.contains('js') && document.querySelector('.views')`)
	other.axe("a share link's page, " + scheme)
}

// testA11yStates: the listing page in each of its states, each in a tab
// of its own (axe takes seconds on a loaded machine; a tab has 30).
func testA11yStates(t *testing.T, browser context.Context, scheme string, p *Proc) {
	open := func() *tab {
		tb := a11yTab(t, browser, scheme)
		tb.navigate(p.URL + "/")
		tb.waitFor("app.js", `document.body.classList.contains('js') && document.querySelectorAll('#listing td.a button').length > 0`)
		return tb
	}
	tb := open()
	tb.do("grid", clickSel(`.views .view-grid`))
	tb.waitFor("thumbnails", `Array.from(document.querySelectorAll('img.thumb')).every(i => i.complete) && document.querySelectorAll('img.thumb').length === 6`)
	tb.axe("grid, " + scheme)
	tb.do("list", clickSel(`.views .view-list`))

	tb = open()
	tb.do("choose two", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#listing tbody td.sel input')[1].click(); document.querySelectorAll('#listing tbody td.sel input')[2].click()`))
	tb.waitFor("the selection bar", `!document.getElementById('selbar').hidden`)
	tb.axe("selection, " + scheme)

	tb = open()
	tb.do("filter", chromedp.SendKeys(chromedp.CSS("#filter"), "zzzz"))
	tb.waitFor("no matches", `document.querySelector('#listing tr.no-match') && !document.querySelector('#listing tr.no-match').hidden`)
	tb.axe("filter with no match, " + scheme)

	tb = open()
	tb.do("open a photo", clickSel(rowSel("harbour.jpg")+` td.n a`))
	tb.waitFor("the viewer", openDialog("viewer")+` && document.querySelector('#viewer img.v-img').complete`)
	tb.axe("viewer with a picture, " + scheme)

	tb = open()
	tb.do("open the text", clickSel(rowSel("notes.txt")+` td.n a`))
	tb.waitFor("the text", `document.querySelector('#viewer pre.v-text')`)
	tb.axe("viewer with text, " + scheme)
	tb.do("next", clickSel(`#viewer .v-next`))
	tb.waitFor("the Markdown", `document.querySelector('#viewer .v-md h3')`)
	tb.axe("viewer with Markdown, " + scheme)

	tb = open()
	tb.do("edit", clickSel(rowSel("notes.txt")+` button.edit`))
	tb.waitFor("the editor", openDialog("editor")+` && !document.querySelector('#editor textarea').disabled`)
	tb.axe("editor, " + scheme)

	// A message, as an error: rename onto a name that exists.
	tb = open()
	tb.allow("status of 412")
	tb.expectDialogs(dialogAnswer{Accept: true, Text: "boats.jpg"})
	tb.do("rename", clickSel(rowSel("cliffs.jpg")+` button.rename`))
	tb.waitFor("the error message", `(() => { const t = document.querySelector('.toast.error'); return t && !t.hidden; })()`)
	tb.axe("error message, " + scheme)
}

// contrastJS computes WCAG contrast ratios in the page: of a colour over
// the first opaque background behind an element.
const contrastJS = `(() => {
  const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bg = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.99) return c; } return parse(getComputedStyle(document.documentElement).backgroundColor) || {r: 255, g: 255, b: 255}; };
  window.contrastOf = el => {
    const s = getComputedStyle(el); let fg = parse(s.color); const b = bg(el.parentElement);
    let op = 1; for (let e = el; e; e = e.parentElement) op *= Number(getComputedStyle(e).opacity);
    const a = fg.a * op; fg = {r: fg.r * a + b.r * (1 - a), g: fg.g * a + b.g * (1 - a), b: fg.b * a + b.b * (1 - a)};
    const l1 = lum(fg), l2 = lum(b); return (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  };
  return true;
})()`

// testA11yContrast: the row buttons, drawn in their text colour through an
// icon mask, are at 4.5:1 or more at rest (axe looks at text only); the
// error message and the status page's link too.
func testA11yContrast(t *testing.T, browser context.Context, scheme string, p *Proc) {
	tb := a11yTab(t, browser, scheme)
	tb.navigate(p.URL + "/")
	tb.waitFor("buttons", `document.querySelectorAll('#listing td.a button').length > 0`)
	eval[bool](tb, contrastJS)
	worst := eval[float64](tb, `Math.min(...Array.from(document.querySelectorAll('#listing td.a button, .views button, #selbar button'), b => contrastOf(b)))`)
	if worst < 4.5 {
		t.Errorf("%s: a resting row button's icon is at %.2f:1, want 4.5:1", scheme, worst)
	}
	t.Logf("%s: resting row icons at %.2f:1 or more", scheme, worst)
}

// testA11yKeyboard walks the listing with the keyboard alone: the skip
// link, the filter (and what it says to screen readers), a row, the
// viewer, renaming and deleting (the focus stays on the row), the editor
// and the selection.
func testA11yKeyboard(t *testing.T, browser context.Context) {
	dir := photoTree(t)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	tb := newTabFor(t, browser, 90*time.Second)
	tb.navigate(p.URL + "/")
	tb.waitFor("app.js", `document.body.classList.contains('js') && document.querySelectorAll('#listing td.a button').length > 0`)
	active := func() string {
		return eval[string](tb, `(() => { const a = document.activeElement; if (!a) return ''; const r = a.closest('tr[data-name]');
			return (r ? r.dataset.name + ' ' : '') + a.tagName.toLowerCase() + (a.id ? '#' + a.id : '') + (a.className ? '.' + String(a.className).split(' ').join('.') : '') + (a.dataset && a.dataset.act ? '[' + a.dataset.act + ']' : ''); })()`)
	}
	key := func(k string) { tb.do("key "+fmt.Sprintf("%q", k), pressKey(k)) }
	// tabTo presses Tab until the focus is on what matches, and reports
	// how many presses it took.
	tabTo := func(want string, max int) int {
		t.Helper()
		for i := 1; i <= max; i++ {
			key(kb.Tab)
			if strings.Contains(active(), want) {
				return i
			}
		}
		t.Fatalf("%q not reached in %d Tab presses (at %q)", want, max, active())
		return 0
	}

	// The first Tab reaches the skip link, shown on screen; it leads past
	// the header to the files.
	key(kb.Tab)
	if got := active(); !strings.Contains(got, "a.skip") {
		t.Fatalf("first Tab on %q, want the skip link", got)
	}
	if !eval[bool](tb, `document.activeElement.getBoundingClientRect().top >= 0`) {
		t.Error("the focused skip link is off screen")
	}
	key(kb.Enter)
	tb.waitFor("the main region", `document.activeElement && document.activeElement.id === 'main'`)
	if n := tabTo("input#filter", 3); n != 1 {
		t.Errorf("the filter is %d Tabs after the skip link", n)
	}
	tb.do("type", chromedp.SendKeys(chromedp.CSS("#filter"), "harb"))
	tb.waitFor("the count said", `document.getElementById('live').textContent === '1 of 12 entries shown'`)
	tb.do("type", chromedp.SendKeys(chromedp.CSS("#filter"), "zz"))
	tb.waitFor("no matches said", `document.getElementById('live').textContent === 'No matches for “harbzz”'`)
	key(kb.Escape)
	tb.waitFor("cleared said", `document.getElementById('live').textContent === 'Filter cleared: all 12 entries shown'`)

	// To a photo's row, and into the viewer.
	tb.waitFor("the filter focused", `(() => { const f = document.getElementById('filter'); f.focus(); return document.activeElement === f; })()`)
	n := tabTo("harbour.jpg a", 40)
	t.Logf("harbour.jpg's link is %d Tab presses after the filter", n)
	key(kb.Enter)
	tb.waitFor("the viewer", openDialog("viewer")+` && document.querySelector('#viewer').contains(document.activeElement)`)
	key(kb.ArrowRight)
	tb.waitFor("the next picture", `document.querySelector('#viewer .m-title').textContent === 'logo.png'`)
	key(kb.Escape)
	tb.waitFor("closed", `!document.querySelector('#viewer').open`)
	if got := active(); got != "logo.png a" {
		t.Errorf("after the viewer, focus on %q, want logo.png's link", got)
	}

	// Rename by keyboard: the focus stays on the row, under its new name.
	tabTo("logo.png button.icon-btn.rename[rename]", 5)
	tb.expectDialogs(dialogAnswer{Accept: true, Text: "emblem.png"})
	key(kb.Enter)
	tb.waitFor("renamed", `document.querySelector(`+jsString(rowSel("emblem.png"))+`)`)
	tb.waitFor("the focus on the renamed row", `document.activeElement && document.activeElement.closest('tr') && document.activeElement.closest('tr').dataset.name === 'emblem.png'`)
	if got := active(); got != "emblem.png button.icon-btn.rename[rename]" {
		t.Errorf("after renaming, focus on %q", got)
	}
	// Delete: the focus moves to the next row, not the top of the page.
	key(kb.Tab)
	if got := active(); got != "emblem.png button.icon-btn.delete[delete]" {
		t.Fatalf("Tab after rename: %q", got)
	}
	tb.expectDialogs(dialogAnswer{Accept: true})
	key(kb.Enter)
	tb.waitFor("deleted", `!document.querySelector(`+jsString(rowSel("emblem.png"))+`)`)
	tb.waitFor("the focus on the next row", `document.activeElement && document.activeElement.closest('tr') && document.activeElement.closest('tr').dataset.name === 'harbour.jpg'`)

	// The editor: Enter opens it with the text focused; Ctrl+S saves;
	// Escape closes it and the focus is back on the button.
	tabTo("notes.txt button.icon-btn.edit[edit]", 12)
	key(kb.Enter)
	tb.waitFor("the editor", openDialog("editor")+` && document.activeElement === document.querySelector('#editor textarea')`)
	tb.do("type", chromedp.KeyEvent("Hello. "))
	tb.do("save", chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	tb.waitFor("saved", `document.querySelector('#editor .e-state').textContent === 'Saved'`)
	key(kb.Escape)
	tb.waitFor("closed", `!document.querySelector('#editor').open`)
	tb.waitFor("the focus back", `document.activeElement && document.activeElement.matches('button.edit') && document.activeElement.closest('tr').dataset.name === 'notes.txt'`)

	// Selection: Space on a box, the bar appears and says how many.
	tb.waitFor("a box to focus", `(() => { const b = document.querySelector(`+jsString(rowSel("boats.jpg")+` td.sel input`)+`); if (b) b.focus(); return b && document.activeElement === b; })()`)
	key(" ")
	tb.waitFor("selected", `!document.getElementById('selbar').hidden && document.getElementById('live').textContent === '1 selected'`)
	// The bar stands above the list: Shift+Tab reaches it in a few.
	for i := 0; !strings.Contains(active(), "button.btn.sel-clear"); i++ {
		if i == 15 {
			t.Fatalf("Clear selection not reached in 15 Shift+Tab presses (at %q)", active())
		}
		tb.do("Shift+Tab", chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)))
	}
	key(kb.Enter)
	tb.waitFor("cleared", `document.getElementById('selbar').hidden && document.activeElement.id === 'sel-all'`)
}
