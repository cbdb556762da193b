package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// turnedJPEG is photoJPEG's w×h picture stored sideways with EXIF
// orientation 6 (turn 90° clockwise to show), as phones write portraits:
// shown right, it is h×w.
func turnedJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a\x00\x00\x00\x08") // big-endian TIFF, IFD0 at 8
	for _, v := range []any{uint16(1), uint16(0x0112), uint16(3), uint32(1), uint16(6), uint16(0), uint32(0)} {
		binary.Write(&tiff, binary.BigEndian, v)
	}
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write([]byte{0xFF, 0xD8, 0xFF, 0xE1})
	binary.Write(&out, binary.BigEndian, uint16(len(seg)+2))
	out.Write(seg)
	out.Write(photoJPEG(t, w, h, 200)[2:])
	return out.Bytes()
}

// TestBrowserNewUserTour is the "tried as a new user would", end to
// end through clicks: a README shown (its script inert), a photo folder
// reached through nested folders, browsed as a grid (a sideways phone
// photo shown upright) and in the viewer, a search run from the box and
// its result opened, a share link made and opened in a second browser
// profile with no credentials (the page names the shared folder), a text
// file edited and a new one made, the link revoked on the status page and dead in the other
// profile, and the token nowhere in the log. Screenshots of each step, in
// light and dark, go to test-artifacts/tour-*.png.
func TestBrowserNewUserTour(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"README.md": "# Family photos\n\nEverything from **2024**. Please:\n\n- browse the *grid*\n- send links, not copies\n" +
			"- ask [Ann](notes/) before deleting\n\n<script>window.readmeRan = true</script>\n",
		"notes/todo.txt": "buy frames\n",
	})
	for name, b := range map[string][]byte{
		"photos/2024/coast/harbour.jpg": photoJPEG(t, 1600, 1200, 20),
		"photos/2024/coast/cliffs.jpg":  turnedJPEG(t, 1200, 900),
		"photos/2024/coast/map.png":     iconPNG(t, 512),
		"photos/2024/city/market.jpg":   photoJPEG(t, 1024, 768, 200),
	} {
		WriteFiles(t, dir, map[string]string{name: string(b)})
	}
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w", "--auth", "ann:pw", "--share-secret", filepath.Join(t.TempDir(), "secret"))

	ann := newTabFor(t, startBrowser(t), 2*time.Minute)
	ann.login("ann", "pw")
	ann.do("viewport", chromedpViewport(1280, 860))
	// Both schemes of each step; no transitions, so a picture never
	// catches a button halfway from one scheme's colours to the other's.
	shots := func(tb *tab, name string, viewport bool) {
		t.Helper()
		for _, scheme := range []string{"light", "dark"} {
			call(tb, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{
				{Name: "prefers-color-scheme", Value: scheme}, {Name: "prefers-reduced-motion", Value: "reduce"}}})
			if viewport {
				tb.viewShot("tour-" + name + "-" + scheme + ".png")
			} else {
				tb.screenshot("tour-" + name + "-" + scheme + ".png")
			}
		}
	}
	ready := `document.body.classList.contains('js')`

	// The top folder: the README below the listing, its script inert.
	ann.navigate(p.URL + "/")
	ann.waitFor("the page", ready)
	if got := eval[string](ann, `document.querySelector('.readme h3') ? document.querySelector('.readme h3').textContent : ''`); got != "Family photos" {
		t.Errorf("README heading %q", got)
	}
	if n := eval[int](ann, `document.querySelectorAll('.readme li').length`); n != 3 {
		t.Errorf("README list has %d items, want 3", n)
	}
	if eval[bool](ann, `window.readmeRan === true || !!document.querySelector('.readme script')`) {
		t.Error("the README's script is on the page")
	}
	shots(ann, "1-home", false)

	// Down to the photos by clicks, then the grid.
	for _, f := range []string{"photos/", "2024/", "coast/"} {
		ann.clickNavigate(`#listing td.n a[href="` + f + `"]`)
		ann.waitFor(f, ready)
	}
	ann.do("grid", clickSel(`.views .view-grid`))
	ann.waitFor("thumbnails", `document.querySelectorAll('img.thumb').length === 3 && Array.from(document.querySelectorAll('img.thumb')).every(i => i.complete && i.naturalWidth > 0)`)
	if wh := eval[[]int](ann, `(i => [i.naturalWidth, i.naturalHeight])(document.querySelector(`+jsString(rowSel("cliffs.jpg")+` img.thumb`)+`))`); len(wh) != 2 || wh[0] >= wh[1] {
		t.Errorf("the sideways photo's thumbnail is %v, want upright (portrait)", wh)
	}
	shots(ann, "2-grid", false)
	ann.do("open the sideways photo", clickSel(rowSel("cliffs.jpg")+` td.n a`))
	ann.waitFor("the viewer", openDialog("viewer")+` && document.querySelector('#viewer img.v-img').complete && document.querySelector('#viewer img.v-img').naturalWidth > 0`)
	if wh := eval[[]int](ann, `(i => [i.naturalWidth, i.naturalHeight])(document.querySelector('#viewer img.v-img'))`); len(wh) != 2 || wh[0] != 900 || wh[1] != 1200 {
		t.Errorf("the viewer shows the sideways photo as %v, want 900×1200", wh)
	}
	shots(ann, "3-viewer", true)
	ann.do("next", pressKey(kb.ArrowRight))
	ann.waitFor("harbour.jpg", `document.querySelector('#viewer .m-title').textContent === 'harbour.jpg'`)
	ann.do("close", pressKey(kb.Escape))
	ann.waitFor("closed", `!document.querySelector('#viewer').open`)
	ann.do("back to the list", clickSel(`.views .view-list`))

	// A search from the top folder's box; its result opens in the viewer.
	ann.clickNavigate(`.crumbs a.home`)
	ann.waitFor("the top folder", ready)
	ann.do("type", chromedp.SendKeys(chromedp.CSS(`form.search input[name=q]`), "harbour"))
	ann.clickNavigate(`form.search button[type=submit]`)
	ann.waitFor("the results", ready+` && document.querySelector('#listing tr.hit')`)
	if n := eval[int](ann, `document.querySelectorAll('#listing tr.hit').length`); n != 1 {
		t.Errorf("%d results for harbour, want 1", n)
	}
	if eval[bool](ann, `!!document.getElementById('sel-all')`) {
		t.Error("the results page offers a select-all box, and its rows have none")
	}
	shots(ann, "4-search", false)
	// The grid shows a picture found below as a thumbnail too.
	ann.do("grid", clickSel(`.views .view-grid`))
	ann.waitFor("the result's thumbnail", `(i => i && i.complete && i.naturalWidth > 0)(document.querySelector('#listing tr.hit img.thumb'))`)
	shots(ann, "4-search-grid", false)
	ann.do("list", clickSel(`.views .view-list`))
	ann.do("open the result", clickSel(`#listing tr.hit td.n a`))
	ann.waitFor("the result in the viewer", openDialog("viewer")+` && document.querySelector('#viewer .m-title').textContent === 'photos/2024/coast/harbour.jpg' && document.querySelector('#viewer img.v-img').complete`)
	if got := eval[string](ann, `location.pathname + location.search`); got != "/?q=harbour" {
		t.Errorf("the click left the results for %s", got)
	}
	ann.do("close", pressKey(kb.Escape))

	// A share link to the folder, made from its row.
	ann.navigate(p.URL + "/photos/2024/")
	ann.waitFor("share buttons", `document.querySelector(`+jsString(rowSel("coast")+` button.share`)+`)`)
	ann.do("share coast/", clickSel(rowSel("coast")+` button.share`))
	ann.waitFor("the dialog", openDialog("sharer"))
	ann.do("create", clickSel(`#sharer form button[type=submit]`))
	ann.waitFor("the link", `!document.querySelector('#sharer .share-out').hidden`)
	link := eval[string](ann, `document.querySelector('#sharer .share-link').value`)
	if got := eval[string](ann, `(a => a ? a.getAttribute('href') : '')(document.querySelector('#sharer .share-note a'))`); !strings.HasSuffix(got, "/.ferry/status") {
		t.Errorf("the note's status page link: %q", got)
	}
	shots(ann, "5-share", true)
	ann.do("close", pressKey(kb.Escape))

	// Someone else, in another browser profile, without credentials.
	bob := newTabFor(t, startBrowser(t), time.Minute)
	bob.do("viewport", chromedpViewport(1280, 860))
	if resp := bob.navigate(link); resp.Status != 200 {
		t.Fatalf("the link in the other profile: %d", resp.Status)
	}
	bob.waitFor("the shared folder", ready)
	if got := eval[string](bob, `document.querySelector('.crumbs [aria-current=page]').textContent + ' | ' + document.title`); got != "coast | Index of coast/" {
		t.Errorf("the link's page is named %q", got)
	}
	if got := bob.rowNames(); strings.Join(got, ",") != "cliffs.jpg,harbour.jpg,map.png" {
		t.Errorf("the link shows %q", got)
	}
	bob.do("grid", clickSel(`.views .view-grid`))
	bob.waitFor("thumbnails", `document.querySelectorAll('img.thumb').length === 3 && Array.from(document.querySelectorAll('img.thumb')).every(i => i.complete && i.naturalWidth > 0)`)
	shots(bob, "6-link-grid", false)
	bob.do("open harbour", clickSel(rowSel("harbour.jpg")+` td.n a`))
	bob.waitFor("the viewer", openDialog("viewer")+` && document.querySelector('#viewer img.v-img').complete && document.querySelector('#viewer img.v-img').naturalWidth === 1600`)
	bob.do("close", pressKey(kb.Escape))

	// A text file edited in the page.
	ann.navigate(p.URL + "/notes/")
	ann.waitFor("edit button", `document.querySelector(`+jsString(rowSel("todo.txt")+` button.edit`)+`)`)
	shots(ann, "7-notes", false)
	ann.do("edit", clickSel(rowSel("todo.txt")+` button.edit`))
	ann.waitFor("the editor", openDialog("editor")+` && !document.querySelector('#editor textarea').disabled`)
	ann.do("type", chromedp.SendKeys(chromedp.CSS("#editor textarea"), "call Ann\n"))
	ann.do("save", clickSel(`#editor .e-save`))
	ann.waitFor("saved", `document.querySelector('#editor .e-state').textContent === 'Saved'`)
	shots(ann, "8-editor", true)
	if b, _ := os.ReadFile(filepath.Join(dir, "notes", "todo.txt")); string(b) != "call Ann\nbuy frames\n" {
		t.Errorf("todo.txt saved as %q", b)
	}
	ann.do("close", pressKey(kb.Escape))
	ann.waitFor("closed", `!document.querySelector('#editor').open`)
	// A new text file, from the name box, straight into the editor.
	ann.do("name it", chromedp.SendKeys(chromedp.CSS(`#mkdir-form input[name=mkdir]`), "ideas.md"))
	ann.do("new file", clickSel(`#mkdir-form button.new-file`))
	ann.waitFor("the editor on the new file", openDialog("editor")+` && document.querySelector('#editor .m-title').textContent.includes('ideas.md') && !document.querySelector('#editor textarea').disabled`)
	ann.do("type", chromedp.SendKeys(chromedp.CSS("#editor textarea"), "# Album\n"))
	ann.do("save", clickSel(`#editor .e-save`))
	ann.waitFor("saved", `document.querySelector('#editor .e-state').textContent === 'Saved'`)
	if b, _ := os.ReadFile(filepath.Join(dir, "notes", "ideas.md")); string(b) != "# Album\n" {
		t.Errorf("ideas.md saved as %q", b)
	}
	ann.do("close", pressKey(kb.Escape))

	// The link revoked on the status page, which fits the window.
	ann.navigate(p.URL + "/.ferry/status")
	ann.waitFor("the link listed", `document.querySelector('table.shares form button')`)
	if w := eval[[]int](ann, `[document.documentElement.scrollWidth, window.innerWidth]`); len(w) != 2 || w[0] > w[1] {
		t.Errorf("the status page is %v wide, wider than the window", w)
	}
	shots(ann, "9-status", false)
	// The pointer on Revoke: the page's refresh leaves the button alone,
	// so a press and its release land on one button (a button swapped
	// between them lost the click, and the link stayed).
	revoke := `document.querySelector('table.shares form button')`
	box := eval[[]float64](ann, `(b => { b.scrollIntoView({block: 'center'}); const r = b.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })(`+revoke+`)`)
	ann.do("point at Revoke", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, box[0], box[1]))
	ann.do("mark it", chromedp.Evaluate[chromedp.Void](revoke+`.marked = true`))
	Do(t, "GET", p.URL+"/.ferry/health", nil)
	time.Sleep(4500 * time.Millisecond) // two of the page's refreshes
	if !eval[bool](ann, `!!`+revoke+` && `+revoke+`.marked === true`) {
		t.Errorf("the status page replaced the button under the pointer; main holds %q", eval[string](ann, `document.querySelector('main').textContent.slice(0, 300)`))
	}
	ann.clickNavigate(`table.shares form button`)
	bob.allow("status of 404")
	if resp := bob.navigate(link); resp.Status != 404 {
		t.Errorf("the revoked link: %d", resp.Status)
	}
	token := link[strings.Index(link, "/s/")+3:]
	token = strings.TrimSuffix(token, "/")
	if out := p.Stdout(); strings.Contains(out, token) {
		t.Errorf("the log holds the link's token")
	}
}

// TestBrowserUploadChecksumWithoutWebCrypto: a page without Web Crypto (on
// plain HTTP from another machine, not a secure context) still sends each
// resumable piece's SHA-256, computed in script, so the server checks it
// before appending; and the script's SHA-256 agrees with Go's.
func TestBrowserUploadChecksumWithoutWebCrypto(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--upload")
	tb := newTabFor(t, startBrowser(t), time.Minute)
	var mu sync.Mutex
	sums := map[string]string{} // Upload-Offset → Upload-Checksum
	tb.listen(func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Request.Method == "PATCH" {
			mu.Lock()
			sums[fmt.Sprint(e.Request.Headers["Upload-Offset"])] = fmt.Sprint(e.Request.Headers["Upload-Checksum"])
			mu.Unlock()
		}
	})
	tb.navigate(p.URL + "/")
	tb.waitFor("the page", `document.body.classList.contains('js') && window.ferryTus`)
	tb.do("no Web Crypto, small pieces", chromedp.Evaluate[chromedp.Void](
		`Object.defineProperty(window.crypto, 'subtle', {value: undefined}); ferryTus.chunkSize = 262144;`))
	// The script's digest of edge-case lengths against Go's.
	for _, n := range []int{0, 55, 56, 64, 119, 1 << 20} {
		got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`new Promise(r => { const u = new Uint8Array(`+fmt.Sprint(n)+`); for (let i = 0; i < u.length; i++) u[i] = i * 7 & 255;
			ferryTus.sha256(u, d => r(Array.from(new Uint8Array(d), b => b.toString(16).padStart(2, '0')).join(''))); })`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i * 7)
		}
		if want := sha(b); got != want {
			t.Errorf("script SHA-256 of %d bytes: %s, want %s", n, got, want)
		}
	}
	content := randomBytes(t, 3*262144+1000)
	file := filepath.Join(t.TempDir(), "piece.bin")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	tb.do("upload", chromedp.SetUploadFiles(chromedp.CSS(`#upload-form input[type=file]`), []string{file}))
	tb.waitFor("the file listed", `document.querySelector(`+jsString(rowSel("piece.bin"))+`)`)
	if got, _ := os.ReadFile(filepath.Join(dir, "piece.bin")); sha(got) != sha(content) {
		t.Errorf("piece.bin on disk: %d bytes", len(got))
	}
	mu.Lock()
	defer mu.Unlock()
	for off := 0; off < len(content); off += 262144 {
		piece := content[off:min(off+262144, len(content))]
		h := sha256.Sum256(piece)
		if got, want := sums[fmt.Sprint(off)], "sha256 "+base64.StdEncoding.EncodeToString(h[:]); got != want {
			t.Errorf("PATCH@%d Upload-Checksum %q, want %q", off, got, want)
		}
	}
}
