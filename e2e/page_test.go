package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestReadme: a folder's README.md renders below its listing, with raw HTML
// and script links removed; a plain README shows as text; ?preview renders
// any Markdown file the same way for the viewer.
func TestReadme(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"README.md": "# Title\n\nSome *words*.\n\n<script>alert(1)</script>\n<img src=x onerror=alert(2)>\n\n" +
			"[x](javascript:alert(3)) ![pic](https://example.com/track.png) ![local](pic.png)\n",
		"plain/README":   "Plain <b>text</b>\n  indented\n",
		"none/notes.txt": "no readme here",
		"doc.md":         "## Doc\n\n<iframe src=//evil></iframe>\n",
	})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1")
	_, page := Do(t, "GET", p.URL+"/", nil, "Accept", "text/html")
	html := string(page)
	for _, want := range []string{`<section class="readme"`, `<h3>Title</h3>`, `<em>words</em>`, `<img src="pic.png" alt="local">`, `<a href="https://example.com/track.png">pic</a>`} {
		if !strings.Contains(html, want) {
			t.Errorf("listing lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>alert", "onerror", "javascript:", `src="https://example.com`} {
		if strings.Contains(html, bad) {
			t.Errorf("listing carries %q from the README", bad)
		}
	}
	_, page = Do(t, "GET", p.URL+"/plain/", nil, "Accept", "text/html")
	if !strings.Contains(string(page), `<pre class="plain">Plain &lt;b&gt;text&lt;/b&gt;`+"\n  indented\n</pre>") {
		t.Errorf("a plain README is not shown as text:\n%s", page)
	}
	_, page = Do(t, "GET", p.URL+"/none/", nil, "Accept", "text/html")
	if strings.Contains(string(page), `class="readme"`) {
		t.Error("a folder without README shows one")
	}
	// JSON listings stay as they were.
	_, js := Do(t, "GET", p.URL+"/?format=json", nil)
	if strings.Contains(string(js), "readme") {
		t.Errorf("JSON listing carries the README: %s", js)
	}

	resp, body := Do(t, "GET", p.URL+"/doc.md?preview", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") ||
		!strings.Contains(string(body), "<h3>Doc</h3>") || strings.Contains(string(body), "<iframe") {
		t.Errorf("?preview: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	if resp, _ := Do(t, "GET", p.URL+"/none/notes.txt?preview", nil); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("?preview of a text file: %d, want 415", resp.StatusCode)
	}
	// The file itself is unchanged by a query it does not know.
	if resp, body := Do(t, "GET", p.URL+"/doc.md", nil); resp.StatusCode != 200 || !strings.HasPrefix(string(body), "## Doc") {
		t.Errorf("doc.md: %d %q", resp.StatusCode, body)
	}
}

// hugePNG is a valid PNG header claiming w×h pixels and no image data: a
// decoder that trusted it would allocate w×h×4 bytes.
func hugePNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b.Bytes()
}

type thumbFigures struct {
	Thumbnails struct {
		Enabled   bool  `json:"enabled"`
		Generated int64 `json:"generated"`
		CacheHits int64 `json:"cache_hits"`
		PeakBusy  int64 `json:"peak_busy"`
		Workers   int64 `json:"workers"`
	} `json:"thumbnails"`
}

func thumbStats(t *testing.T, p *Proc) thumbFigures {
	t.Helper()
	_, b := Do(t, "GET", p.URL+"/.ferry/status?format=json", nil)
	var f thumbFigures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("status: %v\n%s", err, b)
	}
	return f
}

// TestThumbnails: ?thumb scales JPEG, PNG and GIF to at most 320 pixels,
// made at most two at a time however many are asked for at once, cached
// by file identity and time (a changed file gets a new one), revalidated
// with its ETag, refused beyond the pixel bound before any decoding, and
// off with --no-thumbnails.
func TestThumbnails(t *testing.T) {
	dir := t.TempDir()
	names := []string{}
	for i := range 8 {
		n := "p" + string(rune('0'+i)) + ".jpg"
		names = append(names, n)
		if err := os.WriteFile(filepath.Join(dir, n), photoJPEG(t, 2400, 1600, float64(i*40)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	WriteFiles(t, dir, map[string]string{"notes.txt": "text", ".secret.jpg": "x"})
	os.WriteFile(filepath.Join(dir, "icon.png"), iconPNG(t, 100), 0o644)
	os.WriteFile(filepath.Join(dir, "huge.png"), hugePNG(60000, 60000), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.jpg"), []byte("\xff\xd8\xff not really"), 0o644)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1")

	// Eight at once: all answered, never more than two made at a time.
	var wg sync.WaitGroup
	var mu sync.Mutex
	timings := map[string]string{}
	for _, n := range names {
		wg.Go(func() {
			resp, body := Do(t, "GET", p.URL+"/"+n+"?thumb", nil)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
				t.Errorf("%s?thumb: %d %s", n, resp.StatusCode, resp.Header.Get("Content-Type"))
				return
			}
			cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
			if err != nil || format != "jpeg" || cfg.Width != 320 || cfg.Height != 213 {
				t.Errorf("%s?thumb: %s %dx%d %v, want a 320x213 JPEG", n, format, cfg.Width, cfg.Height, err)
			}
			mu.Lock()
			timings[n] = resp.Header.Get("Server-Timing")
			mu.Unlock()
		})
	}
	wg.Wait()
	f := thumbStats(t, p).Thumbnails
	if !f.Enabled || f.Workers != 2 || f.PeakBusy < 1 || f.PeakBusy > f.Workers || f.Generated != 8 {
		t.Errorf("after 8 parallel thumbnails: %+v; want 8 generated, at most %d at once", f, f.Workers)
	}
	t.Logf("8 parallel thumbnails of 2400x1600 JPEGs: peak %d at once; %v", f.PeakBusy, timings)
	for n, st := range timings {
		if !strings.Contains(st, "generated") {
			t.Errorf("%s: first thumbnail %q, want generated", n, st)
		}
	}

	// Again: from the cache, nothing decoded.
	resp, _ := Do(t, "GET", p.URL+"/p0.jpg?thumb", nil)
	if st := resp.Header.Get("Server-Timing"); !strings.Contains(st, "cached") {
		t.Errorf("second thumbnail: Server-Timing %q, want cached", st)
	}
	tag := resp.Header.Get("ETag")
	if r2, _ := Do(t, "GET", p.URL+"/p0.jpg?thumb", nil, "If-None-Match", tag); r2.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", r2.StatusCode)
	}
	if g := thumbStats(t, p).Thumbnails.Generated; g != 8 {
		t.Errorf("generated %d after cached requests, want 8", g)
	}
	// A changed file: a new ETag and a new thumbnail.
	if err := os.WriteFile(filepath.Join(dir, "p0.jpg"), photoJPEG(t, 600, 900, 200), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, body := Do(t, "GET", p.URL+"/p0.jpg?thumb", nil, "If-None-Match", tag)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == tag || !strings.Contains(resp.Header.Get("Server-Timing"), "generated") {
		t.Errorf("after a change: %d ETag %s (was %s) %s", resp.StatusCode, resp.Header.Get("ETag"), tag, resp.Header.Get("Server-Timing"))
	}
	if cfg, _, _ := image.DecodeConfig(bytes.NewReader(body)); cfg.Width != 213 || cfg.Height != 320 {
		t.Errorf("changed p0: %dx%d, want 213x320", cfg.Width, cfg.Height)
	}

	// Transparency stays: a PNG thumbnail of a PNG with alpha.
	resp, body = Do(t, "GET", p.URL+"/icon.png?thumb", nil)
	if cfg, format, err := image.DecodeConfig(bytes.NewReader(body)); resp.StatusCode != 200 || format != "png" || cfg.Width != 100 || err != nil {
		t.Errorf("icon.png?thumb: %d %s %dx%d %v", resp.StatusCode, format, cfg.Width, cfg.Height, err)
	}

	for _, c := range []struct {
		path   string
		status int
		reason string
	}{
		{"/huge.png?thumb", 422, "too large"},
		{"/broken.jpg?thumb", 422, "not a readable image"},
		{"/notes.txt?thumb", 415, ""},
		{"/.secret.jpg?thumb", 404, ""},
		{"/missing.jpg?thumb", 404, ""},
	} {
		resp, body := Do(t, "GET", p.URL+c.path, nil)
		if resp.StatusCode != c.status || !strings.Contains(string(body), c.reason) {
			t.Errorf("%s: %d %q, want %d %q", c.path, resp.StatusCode, body, c.status, c.reason)
		}
	}

	off := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--no-thumbnails")
	if resp, _ := Do(t, "GET", off.URL+"/p1.jpg?thumb", nil); resp.StatusCode != 404 {
		t.Errorf("--no-thumbnails: %d, want 404", resp.StatusCode)
	}
	_, page := Do(t, "GET", off.URL+"/", nil, "Accept", "text/html")
	if strings.Contains(string(page), `data-thumbs="1"`) {
		t.Error("--no-thumbnails: the page still asks for thumbnails")
	}
	_, page = Do(t, "GET", p.URL+"/", nil, "Accept", "text/html")
	if !strings.Contains(string(page), `data-thumbs="1"`) {
		t.Error("the page does not know thumbnails are on")
	}
}

func zipNames(t *testing.T, b []byte) []string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	return names
}

// TestSelectionArchive: ?zip (or ?tar) with name= parameters archives just
// those entries of the folder; names that are not one visible entry of it
// are refused before anything is sent.
func TestSelectionArchive(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"a.txt": "a", "b.txt": "b", "c.txt": "c", "pics/x.jpg": "x", "pics/y/z.jpg": "z", ".env": "secret",
		"sub/inner.txt": "i",
	})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1")
	resp, body := Do(t, "GET", p.URL+"/?zip=&name=a.txt&name=pics&name=a.txt", nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "-selection.zip") {
		t.Fatalf("selection zip: %d %v", resp.StatusCode, resp.Header)
	}
	if got, want := zipNames(t, body), []string{"a.txt", "pics/", "pics/x.jpg", "pics/y/", "pics/y/z.jpg"}; !slices.Equal(got, want) {
		t.Errorf("selection zip holds %q, want %q", got, want)
	}
	resp, body = Do(t, "GET", p.URL+"/sub/?zip&name=inner.txt", nil)
	if got := zipNames(t, body); resp.StatusCode != 200 || !slices.Equal(got, []string{"inner.txt"}) || !strings.Contains(resp.Header.Get("Content-Disposition"), `sub-selection.zip`) {
		t.Errorf("subfolder selection: %d %q %s", resp.StatusCode, got, resp.Header.Get("Content-Disposition"))
	}
	for _, q := range []string{"name=.env", "name=../a.txt", "name=pics/x.jpg", "name=missing", "name=", "name=.ferry"} {
		resp, body := Do(t, "GET", p.URL+"/?zip&"+q, nil)
		if resp.StatusCode != 400 || resp.Header.Get("Content-Type") == "application/zip" {
			t.Errorf("?zip&%s: %d %s %q", q, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
}

// TestConditionalPut: PUT with If-Match stores only over the version it
// names (412 and nothing written otherwise), answers with the new ETag, and
// of many saves racing over one version exactly one wins.
func TestConditionalPut(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"notes.txt": "version 1\n"})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	resp, _ := Do(t, "GET", p.URL+"/notes.txt", nil)
	v1 := resp.Header.Get("ETag")

	resp, _ = Do(t, "PUT", p.URL+"/notes.txt", strings.NewReader("version 2\n"), "If-Match", v1)
	v2 := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusNoContent || v2 == "" || v2 == v1 {
		t.Fatalf("PUT If-Match current: %d ETag %q", resp.StatusCode, v2)
	}
	if resp, _ := Do(t, "GET", p.URL+"/notes.txt", nil); resp.Header.Get("ETag") != v2 {
		t.Errorf("GET's ETag %q, PUT said %q", resp.Header.Get("ETag"), v2)
	}
	// Someone else's save meanwhile: the old tag no longer matches.
	resp, body := Do(t, "PUT", p.URL+"/notes.txt", strings.NewReader("lost edit\n"), "If-Match", v1)
	if resp.StatusCode != http.StatusPreconditionFailed || !strings.Contains(string(body), "nothing was stored") {
		t.Errorf("PUT If-Match stale: %d %q", resp.StatusCode, body)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "version 2\n" {
		t.Errorf("after a refused PUT: %q", b)
	}
	for _, c := range []struct {
		name, header, value string
		status              int
	}{
		{"notes.txt", "If-Match", `W/` + v2, 412},
		{"notes.txt", "If-Match", "*", 204},
		{"new.txt", "If-Match", "*", 412},
		{"notes.txt", "If-None-Match", "*", 412},
		{"fresh.txt", "If-None-Match", "*", 201},
		{"notes.txt", "If-Unmodified-Since", "Mon, 01 Jan 2001 00:00:00 GMT", 412},
		{"notes.txt", "If-Unmodified-Since", "Mon, 01 Jan 2101 00:00:00 GMT", 204},
	} {
		resp, _ := Do(t, "PUT", p.URL+"/"+c.name, strings.NewReader("x"), c.header, c.value)
		if resp.StatusCode != c.status {
			t.Errorf("PUT %s %s: %s: %d, want %d", c.name, c.header, c.value, resp.StatusCode, c.status)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new.txt")); !os.IsNotExist(err) {
		t.Errorf("If-Match: * created new.txt: %v", err)
	}

	// Eight editors save over the same version at once: one wins.
	resp, _ = Do(t, "GET", p.URL+"/notes.txt", nil)
	base := resp.Header.Get("ETag")
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range 8 {
		wg.Go(func() {
			body := strings.Repeat(string(rune('a'+i)), 1000+i)
			resp, _ := Do(t, "PUT", p.URL+"/notes.txt", strings.NewReader(body), "If-Match", base)
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[204] != 1 || statuses[412] != 7 {
		t.Errorf("racing conditional PUTs: %v, want one 204 and seven 412", statuses)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestPDFFramed: where files are sandboxed (a writable server), a PDF is
// not, since Chromium will not show a PDF in a sandboxed document (the
// viewer's frame, or the file opened itself); it may only be framed by
// ferry's own pages. Everything else keeps the sandbox.
func TestPDFFramed(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"report.pdf": minimalPDF, "page.html": "<p>x</p>", "big.pdf": strings.Repeat("%", 20000)})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	for range 2 { // the second answer may come from the open-file cache
		for name, want := range map[string]string{"report.pdf": "frame-ancestors 'self'", "big.pdf": "frame-ancestors 'self'", "page.html": "sandbox"} {
			resp, _ := Do(t, "GET", p.URL+"/"+name, nil)
			if got := resp.Header.Get("Content-Security-Policy"); got != want {
				t.Errorf("%s: Content-Security-Policy %q, want %q", name, got, want)
			}
		}
	}
}
