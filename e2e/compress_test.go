package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// decode undoes a response's Content-Encoding.
func decode(t *testing.T, resp *http.Response, body []byte) []byte {
	t.Helper()
	switch ce := resp.Header.Get("Content-Encoding"); ce {
	case "":
		return body
	case "zstd":
		d, err := zstd.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		out, err := io.ReadAll(d)
		if err != nil {
			t.Fatalf("zstd body: %v", err)
		}
		return out
	case "gzip":
		g, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(g)
		if err != nil {
			t.Fatalf("gzip body: %v", err)
		}
		return out
	default:
		t.Fatalf("unexpected Content-Encoding %q", ce)
		return nil
	}
}

func varies(resp *http.Response) bool {
	for _, v := range resp.Header.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Accept-Encoding") {
				return true
			}
		}
	}
	return false
}

func compressFixture(t *testing.T) (dir string, js, bin []byte) {
	dir = t.TempDir()
	js = []byte(strings.Repeat("function add(a, b) { return a + b; }\n", 400))
	bin = randomBytes(t, 200<<10)
	WriteFiles(t, dir, map[string]string{
		"app.js":    string(js),
		"small.css": "body{color:red}\n",
		"notes.md":  strings.Repeat("# notes\n\nsome *text* here\n", 100),
		"data.csv":  strings.Repeat("a,b,c\n1,2,3\n", 200),
		"image.svg": `<svg xmlns="http://www.w3.org/2000/svg">` + strings.Repeat(`<rect width="1" height="1"/>`, 100) + `</svg>`,
	})
	for i := range 60 {
		WriteFiles(t, dir, map[string]string{fmt.Sprintf("sub/file-%02d.txt", i): "x"})
	}
	if err := os.WriteFile(filepath.Join(dir, "blob.bin"), bin, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "photo.jpg"), bin, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, js, bin
}

func TestCompressionEncodings(t *testing.T) {
	dir, js, bin := compressFixture(t)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1")

	// The client's q-values choose; ties go to zstd.
	for _, c := range []struct{ accept, want string }{
		{"gzip, deflate, br, zstd", "zstd"},
		{"zstd", "zstd"},
		{"gzip", "gzip"},
		{"gzip;q=1, zstd;q=0.5", "gzip"},
		{"zstd;q=0, gzip", "gzip"},
		{"*", "zstd"},
		{"*;q=0.1, zstd;q=0", "gzip"},
		{"identity", ""},
		{"br", ""},
		{"gzip;q=nonsense", ""},
	} {
		resp, body := Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", c.accept)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != c.want {
			t.Fatalf("Accept-Encoding %q: status %d, Content-Encoding %q, want %q", c.accept, resp.StatusCode, resp.Header.Get("Content-Encoding"), c.want)
		}
		if !varies(resp) {
			t.Errorf("Accept-Encoding %q: no Vary: Accept-Encoding (%q)", c.accept, resp.Header.Values("Vary"))
		}
		if got := decode(t, resp, body); !bytes.Equal(got, js) {
			t.Fatalf("Accept-Encoding %q: decoded body differs (%d bytes, want %d)", c.accept, len(got), len(js))
		}
		etag := resp.Header.Get("ETag")
		if c.want == "" {
			if resp.Header.Get("Content-Length") != "14800" || strings.Contains(etag, "-zstd") || strings.Contains(etag, "-gzip") {
				t.Errorf("identity: Content-Length %q, ETag %q", resp.Header.Get("Content-Length"), etag)
			}
			continue
		}
		if !strings.HasSuffix(etag, "-"+c.want+`"`) {
			t.Errorf("Accept-Encoding %q: ETag %q does not name the coding", c.accept, etag)
		}
		if resp.Header.Get("Content-Length") != "" || resp.Header.Get("Accept-Ranges") != "" {
			t.Errorf("compressed: Content-Length %q, Accept-Ranges %q", resp.Header.Get("Content-Length"), resp.Header.Get("Accept-Ranges"))
		}
		if len(body) >= len(js)/4 {
			t.Errorf("%s body is %d bytes for %d", c.want, len(body), len(js))
		}
	}

	// Each encoding has its own validator, and If-None-Match understands it.
	resp, _ := Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", "zstd")
	zTag := resp.Header.Get("ETag")
	resp, _ = Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", "gzip")
	gTag := resp.Header.Get("ETag")
	resp, _ = Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", "identity")
	iTag := resp.Header.Get("ETag")
	if zTag == gTag || zTag == iTag || gTag == iTag {
		t.Fatalf("ETags not distinct: zstd %s, gzip %s, identity %s", zTag, gTag, iTag)
	}
	resp, body := Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", "zstd", "If-None-Match", zTag)
	if resp.StatusCode != 304 || resp.Header.Get("ETag") != zTag || len(body) != 0 || !varies(resp) {
		t.Fatalf("If-None-Match %s with zstd: %d, ETag %q, Vary %q", zTag, resp.StatusCode, resp.Header.Get("ETag"), resp.Header.Values("Vary"))
	}
	resp, _ = Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", "gzip", "If-None-Match", `"nope", `+gTag)
	if resp.StatusCode != 304 || resp.Header.Get("ETag") != gTag {
		t.Fatalf("If-None-Match list with the gzip tag: %d, ETag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
	// The zstd tag names another representation than the gzip one.
	resp, body = Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", "gzip", "If-None-Match", zTag)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(decode(t, resp, body), js) {
		t.Fatalf("zstd tag asked of gzip: %d %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	resp, _ = Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", "identity", "If-None-Match", iTag)
	if resp.StatusCode != 304 || resp.Header.Get("ETag") != iTag {
		t.Fatalf("identity tag: %d, ETag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}

	// Ranges address the identity bytes, with or without If-Range.
	for _, hdr := range [][]string{
		{"Range", "bytes=10-99"},
		{"Range", "bytes=10-99", "If-Range", iTag},
	} {
		resp, body = Do(t, "GET", p.URL+"/app.js", nil, append([]string{"Accept-Encoding", "zstd, gzip"}, hdr...)...)
		if resp.StatusCode != 206 || resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, js[10:100]) {
			t.Fatalf("range %v: %d, Content-Encoding %q, %d bytes", hdr, resp.StatusCode, resp.Header.Get("Content-Encoding"), len(body))
		}
	}
	resp, body = Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", "zstd", "Range", "bytes=10-99", "If-Range", zTag)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, js) {
		t.Fatalf("range with the zstd tag in If-Range: %d, Content-Encoding %q: the whole identity body is due", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}

	// HEAD: the headers of the GET, no body.
	resp, body = Do(t, "HEAD", p.URL+"/app.js", nil, "Accept-Encoding", "zstd")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "zstd" || resp.Header.Get("ETag") != zTag || len(body) != 0 {
		t.Fatalf("HEAD: %d, Content-Encoding %q, ETag %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("ETag"), len(body))
	}

	// Text-like types are compressed; small bodies, binaries and types
	// compressed already are not, and do not vary.
	for _, c := range []struct {
		path       string
		compressed bool
	}{
		{"/notes.md", true}, {"/data.csv", true}, {"/image.svg", true},
		{"/small.css", false}, {"/blob.bin", false}, {"/photo.jpg", false},
	} {
		resp, body := Do(t, "GET", p.URL+c.path, nil, "Accept-Encoding", "zstd, gzip")
		if got := resp.Header.Get("Content-Encoding") == "zstd"; got != c.compressed {
			t.Errorf("%s: Content-Encoding %q", c.path, resp.Header.Get("Content-Encoding"))
		}
		if !c.compressed {
			if varies(resp) || resp.Header.Get("Content-Length") == "" {
				t.Errorf("%s: Vary %q, Content-Length %q", c.path, resp.Header.Values("Vary"), resp.Header.Get("Content-Length"))
			}
			want, _ := os.ReadFile(filepath.Join(dir, c.path))
			if !bytes.Equal(body, want) {
				t.Errorf("%s: body differs", c.path)
			}
		}
	}
	resp, body = Do(t, "GET", p.URL+"/blob.bin", nil, "Accept-Encoding", "zstd")
	if !bytes.Equal(body, bin) {
		t.Fatal("binary body differs")
	}

	// Listings (HTML and JSON) and the page's assets.
	for _, c := range []struct{ path, accept, ctype string }{
		{"/sub/", "text/html", "text/html"},
		{"/sub/?format=json", "", "application/json"},
		{"/sub/", "application/json", "application/json"},
		{"/.ferry/assets/app.js", "", "text/javascript"},
		{"/.ferry/assets/app.css", "", "text/css"},
	} {
		resp, body := Do(t, "GET", p.URL+c.path, nil, "Accept-Encoding", "gzip", "Accept", c.accept)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || !varies(resp) || !strings.HasPrefix(resp.Header.Get("Content-Type"), c.ctype) {
			t.Fatalf("%s: %d, Content-Encoding %q, Vary %q, type %q", c.path, resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Values("Vary"), resp.Header.Get("Content-Type"))
		}
		plain := decode(t, resp, body)
		if c.ctype == "application/json" {
			var v struct{ Entries []json.RawMessage }
			if err := json.Unmarshal(plain, &v); err != nil || len(v.Entries) != 60 {
				t.Fatalf("%s: JSON %v, %d entries", c.path, err, len(v.Entries))
			}
		}
	}
	// The listing still varies by Accept too.
	if resp, _ := Do(t, "GET", p.URL+"/sub/", nil, "Accept-Encoding", "zstd"); !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept") {
		t.Errorf("listing Vary %q", resp.Header.Values("Vary"))
	}
	// Errors are small and never compressed.
	if resp, _ := Do(t, "GET", p.URL+"/missing.js", nil, "Accept-Encoding", "zstd"); resp.StatusCode != 404 || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("404: %d %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
}

func TestNoCompress(t *testing.T) {
	dir, js, _ := compressFixture(t)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--no-compress")
	for _, path := range []string{"/app.js", "/sub/", "/.ferry/assets/app.js"} {
		resp, body := Do(t, "GET", p.URL+path, nil, "Accept-Encoding", "zstd, gzip")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" || varies(resp) || resp.Header.Get("Content-Length") == "" {
			t.Fatalf("%s with --no-compress: %d, Content-Encoding %q, Vary %q", path, resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Values("Vary"))
		}
		if path == "/app.js" && !bytes.Equal(body, js) {
			t.Fatal("body differs")
		}
	}
}

// TestCompressedDownloadCounts: a compressed download is complete when its
// coded bytes are all delivered, and it counts for --exit-after.
func TestCompressedDownloadCounts(t *testing.T) {
	dir, js, _ := compressFixture(t)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--exit-after", "1")
	resp, body := Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", "zstd")
	if resp.Header.Get("Content-Encoding") != "zstd" || !bytes.Equal(decode(t, resp, body), js) {
		t.Fatalf("Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	if code := p.Wait(15e9); code != 0 {
		t.Fatalf("ferry did not exit after the compressed download (code %d)", code)
	}
	if !strings.Contains(p.Stdout(), "GET /app.js 200") || !strings.Contains(p.Stdout(), "complete") {
		t.Fatalf("log:\n%s", p.Stdout())
	}
}

// TestPrecompressed: a text-like file's .zst, .br or .gz copy is sent in its
// place by the client's preference, typed as the original, and the listing
// shows the original alone.
func TestPrecompressed(t *testing.T) {
	dir := t.TempDir()
	js := strings.Repeat("console.log('original');\n", 100)
	WriteFiles(t, dir, map[string]string{
		"app.js":        js,
		"app.js.zst":    "ZSTD-COPY",
		"app.js.br":     "BROTLI-COPY",
		"app.js.gz":     "GZIP-COPY",
		"style.css":     strings.Repeat("a{b:c}\n", 300),
		"style.css.gz":  "CSS-GZIP",
		"backup.tar":    "tar",
		"backup.tar.gz": "targz",
		"lonely.txt.gz": "no original",
	})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1")
	for _, c := range []struct{ path, accept, coding, body string }{
		{"/app.js", "gzip, deflate, br, zstd", "zstd", "ZSTD-COPY"},
		{"/app.js", "gzip, br", "br", "BROTLI-COPY"},
		{"/app.js", "gzip", "gzip", "GZIP-COPY"},
		{"/app.js", "br;q=0.5, gzip;q=0.8", "gzip", "GZIP-COPY"},
		{"/style.css", "zstd, gzip;q=0.5", "gzip", "CSS-GZIP"},
		{"/app.js", "identity", "", js},
	} {
		resp, body := Do(t, "GET", p.URL+c.path, nil, "Accept-Encoding", c.accept)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != c.coding || string(body) != c.body {
			t.Fatalf("%s with %q: %d, Content-Encoding %q, body %.20q", c.path, c.accept, resp.StatusCode, resp.Header.Get("Content-Encoding"), body)
		}
		if c.coding != "" {
			want := "text/javascript; charset=utf-8"
			if c.path == "/style.css" {
				want = "text/css; charset=utf-8"
			}
			if resp.Header.Get("Content-Type") != want || !varies(resp) {
				t.Errorf("%s as %s: type %q, Vary %q", c.path, c.coding, resp.Header.Get("Content-Type"), resp.Header.Values("Vary"))
			}
		}
	}
	// Each copy has its own validator.
	r1, _ := Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", "zstd")
	r2, _ := Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", "gzip")
	if r1.Header.Get("ETag") == r2.Header.Get("ETag") {
		t.Fatalf("same ETag %s for two copies", r1.Header.Get("ETag"))
	}
	if resp, _ := Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", "zstd", "If-None-Match", r1.Header.Get("ETag")); resp.StatusCode != 304 {
		t.Fatalf("If-None-Match of the zstd copy: %d", resp.StatusCode)
	}
	// A range is of the original's bytes.
	resp, body := Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", "zstd", "Range", "bytes=0-6")
	if resp.StatusCode != 206 || resp.Header.Get("Content-Encoding") != "" || string(body) != "console" {
		t.Fatalf("range: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Encoding"), body)
	}
	// A copy whose original is gone is not served in its name.
	if resp, _ := Do(t, "GET", p.URL+"/lonely.txt", nil, "Accept-Encoding", "gzip"); resp.StatusCode != 404 {
		t.Fatalf("lonely.txt: %d", resp.StatusCode)
	}
	// The copies are reachable by their own names.
	if _, body := Do(t, "GET", p.URL+"/app.js.gz", nil); string(body) != "GZIP-COPY" {
		t.Fatalf("app.js.gz: %q", body)
	}
	// The listing shows each file once; a .gz of a non-text file, or
	// without its original, is a file of its own.
	_, body = Do(t, "GET", p.URL+"/?format=json", nil)
	var page struct{ Entries []struct{ Name string } }
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range page.Entries {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, " "); got != "app.js backup.tar backup.tar.gz lonely.txt.gz style.css" {
		t.Fatalf("listing: %s", got)
	}
	_, body = Do(t, "GET", p.URL+"/", nil, "Accept", "text/html")
	if strings.Contains(string(body), "app.js.zst") || strings.Contains(string(body), "style.css.gz") {
		t.Fatal("HTML listing shows a precompressed copy")
	}
	// --no-compress: the copies are plain files again.
	p2 := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--no-compress")
	if resp, body := Do(t, "GET", p2.URL+"/app.js", nil, "Accept-Encoding", "zstd"); resp.Header.Get("Content-Encoding") != "" || string(body) != js {
		t.Fatalf("--no-compress: %q", resp.Header.Get("Content-Encoding"))
	}
	_, body = Do(t, "GET", p2.URL+"/?format=json", nil)
	if !strings.Contains(string(body), `"app.js.zst"`) {
		t.Fatal("--no-compress hides the copies")
	}
}

// TestCompressedETagIfMatch: an editor that read a file compressed saves
// over it with the ETag it got: the same version, whatever the coding.
func TestCompressedETagIfMatch(t *testing.T) {
	dir, _, _ := compressFixture(t)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	resp, _ := Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", "zstd")
	tag := resp.Header.Get("ETag")
	if !strings.HasSuffix(tag, `-zstd"`) {
		t.Fatalf("ETag %q", tag)
	}
	if resp, _ := Do(t, "PUT", p.URL+"/app.js", strings.NewReader("v2"), "If-Match", tag); resp.StatusCode != 204 {
		t.Fatalf("PUT If-Match %s: %d", tag, resp.StatusCode)
	}
	// The version it named is gone now: 412, whatever the coding.
	if resp, _ := Do(t, "PUT", p.URL+"/app.js", strings.NewReader("v3"), "If-Match", tag); resp.StatusCode != 412 {
		t.Fatalf("stale If-Match: %d", resp.StatusCode)
	}
}
