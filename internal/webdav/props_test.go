package webdav

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const patchBody = `<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z">
 <D:set><D:prop>
  <Z:author xml:lang="fr">Zoë</Z:author>
  <Z:tree><Z:leaf a="1" xmlns:q="urn:q" q:b="2">x &amp; y</Z:leaf><other xmlns="">z</other></Z:tree>
  <empty xmlns=""/>
 </D:prop></D:set>
</D:propertyupdate>`

func propfindOne(t *testing.T, url string) map[string]propValue {
	t.Helper()
	resp, body := do(t, "PROPFIND", url, "", "Depth", "0")
	if resp.StatusCode != 207 {
		t.Fatalf("PROPFIND %s = %d", url, resp.StatusCode)
	}
	ms := multistatus(t, body)
	if len(ms) != 1 {
		t.Fatalf("PROPFIND %s: %d responses", url, len(ms))
	}
	for _, v := range ms {
		return v
	}
	return nil
}

func TestPropPatch(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"f.txt": "x"})
	tree, state := localTrees(t, dir)
	s := newTestServer(t, tree, state, Options{})

	resp, body := do(t, "PROPPATCH", s.URL+"/f.txt", patchBody)
	if resp.StatusCode != 207 {
		t.Fatalf("PROPPATCH = %d %s", resp.StatusCode, body)
	}
	for name, v := range multistatus(t, body)["/f.txt"] {
		if v.status != 200 {
			t.Errorf("%s: %d", name, v.status)
		}
	}
	check := func(t *testing.T, url string) {
		t.Helper()
		p := propfindOne(t, url)
		if a := p["{urn:z}author"]; a.inner != "Zoë" || attr(a, nsXML, "lang") != "fr" {
			t.Errorf("author = %+v", a)
		}
		// The value reads back as the same XML, namespaces and all.
		n, err := parseBytes([]byte(`<w xmlns="urn:w">` + p["{urn:z}tree"].inner + `</w>`))
		if err != nil {
			t.Fatalf("tree value does not parse: %v: %s", err, p["{urn:z}tree"].inner)
		}
		leaf := n.children()[0]
		if !leaf.is("urn:z", "leaf") || leaf.text() != "x & y" || len(leaf.attr) != 2 || leaf.attr[1].Name.Space != "urn:q" {
			t.Errorf("leaf = %+v", leaf)
		}
		if o := n.children()[1]; !o.is("", "other") || o.text() != "z" {
			t.Errorf("other = %+v", o)
		}
		if e, ok := p["{}empty"]; !ok || e.status != 200 {
			t.Errorf("empty = %+v (%v)", e, keys(p))
		}
	}
	check(t, s.URL+"/f.txt")

	// They survive a restart: a new handler over the same folder.
	tree2, state2 := localTrees(t, dir)
	s2 := newTestServer(t, tree2, state2, Options{})
	check(t, s2.URL+"/f.txt")

	// All or nothing: a protected property fails the whole request.
	resp, body = do(t, "PROPPATCH", s.URL+"/f.txt", `<propertyupdate xmlns="DAV:"><set><prop><new xmlns="urn:z">1</new><getetag>x</getetag></prop></set></propertyupdate>`)
	ms := multistatus(t, body)["/f.txt"]
	if resp.StatusCode != 207 || ms["{urn:z}new"].status != 424 || ms["{DAV:}getetag"].status != 403 {
		t.Errorf("atomic failure: %d %+v", resp.StatusCode, ms)
	}
	if _, ok := propfindOne(t, s.URL+"/f.txt")["{urn:z}new"]; ok {
		t.Error("a failed PROPPATCH stored a property")
	}

	// Remove, then set again in the same request: order matters.
	do(t, "PROPPATCH", s.URL+"/f.txt", `<propertyupdate xmlns="DAV:" xmlns:Z="urn:z"><remove><prop><Z:author/></prop></remove><set><prop><Z:author>B</Z:author></prop></set><remove><prop><Z:tree/></prop></remove></propertyupdate>`)
	p := propfindOne(t, s.URL+"/f.txt")
	if p["{urn:z}author"].inner != "B" {
		t.Errorf("author after remove+set = %+v", p["{urn:z}author"])
	}
	if _, ok := p["{urn:z}tree"]; ok {
		t.Error("removed property still there")
	}
	for _, b := range []string{"", "<x/>", `<propertyupdate xmlns="DAV:"/>`, `<propertyupdate xmlns="DAV:"><set/></propertyupdate>`} {
		if r, _ := do(t, "PROPPATCH", s.URL+"/f.txt", b); r.StatusCode != 400 {
			t.Errorf("PROPPATCH %q = %d, want 400", b, r.StatusCode)
		}
	}
	if r, _ := do(t, "PROPPATCH", s.URL+"/missing", patchBody); r.StatusCode != 404 {
		t.Errorf("PROPPATCH of a missing file = %d", r.StatusCode)
	}
}

// TestPropsTravel: dead properties follow MOVE and COPY (a folder's
// members' too) and go with DELETE; a new file at an old name starts bare.
func TestPropsTravel(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"d/f.txt": "x", "d/e/g.txt": "y"})
	tree, state := localTrees(t, dir)
	s := newTestServer(t, tree, state, Options{})
	set := func(path, v string) {
		t.Helper()
		if r, b := do(t, "PROPPATCH", s.URL+path, `<propertyupdate xmlns="DAV:"><set><prop><p xmlns="urn:t">`+v+`</p></prop></set></propertyupdate>`); r.StatusCode != 207 {
			t.Fatalf("PROPPATCH %s = %d %s", path, r.StatusCode, b)
		}
	}
	get := func(path string) string {
		t.Helper()
		return propfindOne(t, s.URL+path)["{urn:t}p"].inner
	}
	set("/d/", "folder")
	set("/d/f.txt", "file")
	set("/d/e/g.txt", "deep")

	if r, _ := do(t, "COPY", s.URL+"/d/", "", "Destination", s.URL+"/c/"); r.StatusCode != 201 {
		t.Fatalf("COPY = %d", r.StatusCode)
	}
	if r, _ := do(t, "MOVE", s.URL+"/d/", "", "Destination", s.URL+"/m/"); r.StatusCode != 201 {
		t.Fatalf("MOVE = %d", r.StatusCode)
	}
	for path, want := range map[string]string{"/c/": "folder", "/c/f.txt": "file", "/c/e/g.txt": "deep",
		"/m/": "folder", "/m/f.txt": "file", "/m/e/g.txt": "deep"} {
		if got := get(path); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	// A file moved over one with properties replaces them.
	set("/c/f.txt", "old")
	if r, _ := do(t, "MOVE", s.URL+"/m/f.txt", "", "Destination", s.URL+"/c/f.txt"); r.StatusCode != 204 {
		t.Fatalf("MOVE over = %d", r.StatusCode)
	}
	if got := get("/c/f.txt"); got != "file" {
		t.Errorf("replaced file's property %q", got)
	}
	if r, _ := do(t, "DELETE", s.URL+"/c/", ""); r.StatusCode != 204 {
		t.Fatalf("DELETE = %d", r.StatusCode)
	}
	do(t, "MKCOL", s.URL+"/c/", "")
	do(t, "MKCOL", s.URL+"/c/e/", "")
	do(t, "PUT", s.URL+"/c/e/g.txt", "new")
	if got := get("/c/"); got != "" {
		t.Errorf("re-made folder has %q", got)
	}
	if got := get("/c/e/g.txt"); got != "" {
		t.Errorf("new file at a deleted one's name has %q", got)
	}
	// Nothing of the records shows in the tree.
	if r, b := do(t, "PROPFIND", s.URL+"/", "", "Depth", "1"); r.StatusCode != 207 || strings.Contains(b, ".ferry") {
		t.Errorf("root listing shows the state: %s", b)
	}
}

func TestSidecarNames(t *testing.T) {
	long := strings.Repeat("n", 255)
	names := []string{".", "a", "b", "a/b", "pa", "da", "p", "d", "r", "a/pb", "a/db", "da/b", long, "a/" + long, long + "/x", "hpx", "hdx"}
	seen := map[string]string{}
	for _, n := range names {
		for _, key := range []string{sidecar(n), mirror(n) + "/"} {
			if n == "." && strings.HasSuffix(key, "/") {
				continue
			}
			if prev, ok := seen[key]; ok {
				t.Errorf("%q and %q share %q", prev, n, key)
			}
			seen[key] = n
			for comp := range strings.SplitSeq(strings.TrimSuffix(key, "/"), "/") {
				if len(comp) > 255 {
					t.Errorf("%q: component longer than a file name: %d", n, len(comp))
				}
			}
		}
		// A record never sits where a folder of the mirror does.
		for other := range seen {
			if other != sidecar(n) && strings.HasPrefix(other, sidecar(n)+"/") {
				t.Errorf("record %q is a folder of %q", sidecar(n), other)
			}
		}
	}
}

// TestWin32Times: Windows' PROPPATCH of Win32LastModifiedTime and rclone's
// X-OC-Mtime set the file's modification time on a local folder.
func TestWin32Times(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"w.doc": "x"})
	tree, state := localTrees(t, dir)
	s := newTestServer(t, tree, state, Options{})
	resp, body := do(t, "PROPPATCH", s.URL+"/w.doc", `<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>`+
		`<Z:Win32CreationTime>Tue, 05 Mar 2019 10:00:00 GMT</Z:Win32CreationTime><Z:Win32LastAccessTime>Wed, 06 Mar 2019 10:00:00 GMT</Z:Win32LastAccessTime>`+
		`<Z:Win32LastModifiedTime>Thu, 07 Mar 2019 10:00:00 GMT</Z:Win32LastModifiedTime><Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>`+
		`</D:prop></D:set></D:propertyupdate>`)
	if resp.StatusCode != 207 || strings.Contains(body, "HTTP/1.1 4") {
		t.Fatalf("PROPPATCH = %d %s", resp.StatusCode, body)
	}
	fi, _ := os.Stat(filepath.Join(dir, "w.doc"))
	if want := time.Date(2019, 3, 7, 10, 0, 0, 0, time.UTC); !fi.ModTime().Equal(want) {
		t.Errorf("mtime %v, want %v", fi.ModTime(), want)
	}
	p := propfindOne(t, s.URL+"/w.doc")
	if p["{DAV:}getlastmodified"].inner != "Thu, 07 Mar 2019 10:00:00 GMT" || p["{urn:schemas-microsoft-com:}Win32FileAttributes"].inner != "00000020" {
		t.Errorf("after PROPPATCH: %+v", p)
	}

	r, _ := do(t, "PUT", s.URL+"/r.txt", "rclone", "X-OC-Mtime", "1600000000")
	if r.StatusCode != 201 || r.Header.Get("X-OC-Mtime") != "accepted" {
		t.Errorf("PUT with X-OC-Mtime = %d %q", r.StatusCode, r.Header.Get("X-OC-Mtime"))
	}
	if fi, _ := os.Stat(filepath.Join(dir, "r.txt")); fi.ModTime().Unix() != 1600000000 {
		t.Errorf("X-OC-Mtime: mtime %v", fi.ModTime())
	}
	if r, _ := do(t, "PROPPATCH", s.URL+"/w.doc", `<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop><Z:Win32LastModifiedTime>yesterday</Z:Win32LastModifiedTime></D:prop></D:set></D:propertyupdate>`); r.StatusCode != 207 {
		t.Errorf("bad time = %d", r.StatusCode)
	}
}

// TestExpectedLength: Finder's chunked PUT announces its size; a body that
// ends short stores nothing, and one past --max-upload is refused first.
func TestExpectedLength(t *testing.T) {
	dir := t.TempDir()
	tree, state := localTrees(t, dir)
	s := newTestServer(t, tree, state, Options{MaxUpload: 100})
	put := func(name, body, expect string) int {
		req, _ := http.NewRequest("PUT", s.URL+"/"+name, strings.NewReader(body))
		req.ContentLength = -1 // chunked, as Finder sends
		req.Header.Set("X-Expected-Entity-Length", expect)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := put("ok.txt", "12345", "5"); c != 201 {
		t.Errorf("whole body = %d", c)
	}
	if c := put("short.txt", "123", "5"); c < 400 {
		t.Errorf("short body = %d", c)
	}
	if c := put("long.txt", "1234567", "5"); c < 400 {
		t.Errorf("long body = %d", c)
	}
	if c := put("big.txt", "x", "1000"); c != 413 {
		t.Errorf("past the limit = %d", c)
	}
	if c := put("bad.txt", "x", "lots"); c != 400 {
		t.Errorf("bad header = %d", c)
	}
	for _, n := range []string{"short.txt", "long.txt", "big.txt", "bad.txt"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			t.Errorf("%s stored", n)
		}
	}
}

func attr(v propValue, space, local string) string {
	for _, a := range v.attrs {
		if a.Name.Space == space && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
