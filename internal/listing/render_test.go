package listing

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var fixedTime = time.Date(2024, 3, 5, 14, 7, 9, 0, time.UTC)

// samplePage is a small fixed page used by the golden files.
func samplePage() *Page {
	p := &Page{
		Path: "/docs/",
		Entries: []Entry{
			{Name: "report.pdf", Size: 1536, ModTime: fixedTime},
			{Name: "images", IsDir: true, ModTime: fixedTime.Add(-48 * time.Hour)},
			{Name: "empty.txt", Size: 0, ModTime: fixedTime.Add(time.Minute)},
			{Name: "Archive.zip", Size: 3355443, ModTime: fixedTime.Add(-time.Hour)},
		},
		Sort: Sort{Key: "name"},
		Can:  Capabilities{Upload: true, Delete: true, Move: true, Archive: true, MaxUpload: 100 << 20},
	}
	p.Sort.Apply(p.Entries)
	return p
}

func render(t testing.TB, p *Page, asJSON bool) string {
	t.Helper()
	var buf bytes.Buffer
	var err error
	if asJSON {
		err = p.WriteJSON(&buf)
	} else {
		err = p.WriteHTML(&buf)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output; if the change is intended, run go test ./internal/listing/ -update\n--- got ---\n%s", path, got)
	}
}

// The inline stylesheet is app.css byte for byte (TestLinkedAssetsExist);
// the golden file names it instead of repeating it.
func TestHTMLGolden(t *testing.T) {
	out := strings.Replace(render(t, samplePage(), false), "<style>"+inlined.style+"</style>", "<style>/* app.css */</style>", 1)
	golden(t, "page.golden.html", out)
}

func TestJSONGolden(t *testing.T) {
	golden(t, "page.golden.json", render(t, samplePage(), true))
}

// jsonPage mirrors the documented JSON shape; pointers tell absent from zero.
type jsonPage struct {
	Path    *string          `json:"path"`
	Entries []map[string]any `json:"entries"`
}

func TestJSONShape(t *testing.T) {
	tests := []struct {
		name string
		page *Page
		want string // canonical JSON of the expected document
	}{
		{
			name: "files and folders",
			page: samplePage(),
			want: `{"path":"/docs/","entries":[
				{"name":"images","type":"dir","modified":"2024-03-03T14:07:09Z"},
				{"name":"Archive.zip","type":"file","size":3355443,"modified":"2024-03-05T13:07:09Z"},
				{"name":"empty.txt","type":"file","size":0,"modified":"2024-03-05T14:08:09Z"},
				{"name":"report.pdf","type":"file","size":1536,"modified":"2024-03-05T14:07:09Z"}]}`,
		},
		{
			name: "empty folder has [] not null",
			page: &Page{Path: "/"},
			want: `{"path":"/","entries":[]}`,
		},
		{
			name: "path gets its slashes",
			page: &Page{Path: "a/b"},
			want: `{"path":"/a/b/","entries":[]}`,
		},
		{
			name: "times are UTC RFC 3339",
			page: &Page{Path: "/", Entries: []Entry{{Name: "x", Size: 1,
				ModTime: time.Date(2024, 6, 1, 12, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))}}},
			want: `{"path":"/","entries":[{"name":"x","type":"file","size":1,"modified":"2024-06-01T10:00:00Z"}]}`,
		},
		{
			name: "a folder without a time (an object store's prefix) has no modified",
			page: &Page{Path: "/", Entries: []Entry{{Name: "d", IsDir: true}}},
			want: `{"path":"/","entries":[{"name":"d","type":"dir"}]}`,
		},
		{
			name: "hostile names survive",
			page: &Page{Path: "/<&>/", Entries: []Entry{
				{Name: "<script>alert(1)</script>.txt", Size: 1, ModTime: fixedTime},
				{Name: "a\"b\\c\n\t\x01\u2028.txt", Size: 2, ModTime: fixedTime},
			}},
			want: `{"path":"/<&>/","entries":[
				{"name":"<script>alert(1)</script>.txt","type":"file","size":1,"modified":"2024-03-05T14:07:09Z"},
				{"name":"a\"b\\c\n\t\u0001\u2028.txt","type":"file","size":2,"modified":"2024-03-05T14:07:09Z"}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, tt.page, true)
			if !json.Valid([]byte(got)) {
				t.Fatalf("invalid JSON: %s", got)
			}
			var g, w any
			if err := json.Unmarshal([]byte(got), &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &w); err != nil {
				t.Fatal(err)
			}
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(w)
			if !bytes.Equal(gb, wb) {
				t.Errorf("got  %s\nwant %s", gb, wb)
			}
			var shape jsonPage
			if err := json.Unmarshal([]byte(got), &shape); err != nil {
				t.Fatal(err)
			}
			if shape.Path == nil || shape.Entries == nil {
				t.Errorf("path or entries missing/null: %s", got)
			}
			for _, e := range shape.Entries {
				_, hasSize := e["size"]
				if (e["type"] == "dir") == hasSize {
					t.Errorf("entry %v: folders must have no size, files must", e)
				}
				if m, ok := e["modified"].(string); ok || e["type"] == "file" {
					if _, err := time.Parse(time.RFC3339, m); err != nil {
						t.Errorf("modified: %v", err)
					}
				}
			}
		})
	}
}

// appendJSONString must produce exactly what encoding/json does.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "a", "<script>", "\x00\x1f\x7f", "\xff\xfe", "\u2028\u2029", `"\`, "é🙂"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString(nil, s)
		want, _ := json.Marshal(s)
		var a, b string
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("invalid JSON %s: %v", got, err)
		}
		_ = json.Unmarshal(want, &b)
		if a != b {
			t.Errorf("appendJSONString(%q) decodes to %q, encoding/json to %q", s, a, b)
		}
		if bytes.ContainsAny(got, "<>&") {
			t.Errorf("appendJSONString(%q) = %s: unescaped HTML character", s, got)
		}
	})
}

// appendHTML must leave no markup character and round-trip valid text.
func FuzzAppendHTML(f *testing.F) {
	for _, s := range []string{"", "<script>", `a"b'c&d`, "\x00", "\xff", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := string(appendHTML(nil, s))
		if strings.ContainsAny(got, `<>"'`) || !utf8.ValidString(got) {
			t.Fatalf("appendHTML(%q) = %q", s, got)
		}
		if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
			if back := html.UnescapeString(got); back != s {
				t.Errorf("appendHTML(%q) = %q, unescapes to %q", s, got, back)
			}
			if got != html.EscapeString(s) {
				t.Errorf("appendHTML(%q) = %q, html.EscapeString gives %q", s, got, html.EscapeString(s))
			}
		}
	})
}

// appendEntryHref must escape exactly as url.PathEscape does (then for HTML).
func FuzzEntryHref(f *testing.F) {
	for _, s := range []string{"a.txt", "a b&c", "%41", "#x?", "javascript:x", "é", "\x00\xff", "$+=@;,/"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, name string, dir bool) {
		want := url.PathEscape(name)
		if strings.Contains(want, ":") {
			want = "./" + want
		}
		if dir {
			want += "/"
		}
		if got := string(appendEntryHref(nil, name, dir)); got != html.EscapeString(want) {
			t.Errorf("appendEntryHref(%q) = %q, want %q", name, got, html.EscapeString(want))
		}
	})
}

var hostileNames = []string{
	"<script>alert(1)</script>.txt",
	`a"b'c&d.txt`,
	"%41.txt",
	"#x?.txt",
	"javascript:alert(1)",
	"ünïcødé 日本語 🙂.txt",
	"sp ace.txt",
	"<img src=x onerror=alert(1)>",
}

var hrefRE = regexp.MustCompile(`href="([^"]*)"`)

func TestHostileNames(t *testing.T) {
	var entries []Entry
	for i, n := range hostileNames {
		entries = append(entries, Entry{Name: n, Size: int64(i), ModTime: fixedTime})
		entries = append(entries, Entry{Name: n + "dir", IsDir: true, ModTime: fixedTime})
	}
	p := &Page{Path: "/<script>alert(2)</script>/", Entries: entries,
		Can: Capabilities{Upload: true, Delete: true, Move: true}}
	p.Sort.Apply(p.Entries)
	out := render(t, p, false)

	for _, bad := range []string{"<script>alert", "<img src=x", `"b'c`} {
		if strings.Contains(out, bad) {
			t.Errorf("page contains raw %q", bad)
		}
	}
	// Every entry's link, once unescaped from HTML and resolved against the
	// folder, must lead to exactly that name.
	base, _ := url.Parse("http://host/mnt/folder/")
	found := map[string]bool{}
	for _, m := range hrefRE.FindAllStringSubmatch(out, -1) {
		href := html.UnescapeString(m[1])
		if strings.HasPrefix(href, "data:image/svg+xml;base64,") {
			continue // the icon, inline
		}
		u, err := url.Parse(href)
		if err != nil {
			t.Errorf("href %q does not parse: %v", href, err)
			continue
		}
		if u.Scheme != "" || u.Host != "" {
			t.Errorf("href %q has a scheme or host", href)
		}
		abs := base.ResolveReference(u)
		if rest, ok := strings.CutPrefix(abs.Path, "/mnt/folder/"); ok && u.RawQuery == "" && abs.Fragment == "" {
			found[strings.TrimSuffix(rest, "/")+map[bool]string{true: "/"}[strings.HasSuffix(rest, "/")]] = true
		}
	}
	for _, n := range hostileNames {
		if !found[n] {
			t.Errorf("no link resolves to file %q", n)
		}
		if !found[n+"dir/"] {
			t.Errorf("no link resolves to folder %q", n+"dir/")
		}
		if !strings.Contains(out, ">"+html.EscapeString(n)+"</a>") {
			t.Errorf("shown name for %q missing or not escaped", n)
		}
	}
	// The escaped hrefs of a few names, spelled out.
	for _, want := range []string{`href="%2541.txt"`, `href="%23x%3F.txt"`, `href="./javascript:alert%281%29"`, `href="a%22b%27c&amp;d.txt"`} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

func TestAssetPathsAndBreadcrumbs(t *testing.T) {
	tests := []struct {
		path   string
		assets string
		crumbs []string // hrefs of ancestors, root first
		parent bool
	}{
		{"/", ".ferry/assets/", nil, false},
		{"/a/", "../.ferry/assets/", []string{`<a href="../" class="home">`}, true},
		{"/a/b/c/", "../../../.ferry/assets/", []string{`<a href="../../../" class="home">`, `<a href="../../">a</a>`, `<a href="../">b</a>`}, true},
		{"a/b/c", "../../../.ferry/assets/", []string{`<a href="../../../" class="home">`}, true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			out := render(t, &Page{Path: tt.path}, false)
			// The loader starts the scripts from there.
			if want := `data-assets="` + tt.assets + `"`; !strings.Contains(out, want) {
				t.Errorf("no %s", want)
			}
			for _, c := range tt.crumbs {
				if !strings.Contains(out, c) {
					t.Errorf("no breadcrumb %s", c)
				}
			}
			if got := strings.Contains(out, `<a href="../" aria-label="Parent folder">`); got != tt.parent {
				t.Errorf("parent link present = %v, want %v", got, tt.parent)
			}
			if !strings.Contains(out, `aria-current="page"`) {
				t.Error("current folder not marked")
			}
		})
	}
}

// sortForm is a column header's sort control: a GET form, which a browser
// submits as ?sort=KEY&order=ORDER and a mirroring tool leaves alone.
func sortForm(key, label, arrow, order string) string {
	s := `<form method="get"><button class="sort" type="submit" name="sort" value="` + key + `">` + label
	if key == "time" {
		s += ` <span class="tz">(UTC)</span>`
	}
	if arrow != "" {
		s += ` <span class="arrow" aria-hidden="true">` + arrow + `</span>`
	}
	return s + `</button><input type="hidden" name="order" value="` + order + `"></form>`
}

func TestSortHeaders(t *testing.T) {
	tests := []struct {
		sort Sort
		want []string
	}{
		{Sort{Key: "name"}, []string{`aria-sort="ascending"`, sortForm("name", "Name", "▲", "desc"), sortForm("size", "Size", "", "asc"), sortForm("time", "Modified", "", "asc")}},
		{Sort{Key: "size", Desc: true}, []string{`aria-sort="descending"`, sortForm("size", "Size", "▼", "asc"), sortForm("name", "Name", "", "asc")}},
		{Sort{Key: "time"}, []string{sortForm("time", "Modified", "▲", "desc")}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.sort), func(t *testing.T) {
			out := render(t, &Page{Path: "/", Sort: tt.sort}, false)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %s", w)
				}
			}
			if strings.Count(out, "aria-sort=") != 1 {
				t.Error("exactly one column should be marked as sorted")
			}
		})
	}
}

func TestRows(t *testing.T) {
	p := &Page{Path: "/", Entries: []Entry{
		{Name: "pics", IsDir: true, ModTime: fixedTime},
		{Name: "a.mp3", Size: 1536, ModTime: fixedTime},
		{Name: "zero", Size: 5},
	}}
	out := render(t, p, false)
	for _, want := range []string{
		"<tr class=d><td><a href=\"pics/\">pics/</a><td>—<td>2024-03-05 14:07\n",
		"<tr class=m><td><a href=\"a.mp3\">a.mp3</a><td data-b=1536>1.5 KiB<td>2024-03-05 14:07\n",
		"<tr><td><a href=\"zero\">zero</a><td data-b=5>5 B<td>\n", // zero time: no date
		`1 folder · 2 files · 1.5 KiB`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
	if empty := render(t, &Page{Path: "/"}, false); !strings.Contains(empty, "This folder is empty.") {
		t.Error("empty folder has no message")
	}
}

// TestPageSize holds the page of bench/run's (d) folder, 10,000 files named
// like file-000000.txt, to what nginx's autoindex sends for it (1,197,649
// bytes, about 120 a file; issue 16): every row byte is paid 10,000 times.
func TestPageSize(t *testing.T) {
	p := &Page{Path: "/dir10k/", Can: Capabilities{Upload: true, Delete: true, Move: true, Archive: true}}
	for i := range 10000 {
		p.Entries = append(p.Entries, Entry{Name: fmt.Sprintf("file-%06d%s", i, [...]string{".txt", ".bin", ".jpg", ".md"}[i%4]),
			Size: 4096, ModTime: fixedTime.Add(time.Duration(i) * time.Second)})
	}
	if n := len(render(t, p, false)); n > 1_197_649 {
		t.Errorf("the page of 10,000 files is %d bytes (%.1f per file), more than nginx's 1,197,649", n, float64(n)/10000)
	}
}

func TestCapabilities(t *testing.T) {
	uploadForm := `<form class="upload-form" id="upload-form" method="post" action="./" enctype="multipart/form-data">`
	fileInput := `<input type="file" name="file" multiple`
	mkdirForm := `name="mkdir"`
	zip, tar := `<button class="btn" type="submit" name="zip" value="">.zip</button>`, `<button class="btn" type="submit" name="tar" value="">.tar</button>`
	tests := []struct {
		name    string
		can     Capabilities
		present []string
		absent  []string
	}{
		{"read only", Capabilities{},
			[]string{`data-can-upload="0"`, `data-can-delete="0"`, `data-can-move="0"`, `data-can-archive="0"`, `data-max-upload="0"`},
			[]string{uploadForm, fileInput, mkdirForm, zip, tar, `id="drop"`, `id="uploads"`}},
		{"upload", Capabilities{Upload: true},
			[]string{`data-can-upload="1"`, uploadForm, fileInput, mkdirForm, `id="drop"`, `id="uploads"`},
			[]string{zip, "up to"}},
		{"upload with limit", Capabilities{Upload: true, MaxUpload: 5 << 20},
			[]string{`data-max-upload="5242880"`, "up to 5.0 MiB each"}, nil},
		{"delete and move", Capabilities{Delete: true, Move: true},
			[]string{`data-can-delete="1"`, `data-can-move="1"`},
			[]string{uploadForm, mkdirForm}},
		{"archive", Capabilities{Archive: true},
			[]string{`data-can-archive="1"`, zip, tar},
			[]string{uploadForm}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := render(t, &Page{Path: "/x/", Can: tt.can}, false)
			for _, s := range tt.present {
				if !strings.Contains(out, s) {
					t.Errorf("missing %s", s)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(out, s) {
					t.Errorf("unexpected %s", s)
				}
			}
		})
	}
}

// The page must run under PageCSP: no inline script or style but the loader
// and app.css, which it admits by their hashes (TestInlineMatchesCSP), no
// style attributes, no event handlers. (Until issue 11 both were external
// files; mirroring tools fetched them as if they were shared.)
func TestNoInlineCode(t *testing.T) {
	out := render(t, samplePage(), false)
	for _, m := range regexp.MustCompile(`(?s)<script(?:\s[^>]*)?>(.*?)</script>`).FindAllStringSubmatch(out, -1) {
		if m[1] != loaderJS {
			t.Errorf("inline script other than the loader: %q", m[0])
		}
	}
	for _, m := range regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatch(out, -1) {
		if m[1] != inlined.style {
			t.Errorf("inline style other than app.css: %.200q", m[0])
		}
	}
	for _, re := range []string{`\sstyle=`, `\son[a-z]+=`, `javascript:`, `<script\s+src`} {
		if regexp.MustCompile(re).MatchString(out) {
			t.Errorf("page matches %s", re)
		}
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, fmt.Errorf("disk full")
	}
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	p := &Page{Path: "/", Entries: make([]Entry, 5000)}
	for i := range p.Entries {
		p.Entries[i] = Entry{Name: fmt.Sprintf("file-%05d.txt", i), Size: int64(i)}
	}
	if err := p.WriteHTML(&failWriter{n: 1000}); err == nil {
		t.Error("WriteHTML: no error from a failing writer")
	}
	if err := p.WriteJSON(&failWriter{n: 1000}); err == nil {
		t.Error("WriteJSON: no error from a failing writer")
	}
}
