package webdav

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/fileserver"
	"github.com/ferry-sh/ferry/internal/storage"
)

func do(t testing.TB, method, url, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// propValue is one property of one resource in a 207 answer.
type propValue struct {
	status int
	inner  string // inner XML as sent
	attrs  []xml.Attr
}

// multistatus reads a 207 body into href → "{ns}local" → value.
func multistatus(t testing.TB, body string) map[string]map[string]propValue {
	t.Helper()
	var ms struct {
		Responses []struct {
			Href     string `xml:"DAV: href"`
			Propstat []struct {
				Prop struct {
					Any []struct {
						XMLName xml.Name
						Attrs   []xml.Attr `xml:",any,attr"`
						Inner   string     `xml:",innerxml"`
					} `xml:",any"`
				} `xml:"DAV: prop"`
				Status string `xml:"DAV: status"`
			} `xml:"DAV: propstat"`
		} `xml:"DAV: response"`
	}
	if err := xml.Unmarshal([]byte(body), &ms); err != nil {
		t.Fatalf("207 body does not parse: %v\n%s", err, body)
	}
	out := map[string]map[string]propValue{}
	for _, r := range ms.Responses {
		m := map[string]propValue{}
		for _, ps := range r.Propstat {
			f := strings.Fields(ps.Status)
			if len(f) < 2 {
				t.Fatalf("status %q", ps.Status)
			}
			code, _ := strconv.Atoi(f[1])
			for _, p := range ps.Prop.Any {
				m["{"+p.XMLName.Space+"}"+p.XMLName.Local] = propValue{status: code, inner: p.Inner, attrs: p.Attrs}
			}
		}
		out[r.Href] = m
	}
	return out
}

func TestPropfindDepth(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.txt": "hello", "sub/b.bin": "xx", ".hidden": "h"})
	tree, state := localTrees(t, dir)
	s := newTestServer(t, tree, state, Options{})
	// Some state in the reserved folder, which must never be listed.
	if resp, _ := do(t, "PROPPATCH", s.URL+"/a.txt", `<propertyupdate xmlns="DAV:"><set><prop><x xmlns="urn:t">1</x></prop></set></propertyupdate>`); resp.StatusCode != 207 {
		t.Fatalf("PROPPATCH = %d", resp.StatusCode)
	}
	for _, tc := range []struct {
		name, path, depth string
		status            int
		hrefs             []string
	}{
		{"no depth means infinity", "/", "", 403, nil},
		{"infinity", "/", "infinity", 403, nil},
		{"bad depth", "/", "2", 400, nil},
		{"root depth 0", "/", "0", 207, []string{"/"}},
		{"root depth 1", "/", "1", 207, []string{"/", "/a.txt", "/sub/"}},
		{"folder depth 1", "/sub/", "1", 207, []string{"/sub/", "/sub/b.bin"}},
		{"file depth 1", "/a.txt", "1", 207, []string{"/a.txt"}},
		{"missing", "/nope", "0", 404, nil},
		{"dotfile", "/.hidden", "0", 404, nil},
		{"reserved", "/.ferry/", "1", 400, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.depth != "" {
				hdr = []string{"Depth", tc.depth}
			}
			resp, body := do(t, "PROPFIND", s.URL+tc.path, "", hdr...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status == 403 && !strings.Contains(body, "<propfind-finite-depth/>") {
				t.Errorf("403 without the precondition: %s", body)
			}
			if tc.status != 207 {
				return
			}
			ms := multistatus(t, body)
			if len(ms) != len(tc.hrefs) {
				t.Errorf("hrefs %v, want %v", keys(ms), tc.hrefs)
			}
			for _, h := range tc.hrefs {
				if ms[h] == nil {
					t.Errorf("no response for %s: %v", h, keys(ms))
				}
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPropfindValues(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a b.txt": "hello", "sub/x": ""})
	mtime := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	os.Chtimes(filepath.Join(dir, "a b.txt"), mtime, mtime)
	tree, state := localTrees(t, dir)
	s := newTestServer(t, tree, state, Options{})

	resp, body := do(t, "PROPFIND", s.URL+"/", "", "Depth", "1")
	if resp.StatusCode != 207 || resp.Header.Get("Content-Type") != "application/xml; charset=utf-8" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ms := multistatus(t, body)
	f := ms["/a%20b.txt"]
	fi, _ := os.Stat(filepath.Join(dir, "a b.txt"))
	for prop, want := range map[string]string{
		"getcontentlength": "5",
		"getlastmodified":  "Thu, 04 Mar 2021 05:06:07 GMT",
		"getetag":          fileserver.ETag(storage.Info{Size: fi.Size(), ModTime: fi.ModTime()}),
		"getcontenttype":   "text/plain; charset=utf-8",
		"creationdate":     "2021-03-04T05:06:07Z",
		"displayname":      "a b.txt",
		"resourcetype":     "",
	} {
		if got := f["{DAV:}"+prop]; got.status != 200 || xmlUnescape(got.inner) != want {
			t.Errorf("%s = %+v, want %q", prop, got, want)
		}
	}
	if !strings.Contains(f["{DAV:}supportedlock"].inner, "shared") || f["{DAV:}lockdiscovery"].status != 200 {
		t.Errorf("lock properties: %+v", f)
	}
	if d := ms["/sub/"]; !strings.Contains(d["{DAV:}resourcetype"].inner, "collection") || d["{DAV:}getcontentlength"].status != 0 {
		t.Errorf("folder: %+v", d)
	}
	// The same ETag as GET.
	if r, _ := do(t, "GET", s.URL+"/a%20b.txt", ""); r.Header.Get("Etag") != xmlUnescape(f["{DAV:}getetag"].inner) {
		t.Errorf("GET ETag %q, PROPFIND %q", r.Header.Get("Etag"), f["{DAV:}getetag"].inner)
	}

	// Named properties: found ones 200, the rest 404, quota on a folder.
	_, body = do(t, "PROPFIND", s.URL+"/sub/", `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:z"><D:prop><D:getcontentlength/><D:quota-available-bytes/><Z:nothing/><D:resourcetype/></D:prop></D:propfind>`, "Depth", "0")
	d := multistatus(t, body)["/sub/"]
	if d["{DAV:}getcontentlength"].status != 404 || d["{urn:z}nothing"].status != 404 || d["{DAV:}resourcetype"].status != 200 {
		t.Errorf("named: %+v", d)
	}
	if q := d["{DAV:}quota-available-bytes"]; q.status != 200 || q.inner == "" || q.inner == "0" {
		t.Errorf("quota: %+v", q)
	}

	// propname: names only.
	_, body = do(t, "PROPFIND", s.URL+"/a%20b.txt", `<propfind xmlns="DAV:"><propname/></propfind>`, "Depth", "0")
	if p := multistatus(t, body)["/a%20b.txt"]; p["{DAV:}getetag"].status != 200 || p["{DAV:}getetag"].inner != "" {
		t.Errorf("propname: %+v", p)
	}

	// Malformed bodies are the client's error.
	for _, b := range []string{"<propfind", `<propfind xmlns="DAV:"><prop><x:y xmlns:x=""/></prop></propfind>`,
		`<propfind xmlns="DAV:"><prop><u:y/></prop></propfind>`, `<other xmlns="DAV:"/>`, `<propfind xmlns="DAV:"><allprop/><propname/></propfind>`} {
		if r, _ := do(t, "PROPFIND", s.URL+"/", b, "Depth", "0"); r.StatusCode != 400 {
			t.Errorf("PROPFIND %q = %d, want 400", b, r.StatusCode)
		}
	}
}

func xmlUnescape(s string) string {
	var v string
	if err := xml.Unmarshal([]byte("<x>"+s+"</x>"), &v); err != nil {
		return s
	}
	return v
}

// countingTree counts the calls a handler makes of a tree.
type countingTree struct {
	storage.Tree
	stat, open, list atomic.Int64
}

func (c *countingTree) Unwrap() storage.Tree { return c.Tree }
func (c *countingTree) Stat(ctx context.Context, n string) (storage.Info, error) {
	c.stat.Add(1)
	return c.Tree.Stat(ctx, n)
}
func (c *countingTree) Open(ctx context.Context, n string) (storage.Object, error) {
	c.open.Add(1)
	return c.Tree.Open(ctx, n)
}
func (c *countingTree) List(ctx context.Context, n string) iter.Seq2[storage.Info, error] {
	c.list.Add(1)
	return c.Tree.List(ctx, n)
}
func (c *countingTree) reset() { c.stat.Store(0); c.open.Store(0); c.list.Store(0) }

// TestPropfindOneListing: a folder's PROPFIND costs one listing of it and
// no per-entry access; of the state, one listing and a read per member
// that has dead properties.
func TestPropfindOneListing(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 300 {
		files[fmt.Sprintf("d/f%03d.txt", i)] = "x"
	}
	writeFiles(t, dir, files)
	tree, state := localTrees(t, dir)
	ct, cs := &countingTree{Tree: tree}, &countingTree{Tree: state}
	s := newTestServer(t, ct, cs, Options{})
	do(t, "PROPPATCH", s.URL+"/d/f007.txt", `<propertyupdate xmlns="DAV:"><set><prop><x xmlns="urn:t">seven</x></prop></set></propertyupdate>`)
	do(t, "PROPPATCH", s.URL+"/d/f008.txt", `<propertyupdate xmlns="DAV:"><set><prop><x xmlns="urn:t">eight</x></prop></set></propertyupdate>`)

	for _, tc := range []struct {
		name, body           string
		stateList, stateOpen int64
	}{
		{"live only", `<propfind xmlns="DAV:"><prop><getcontentlength/><getlastmodified/><resourcetype/></prop></propfind>`, 0, 0},
		{"allprop", "", 2, 3}, // the locks' folder and the mirror; the folder's record and two members
		// The member's record, unchanged in the mirror's listing, is not
		// read again (on an object store, a GET per file).
		{"allprop again", "", 2, 1},
	} {
		ct.reset()
		cs.reset()
		resp, body := do(t, "PROPFIND", s.URL+"/d/", tc.body, "Depth", "1")
		if resp.StatusCode != 207 {
			t.Fatalf("%s: %d", tc.name, resp.StatusCode)
		}
		ms := multistatus(t, body)
		if len(ms) != 301 {
			t.Errorf("%s: %d responses", tc.name, len(ms))
		}
		if ct.list.Load() != 1 || ct.stat.Load() != 1 || ct.open.Load() != 0 {
			t.Errorf("%s: tree list %d stat %d open %d, want 1 1 0", tc.name, ct.list.Load(), ct.stat.Load(), ct.open.Load())
		}
		if cs.list.Load() != tc.stateList || cs.open.Load() > tc.stateOpen {
			t.Errorf("%s: state list %d open %d, want %d and at most %d", tc.name, cs.list.Load(), cs.open.Load(), tc.stateList, tc.stateOpen)
		}
		if tc.body == "" && (ms["/d/f007.txt"]["{urn:t}x"].inner != "seven" || ms["/d/f008.txt"]["{urn:t}x"].inner != "eight") {
			t.Errorf("dead properties missing: %+v %+v", ms["/d/f007.txt"], ms["/d/f008.txt"])
		}
	}
	// A record that changed is read again.
	do(t, "PROPPATCH", s.URL+"/d/f007.txt", `<propertyupdate xmlns="DAV:"><set><prop><x xmlns="urn:t">seventy-seven</x></prop></set></propertyupdate>`)
	_, body := do(t, "PROPFIND", s.URL+"/d/", "", "Depth", "1")
	if v := multistatus(t, body)["/d/f007.txt"]["{urn:t}x"].inner; v != "seventy-seven" {
		t.Errorf("after PROPPATCH: %q", v)
	}
}
