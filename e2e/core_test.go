package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hostPort is p.URL without its scheme, for raw sockets.
func hostPort(p *Proc) string {
	return strings.TrimPrefix(strings.TrimPrefix(p.URL, "http://"), "https://")
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// writeBig writes n random bytes to dir/name and returns them.
func writeBig(t testing.TB, dir, name string, n int) []byte {
	t.Helper()
	b := randomBytes(t, n)
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFileHeaders(t *testing.T) {
	dir := t.TempDir()
	content := strings.Repeat("0123456789", 100) // 1000 bytes
	WriteFiles(t, dir, map[string]string{
		"a.txt":         content,
		"page.html":     "<p>hi</p>",
		"data.json":     `{"a":1}`,
		"pic.png":       "\x89PNG\r\n\x1a\n",
		"noext":         "plain",
		"sp ace%20.txt": "spaced",
	})
	mtime := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	os.Chtimes(filepath.Join(dir, "a.txt"), mtime, mtime)
	p := Start(t, dir, "-p", "0")

	for _, method := range []string{"GET", "HEAD"} {
		resp, body := Do(t, method, p.URL+"/a.txt", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", method, resp.StatusCode)
		}
		checks := map[string]string{
			"Content-Type":           "text/plain; charset=utf-8",
			"Content-Length":         "1000",
			"Last-Modified":          "Mon, 04 Mar 2024 05:06:07 GMT",
			"Accept-Ranges":          "bytes",
			"X-Content-Type-Options": "nosniff",
		}
		for k, want := range checks {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s %s = %q, want %q", method, k, got, want)
			}
		}
		if et := resp.Header.Get("ETag"); !strings.HasPrefix(et, `"`) || !strings.HasSuffix(et, `"`) || len(et) < 4 {
			t.Errorf("%s ETag = %q, want a strong quoted validator", method, et)
		}
		wantBody := content
		if method == "HEAD" {
			wantBody = ""
		}
		if string(body) != wantBody {
			t.Errorf("%s body = %d bytes, want %d", method, len(body), len(wantBody))
		}
	}

	types := []struct{ path, ctype, body string }{
		{"/page.html", "text/html; charset=utf-8", "<p>hi</p>"},
		{"/data.json", "application/json", `{"a":1}`},
		{"/pic.png", "image/png", "\x89PNG\r\n\x1a\n"},
		{"/sp%20ace%2520.txt", "text/plain; charset=utf-8", "spaced"},
	}
	for _, tc := range types {
		resp, body := Do(t, "GET", p.URL+tc.path, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype || string(body) != tc.body {
			t.Errorf("GET %s = %d %q %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	// ETag changes with the content.
	r1, _ := Do(t, "HEAD", p.URL+"/noext", nil)
	os.WriteFile(filepath.Join(dir, "noext"), []byte("plainer"), 0o644)
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "noext"), later, later)
	r2, _ := Do(t, "HEAD", p.URL+"/noext", nil)
	if r1.Header.Get("ETag") == r2.Header.Get("ETag") {
		t.Errorf("ETag did not change with the file: %q", r1.Header.Get("ETag"))
	}
}

func TestRanges(t *testing.T) {
	dir := t.TempDir()
	data := randomBytes(t, 10000)
	os.WriteFile(filepath.Join(dir, "f.bin"), data, 0o644)
	p := Start(t, dir, "-p", "0")
	url := p.URL + "/f.bin"

	single := []struct {
		name, rng   string
		start, end  int // inclusive
		wantContent string
	}{
		{"single", "bytes=0-99", 0, 99, ""},
		{"middle", "bytes=5000-5009", 5000, 5009, ""},
		{"suffix", "bytes=-500", 9500, 9999, ""},
		{"open", "bytes=9990-", 9990, 9999, ""},
		{"end past size", "bytes=9000-20000", 9000, 9999, ""},
		{"whole as open", "bytes=0-", 0, 9999, ""},
		{"suffix larger than file", "bytes=-20000", 0, 9999, ""},
	}
	for _, tc := range single {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := Do(t, "GET", url, nil, "Range", tc.rng)
			if resp.StatusCode != 206 {
				t.Fatalf("%s: status %d", tc.rng, resp.StatusCode)
			}
			wantCR := fmt.Sprintf("bytes %d-%d/10000", tc.start, tc.end)
			if got := resp.Header.Get("Content-Range"); got != wantCR {
				t.Errorf("Content-Range = %q, want %q", got, wantCR)
			}
			if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(tc.end-tc.start+1) {
				t.Errorf("Content-Length = %q", got)
			}
			if !bytes.Equal(body, data[tc.start:tc.end+1]) {
				t.Errorf("body differs (%d bytes)", len(body))
			}
		})
	}

	t.Run("multipart", func(t *testing.T) {
		resp, body := Do(t, "GET", url, nil, "Range", "bytes=0-9,100-199,-5")
		if resp.StatusCode != 206 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/byteranges" {
			t.Fatalf("Content-Type = %q (%v)", resp.Header.Get("Content-Type"), err)
		}
		if resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("Content-Length %q for a %d-byte body", resp.Header.Get("Content-Length"), len(body))
		}
		want := []struct{ s, e int }{{0, 9}, {100, 199}, {9995, 9999}}
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for i := 0; ; i++ {
			part, err := mr.NextPart()
			if err == io.EOF {
				if i != len(want) {
					t.Fatalf("%d parts, want %d", i, len(want))
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if i >= len(want) {
				t.Fatalf("too many parts")
			}
			got, _ := io.ReadAll(part)
			w := want[i]
			if cr := part.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes %d-%d/10000", w.s, w.e) {
				t.Errorf("part %d Content-Range %q", i, cr)
			}
			if !bytes.Equal(got, data[w.s:w.e+1]) {
				t.Errorf("part %d bytes differ", i)
			}
		}
	})

	unsatisfiable := []string{"bytes=10000-", "bytes=20000-30000", "bytes=-0", "bytes=10000-10001,20000-"}
	for _, rng := range unsatisfiable {
		resp, body := Do(t, "GET", url, nil, "Range", rng)
		if resp.StatusCode != 416 || resp.Header.Get("Content-Range") != "bytes */10000" {
			t.Errorf("%s: %d Content-Range %q, want 416 bytes */10000", rng, resp.StatusCode, resp.Header.Get("Content-Range"))
		}
		if bytes.Contains(body, data[:32]) {
			t.Errorf("%s: 416 carries file bytes", rng)
		}
	}

	ignored := []string{"items=0-9", "bytes=abc", "bytes=9-5", "bytes 0-9", "bytes=--1", "bytes="}
	for _, rng := range ignored {
		resp, body := Do(t, "GET", url, nil, "Range", rng)
		if resp.StatusCode != 200 || !bytes.Equal(body, data) {
			t.Errorf("Range %q: %d with %d bytes, want 200 and the whole file", rng, resp.StatusCode, len(body))
		}
	}
}

func TestConditionalRequests(t *testing.T) {
	dir := t.TempDir()
	data := randomBytes(t, 4096)
	os.WriteFile(filepath.Join(dir, "f.bin"), data, 0o644)
	mtime := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	os.Chtimes(filepath.Join(dir, "f.bin"), mtime, mtime)
	p := Start(t, dir, "-p", "0")
	url := p.URL + "/f.bin"
	head, _ := Do(t, "HEAD", url, nil)
	etag := head.Header.Get("ETag")
	lm := head.Header.Get("Last-Modified")

	cases := []struct {
		name   string
		hdr    []string
		status int
		body   []byte
	}{
		{"if-range matching etag", []string{"Range", "bytes=0-9", "If-Range", etag}, 206, data[:10]},
		{"if-range stale etag", []string{"Range", "bytes=0-9", "If-Range", `"stale"`}, 200, data},
		{"if-range matching date", []string{"Range", "bytes=0-9", "If-Range", lm}, 206, data[:10]},
		{"if-range older date", []string{"Range", "bytes=0-9", "If-Range", "Sun, 01 Jan 2017 00:00:00 GMT"}, 200, data},
		{"if-none-match", []string{"If-None-Match", etag}, 304, nil},
		{"if-none-match list", []string{"If-None-Match", `"x", ` + etag}, 304, nil},
		{"if-none-match star", []string{"If-None-Match", "*"}, 304, nil},
		{"if-none-match other", []string{"If-None-Match", `"other"`}, 200, data},
		{"if-modified-since same", []string{"If-Modified-Since", lm}, 304, nil},
		{"if-modified-since later", []string{"If-Modified-Since", "Mon, 01 Jan 2035 00:00:00 GMT"}, 304, nil},
		{"if-modified-since earlier", []string{"If-Modified-Since", "Sun, 01 Jan 2017 00:00:00 GMT"}, 200, data},
		{"if-match mismatch", []string{"If-Match", `"other"`}, 412, nil},
		{"if-unmodified-since earlier", []string{"If-Unmodified-Since", "Sun, 01 Jan 2017 00:00:00 GMT"}, 412, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := Do(t, "GET", url, nil, tc.hdr...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.body != nil && !bytes.Equal(body, tc.body) {
				t.Errorf("body %d bytes, want %d", len(body), len(tc.body))
			}
			if tc.status == 304 {
				if len(body) != 0 {
					t.Errorf("304 with a body")
				}
				if resp.Header.Get("ETag") != etag {
					t.Errorf("304 ETag %q, want %q", resp.Header.Get("ETag"), etag)
				}
			}
		})
	}
}

func TestFolders(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"withindex/index.html": "<h1>index</h1>",
		"withhtm/index.htm":    "<h1>htm</h1>",
		"plain/a.txt":          "a",
		"sp ace/x.txt":         "x",
	})
	p := Start(t, dir, "-p", "0")

	redirects := []struct{ path, loc string }{
		{"/plain", "./plain/"},
		{"/plain?sort=size&order=desc", "./plain/?sort=size&order=desc"},
		{"/sp%20ace", "./sp%20ace/"},
		{"/plain/a.txt/", "../a.txt"},
	}
	for _, tc := range redirects {
		resp, _ := Do(t, "GET", p.URL+tc.path, nil)
		if resp.StatusCode != 301 || resp.Header.Get("Location") != tc.loc {
			t.Errorf("GET %s = %d Location %q, want 301 %q", tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.loc)
		}
	}
	// The relative Location resolves to the slash form under a Go client.
	resp, err := http.Get(p.URL + "/plain?format=json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/plain/" || resp.Request.URL.RawQuery != "format=json" || resp.StatusCode != 200 {
		t.Errorf("redirect ended at %s (%d)", resp.Request.URL, resp.StatusCode)
	}

	for path, want := range map[string]string{"/withindex/": "<h1>index</h1>", "/withhtm/": "<h1>htm</h1>"} {
		resp, body := Do(t, "GET", p.URL+path, nil)
		if resp.StatusCode != 200 || string(body) != want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s = %d %q %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	resp2, body := Do(t, "GET", p.URL+"/plain/", nil)
	if resp2.StatusCode != 200 || !strings.Contains(string(body), `href="a.txt"`) {
		t.Errorf("listing of /plain/: %d %s", resp2.StatusCode, body)
	}
}

func TestListingEscapesHostileNames(t *testing.T) {
	dir := t.TempDir()
	// A file name cannot hold "/" (and a backslash is refused in request
	// paths), so the tag is left unclosed.
	hostile := []string{`<script>alert(1)<script>.txt`, `"onmouseover=x.txt`, `a'b&c.txt`, `<img src=x onerror=alert(1)>.png`}
	for _, n := range hostile {
		WriteFiles(t, dir, map[string]string{n: "x"})
	}
	p := Start(t, dir, "-p", "0")
	resp, body := Do(t, "GET", p.URL+"/", nil, "Accept", "text/html")
	page := string(body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, bad := range []string{"<script>alert(1)", `"onmouseover=x`, "a'b&c", "<img src=x"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	for _, good := range []string{"&lt;script&gt;alert(1)&lt;script&gt;.txt", "&#34;onmouseover=x.txt", "&lt;img src=x onerror=alert(1)&gt;.png"} {
		if !strings.Contains(page, good) {
			t.Errorf("page lacks escaped %q", good)
		}
	}
	// Each hostile name is reachable through the link the page offers.
	_, jb := Do(t, "GET", p.URL+"/?format=json", nil)
	var l struct{ Entries []struct{ Name string } }
	if err := json.Unmarshal(jb, &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Entries) != len(hostile) {
		t.Fatalf("JSON lists %d entries, want %d", len(l.Entries), len(hostile))
	}
	for _, n := range hostile {
		r, b := Do(t, "GET", p.URL+"/"+urlPathEscape(n), nil)
		if r.StatusCode != 200 || string(b) != "x" {
			t.Errorf("GET %q = %d", n, r.StatusCode)
		}
	}
}

func urlPathEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

type jsonListing struct {
	Path    string
	Entries []map[string]any
}

func getListing(t *testing.T, url string) jsonListing {
	t.Helper()
	resp, body := Do(t, "GET", url, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s = %d %q", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, body)
	}
	if len(raw) != 2 {
		t.Errorf("top-level keys %v, want path and entries", keys(raw))
	}
	var l jsonListing
	l.Path, _ = raw["path"].(string)
	ents, ok := raw["entries"].([]any)
	if !ok {
		t.Fatalf("entries is %T", raw["entries"])
	}
	for _, e := range ents {
		l.Entries = append(l.Entries, e.(map[string]any))
	}
	return l
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func names(l jsonListing) string {
	var out []string
	for _, e := range l.Entries {
		out = append(out, e["name"].(string))
	}
	return strings.Join(out, ",")
}

func TestJSONListingAndSort(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"sub dir/B.txt":   "bbbbbbbbbb",
		"sub dir/a.txt":   "a",
		"sub dir/c.txt":   "ccccc",
		"sub dir/Zeta/x":  "",
		"sub dir/alpha/y": "",
		"sub dir/.hidden": "h",
		"sub dir/b.txt":   "bb",
		"sub dir/ünï.txt": "uuu",
	})
	base := time.Now().Add(-time.Hour)
	for i, n := range []string{"a.txt", "b.txt", "B.txt", "c.txt", "ünï.txt", "Zeta", "alpha"} {
		mt := base.Add(time.Duration(i) * time.Minute)
		os.Chtimes(filepath.Join(dir, "sub dir", n), mt, mt)
	}
	p := Start(t, dir, "-p", "0")

	l := getListing(t, p.URL+"/sub%20dir/?format=json")
	if l.Path != "/sub dir/" {
		t.Errorf("path = %q, want decoded %q", l.Path, "/sub dir/")
	}
	for _, e := range l.Entries {
		name := e["name"].(string)
		if strings.HasSuffix(name, "/") {
			t.Errorf("name %q has a trailing slash", name)
		}
		if _, err := time.Parse(time.RFC3339, e["modified"].(string)); err != nil {
			t.Errorf("%s: modified %v", name, e["modified"])
		}
		switch e["type"] {
		case "dir":
			if _, has := e["size"]; has || len(e) != 3 {
				t.Errorf("dir entry %v: want exactly name, type, modified", e)
			}
		case "file":
			if _, ok := e["size"].(float64); !ok || len(e) != 4 {
				t.Errorf("file entry %v: want name, type, size, modified", e)
			}
		default:
			t.Errorf("entry %v: bad type", e)
		}
		if name == "a.txt" && e["size"].(float64) != 1 {
			t.Errorf("a.txt size %v", e["size"])
		}
	}
	// Accept: application/json works too.
	resp, body := Do(t, "GET", p.URL+"/sub%20dir/", nil, "Accept", "application/json")
	if !json.Valid(body) || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Accept: application/json gave %q", resp.Header.Get("Content-Type"))
	}

	sorts := []struct{ query, want string }{
		{"", "alpha,Zeta,a.txt,B.txt,b.txt,c.txt,ünï.txt"},
		{"sort=name&order=asc", "alpha,Zeta,a.txt,B.txt,b.txt,c.txt,ünï.txt"},
		{"sort=name&order=desc", "Zeta,alpha,ünï.txt,c.txt,b.txt,B.txt,a.txt"},
		{"sort=size", "alpha,Zeta,a.txt,b.txt,ünï.txt,c.txt,B.txt"},
		{"sort=size&order=desc", "Zeta,alpha,B.txt,c.txt,ünï.txt,b.txt,a.txt"},
		{"sort=time", "Zeta,alpha,a.txt,b.txt,B.txt,c.txt,ünï.txt"},
		{"sort=time&order=desc", "alpha,Zeta,ünï.txt,c.txt,B.txt,b.txt,a.txt"},
	}
	for _, tc := range sorts {
		l := getListing(t, p.URL+"/sub%20dir/?format=json&"+tc.query)
		if got := names(l); got != tc.want {
			t.Errorf("?%s: %s, want %s", tc.query, got, tc.want)
		}
	}
	// The HTML page uses the same order.
	_, page := Do(t, "GET", p.URL+"/sub%20dir/?sort=size&order=desc", nil, "Accept", "text/html")
	last := -1
	for _, n := range []string{"B.txt", "c.txt", "b.txt", "a.txt"} {
		i := strings.Index(string(page), `href="`+n+`"`)
		if i < 0 || i < last {
			t.Errorf("HTML sort=size desc: %s at %d after %d", n, i, last)
		}
		last = i
	}
	if strings.Contains(string(page), ".hidden") {
		t.Errorf("HTML lists a dotfile")
	}
}

func TestNoListing(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"sub/a.txt": "a", "idx/index.html": "i"})
	p := Start(t, dir, "-p", "0", "--no-listing")
	for path, want := range map[string]int{"/": 404, "/sub/": 404, "/sub/?format=json": 404, "/sub/a.txt": 200, "/idx/": 200} {
		resp, body := Do(t, "GET", p.URL+path, nil)
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
		if want == 404 && string(body) != "404 Not Found\n" {
			t.Errorf("GET %s body %q", path, body)
		}
	}
}

func TestHugeFolderJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 100,000 files")
	}
	dir := fastTempDir(t)
	big := filepath.Join(dir, "big")
	os.Mkdir(big, 0o755)
	const n = 100_000
	start := time.Now()
	var wg sync.WaitGroup
	const workers = 8
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				fd, err := syscall.Open(filepath.Join(big, "f"+strconv.Itoa(i)), syscall.O_CREAT|syscall.O_WRONLY|syscall.O_CLOEXEC, 0o644)
				if err != nil {
					t.Error(err)
					return
				}
				syscall.Close(fd)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("created %d files in %s", n, time.Since(start).Round(time.Millisecond))
	p := Start(t, dir, "-p", "0", "-q")
	start = time.Now()
	resp, body := Do(t, "GET", p.URL+"/big/?format=json", nil)
	took := time.Since(start)
	t.Logf("listed %d entries as %d bytes of JSON in %s", n, len(body), took.Round(time.Millisecond))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var l struct {
		Entries []struct {
			Name string
			Size *int64
		}
	}
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Entries) != n {
		t.Fatalf("%d entries, want %d", len(l.Entries), n)
	}
	if l.Entries[0].Name != "f0" || l.Entries[1].Name != "f1" || l.Entries[n-1].Name != "f99999" {
		t.Errorf("order: %s %s … %s", l.Entries[0].Name, l.Entries[1].Name, l.Entries[n-1].Name)
	}
	if took > 10*time.Second {
		t.Errorf("listing took %s", took)
	}
}

// fastTempDir is a temporary folder on tmpfs when the machine has one: a
// disk-backed /tmp can take 10-20 s to create and remove 100,000 files.
func fastTempDir(t *testing.T) string {
	t.Helper()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "ferry-e2e-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}
