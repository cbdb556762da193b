package listing

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestAssetHandler(t *testing.T) {
	h := AssetHandler()
	tests := []struct {
		method, path string
		status       int
		ctype        string
		contains     string
	}{
		{"GET", "app.js", 200, "text/javascript; charset=utf-8", "use strict"},
		{"GET", "app.css", 200, "text/css; charset=utf-8", "prefers-color-scheme"},
		{"GET", "favicon.svg", 200, "image/svg+xml", "<svg"},
		{"HEAD", "app.js", 200, "text/javascript; charset=utf-8", ""},
		{"GET", "/app.css", 200, "text/css; charset=utf-8", ""}, // tolerate an unstripped slash
		{"GET", "nope.js", 404, "", ""},
		{"GET", "", 404, "", ""},
		{"GET", "../assets.go", 404, "", ""},
		{"GET", "assets/app.js", 404, "", ""},
		{"POST", "app.js", 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/x", nil)
			r.URL.Path = tt.path
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			if tt.ctype != "" && w.Header().Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", w.Header().Get("Content-Type"), tt.ctype)
			}
			if tt.status == 200 {
				if w.Header().Get("ETag") == "" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("headers %v", w.Header())
				}
			}
			if !strings.Contains(w.Body.String(), tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
		})
	}

	// A revalidation with the ETag answers 304.
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	r.URL.Path = "app.js"
	h.ServeHTTP(w, r)
	r = httptest.NewRequest("GET", "/", nil)
	r.URL.Path = "app.js"
	r.Header.Set("If-None-Match", w.Header().Get("ETag"))
	w2 := httptest.NewRecorder()
	h.ServeHTTP(w2, r)
	if w2.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", w2.Code)
	}
}

// Every asset the page starts must exist: the scripts its loader names, the
// inline stylesheet and icon from the embedded files.
func TestLinkedAssetsExist(t *testing.T) {
	out := render(t, &Page{Path: "/", Can: Capabilities{Upload: true, Resumable: true}}, false)
	for _, name := range []string{AssetJS, "tus.js"} {
		if !strings.Contains(loaderJS, "'"+name+"'") {
			t.Errorf("the loader does not start %s", name)
		}
		if _, err := assetFS.ReadFile("assets/" + name); err != nil {
			t.Errorf("asset %s: %v", name, err)
		}
	}
	if !strings.Contains(out, `data-assets=".ferry/assets/"`) || !strings.Contains(out, "<script>"+loaderJS+"</script>") {
		t.Error("page lacks the loader or the asset folder it reads")
	}
	css, _ := assetFS.ReadFile("assets/" + AssetCSS)
	if len(css) == 0 || !strings.Contains(out, "<style>"+string(css)+"</style>") {
		t.Error("page does not carry app.css inline, byte for byte")
	}
	if !strings.Contains(out, `<link rel="icon" href="data:image/svg&#43;xml;base64,`) {
		t.Error("page has no inline icon")
	}
}

// The inline stylesheet and loader are admitted by their hashes, and
// nothing else inline is: a browser would refuse a mismatch silently.
func TestInlineMatchesCSP(t *testing.T) {
	out := render(t, &Page{Path: "/a/", Can: Capabilities{Upload: true, Archive: true}}, false)
	csp := PageCSP()
	for _, c := range []struct{ open, close, directive string }{
		{"<style>", "</style>", "style-src "}, {"<script>", "</script>", "script-src "},
	} {
		if n := strings.Count(out, c.open); n != 1 {
			t.Fatalf("%d %s elements, want 1", n, c.open)
		}
		body := out[strings.Index(out, c.open)+len(c.open):]
		body = body[:strings.Index(body, c.close)]
		dir := csp[strings.Index(csp, c.directive):]
		dir = dir[:strings.IndexByte(dir, ';')]
		if !strings.Contains(dir, sourceHash(body)) {
			t.Errorf("%s content hashes to %s, not in %q", c.open, sourceHash(body), dir)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(out, " style=") {
		t.Error("inline styles must stay refused")
	}
}

// Mirroring tools follow every href and src: the page offers links to its
// entries, its parent and its ancestors, and nothing of ferry's own (issue 11).
func TestMirrorShape(t *testing.T) {
	p := &Page{Path: "/a/b/", Entries: []Entry{{Name: "d", IsDir: true}, {Name: "f x.txt"}},
		Can: Capabilities{Upload: true, Delete: true, Move: true, Archive: true, Resumable: true}}
	out := render(t, p, false)
	allowed := map[string]bool{"d/": true, "f%20x.txt": true, "../": true, "../../": true}
	for _, m := range regexp.MustCompile(`(?i)\s(href|src|lowsrc|background|data|code|poster|srcset)=("[^"]*"|'[^']*'|[^\s>]+)`).FindAllStringSubmatch(out, -1) {
		v := html.UnescapeString(strings.Trim(m[2], `"'`))
		// A fragment ("#main", the skip link) names this same page, which
		// a mirroring tool already has.
		if allowed[v] || strings.HasPrefix(v, "data:") && m[1] == "href" || strings.HasPrefix(v, "#") && m[1] == "href" {
			continue
		}
		t.Errorf("a mirroring tool would follow %s=%q", m[1], v)
	}
	if strings.Contains(out, "?sort=") || strings.Contains(out, "?zip") || strings.Contains(out, "qr.svg?") {
		t.Error("page has query links")
	}
}

// The element ids and data- attributes app.js relies on must be on the page.
func TestScriptHooksPresent(t *testing.T) {
	js, _ := assetFS.ReadFile("assets/app.js")
	out := render(t, &Page{Path: "/a/", Entries: []Entry{{Name: "d", IsDir: true}, {Name: "f"}},
		Can: Capabilities{Upload: true, Delete: true, Move: true}}, false)
	for _, hook := range []string{"#filter", "#filter-wrap", "#listing", "#summary", "#upload-form", "#mkdir-form", "#uploads", "#drop"} {
		if !strings.Contains(string(js), "'"+hook) {
			t.Errorf("app.js does not use %s (test out of date?)", hook)
		}
		if !strings.Contains(out, `id="`+hook[1:]+`"`) {
			t.Errorf("page has no element %s", hook)
		}
	}
	for _, attr := range []string{"canUpload", "canDelete", "canMove", "maxUpload"} {
		if !strings.Contains(string(js), "dataset."+attr) {
			t.Errorf("app.js does not read data-%s", attr)
		}
	}
	// Rows as hydrate in app.js reads them: the kind letter, the name in
	// the link, the exact size in data-b.
	for _, row := range []string{"<tr class=d><td><a href=\"d/\">d/</a><td>—<td>\n", "<tr><td><a href=\"f\">f</a><td data-b=0>0 B<td>\n"} {
		if !strings.Contains(out, row) {
			t.Errorf("page lacks the row %q", row)
		}
	}
	// Every kind letter the server writes is one app.js and app.css know.
	css, _ := assetFS.ReadFile("assets/app.css")
	for _, k := range []string{KindFolder, KindImage, KindVideo, KindAudio, KindArchive, KindCode, KindText, KindPDF} {
		name := map[string]string{KindImage: "a.png", KindVideo: "a.mp4", KindAudio: "a.mp3", KindArchive: "a.zip",
			KindCode: "a.go", KindText: "a.txt", KindPDF: "a.pdf"}[k]
		c := string(kindClass(&Entry{Name: name, IsDir: k == KindFolder}))
		if KindOf(Entry{Name: name, IsDir: k == KindFolder}) != k || c == "\x00" {
			t.Fatalf("test out of date for kind %s", k)
		}
		if !strings.Contains(string(js), " "+c+": '"+k+"'") {
			t.Errorf("app.js's KIND_BY_CLASS lacks %s: '%s'", c, k)
		}
		if !strings.Contains(string(css), "tr."+c+" > td > a::before") {
			t.Errorf("app.css has no icon for tr.%s (%s)", c, k)
		}
	}
	if !strings.Contains(string(js), "getAttribute('data-b')") {
		t.Error("app.js does not read data-b")
	}
}

func TestScriptSyntax(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	path, _ := filepath.Abs(filepath.Join("assets", "app.js"))
	if out, err := exec.Command(node, "--check", path).CombinedOutput(); err != nil {
		t.Fatalf("node --check app.js: %v\n%s", err, out)
	}
}

// The stylesheet must not load anything from elsewhere: the CSP allows only
// 'self' and data: images.
func TestCSSSelfContained(t *testing.T) {
	css, _ := assetFS.ReadFile("assets/app.css")
	s := string(css)
	for _, bad := range []string{"@import", "url(http", "url(//", "url('http", `url("http`} {
		if strings.Contains(s, bad) {
			t.Errorf("app.css contains %s", bad)
		}
	}
	if strings.Count(s, "{") != strings.Count(s, "}") {
		t.Error("app.css braces do not balance")
	}
	for _, kind := range []string{KindFolder, KindImage, KindVideo, KindAudio, KindArchive, KindCode, KindText, KindPDF} {
		if !strings.Contains(s, "[data-kind="+kind+"]") {
			t.Errorf("app.css has no icon for %s", kind)
		}
	}
}

func bigPage(n int) *Page {
	p := &Page{Path: "/some/folder/", Can: Capabilities{Upload: true, Delete: true, Move: true, Archive: true}}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	exts := []string{".txt", ".jpg", ".go", ".mp4", ".zip", ".pdf", ""}
	for i := range n {
		e := Entry{Name: fmt.Sprintf("File %d & co%s", (i*7919)%n, exts[i%len(exts)]),
			Size: int64(i * 997), ModTime: t0.Add(time.Duration(i) * time.Minute)}
		if i%10 == 0 {
			e.IsDir, e.Name = true, fmt.Sprintf("Folder-%d", i)
		}
		p.Entries = append(p.Entries, e)
	}
	return p
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkWriteHTML10k(b *testing.B) {
	p := bigPage(10000)
	p.Sort.Apply(p.Entries)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.WriteHTML(discard{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteJSON10k(b *testing.B) {
	p := bigPage(10000)
	p.Sort.Apply(p.Entries)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.WriteJSON(discard{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSort10k(b *testing.B) {
	p := bigPage(10000)
	work := make([]Entry, len(p.Entries))
	for _, s := range []Sort{{Key: "name"}, {Key: "size", Desc: true}, {Key: "time"}} {
		b.Run(s.Key, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				copy(work, p.Entries)
				s.Apply(work)
			}
		})
	}
}

// 100,000 entries must stay comfortable.
func TestLargeListing(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	p := bigPage(100000)
	start := time.Now()
	p.Sort.Apply(p.Entries)
	var n countWriter
	if err := p.WriteHTML(&n); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("sorting and rendering 100,000 entries took %v", d)
	}
	t.Logf("100,000 entries: %d bytes of HTML in %v", n, time.Since(start))
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
