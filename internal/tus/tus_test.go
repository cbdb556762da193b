package tus

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage/local"
	"github.com/ferry-sh/ferry/internal/storage/policy"
)

func TestParseOffset(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"123", 123, true}, {"9223372036854775807", 1<<63 - 1, true},
		{"9223372036854775808", 0, false}, {"", 0, false}, {"-1", 0, false}, {"+1", 0, false},
		{" 1", 0, false}, {"1.0", 0, false}, {"0x10", 0, false}, {"99999999999999999999", 0, false},
	} {
		got, ok := ParseOffset(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseOffset(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseMetadata(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		want map[string]string
		err  bool
	}{
		{"empty", "", map[string]string{}, false},
		{"pairs", "filename " + b64("a b.txt") + ",folder " + b64("/x/"), map[string]string{"filename": "a b.txt", "folder": "/x/"}, false},
		{"no value", "is_confidential,filename " + b64("x"), map[string]string{"is_confidential": "", "filename": "x"}, false},
		{"unpadded", "filename " + strings.TrimRight(b64("ab"), "="), map[string]string{"filename": "ab"}, false},
		{"spaces after comma", "a " + b64("1") + ", b " + b64("2"), map[string]string{"a": "1", "b": "2"}, false},
		{"bad base64", "filename !!!", nil, true},
		{"duplicate", "a " + b64("1") + ",a " + b64("2"), nil, true},
		{"control in key", "a\x01b " + b64("1"), nil, true},
		{"empty pair", "a " + b64("1") + ",,b", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseMetadata(c.in)
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want error %v", err, c.err)
			}
			if c.err {
				return
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestTargetName(t *testing.T) {
	for _, c := range []struct {
		folder, file string
		hidden       bool
		want         string
	}{
		{"", "a.txt", false, "a.txt"},
		{"/", "a.txt", false, "a.txt"},
		{"/docs/", "a.txt", false, "docs/a.txt"},
		{"docs//sub", "x/y.bin", false, "docs/sub/x/y.bin"},
		{"/", "é ß.txt", false, "é ß.txt"},
		{"/", ".env", true, ".env"},
		{"/", "", false, ""},
		{"/", ".env", false, ""},
		{"/../", "a", false, ""},
		{"/", "../a", false, ""},
		{"/", "a/../../b", false, ""},
		{"/", `a\b`, false, ""},
		{"/", "a\x00", false, ""},
		{"/", "a\nb", false, ""},
		{"/", "/etc/passwd", false, ""},
		{"/", strings.Repeat("x", 256), false, ""},
		{"/", rootfs.TempPrefix + "x", true, ""},
		{"/.ferry/", "x", true, ""},
		{"/", ".ferry", true, ""},
	} {
		got, err := TargetName(c.folder, c.file, c.hidden)
		if got != c.want || (err == nil) != (c.want != "") {
			t.Errorf("TargetName(%q, %q, %v) = %q, %v; want %q", c.folder, c.file, c.hidden, got, err, c.want)
		}
	}
}

func FuzzParseMetadata(f *testing.F) {
	for _, s := range []string{"", "filename " + b64("a"), "a,b", "a b c", ",", "k " + b64("v") + ",k2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMetadata(s)
		if err != nil {
			return
		}
		for k := range m {
			if k == "" || strings.ContainsAny(k, " ,") {
				t.Fatalf("bad key %q from %q", k, s)
			}
		}
	})
}

func FuzzParseOffset(f *testing.F) {
	for _, s := range []string{"0", "42", "-1", "9223372036854775807", "9223372036854775808", "１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := ParseOffset(s)
		if !ok {
			return
		}
		if n < 0 || strconv.FormatInt(n, 10) != strings.TrimLeft(s, "0") && !(n == 0 && strings.Trim(s, "0") == "") {
			t.Fatalf("ParseOffset(%q) = %d", s, n)
		}
	})
}

func FuzzTargetName(f *testing.F) {
	for _, s := range [][2]string{{"/", "a"}, {"/a/", "b/c"}, {"..", "x"}, {"/", "../x"}, {"/.ferry", "x"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, folder, file string) {
		name, err := TargetName(folder, file, false)
		if err != nil {
			return
		}
		if err := (policy.Rules{}).ValidateRelPath(name); err != nil {
			t.Fatalf("TargetName(%q, %q) = %q, which ValidateRelPath refuses: %v", folder, file, name, err)
		}
		if strings.HasPrefix(name, "/") || strings.Contains("/"+name+"/", "/../") {
			t.Fatalf("TargetName(%q, %q) = %q escapes", folder, file, name)
		}
	})
}

// env is a Handler on a temporary folder, served through httptest.
type env struct {
	t    *testing.T
	dir  string
	tree *local.Tree
	h    *Handler
	srv  *httptest.Server
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir()}
	e.start(opts)
	return e
}

func (e *env) start(opts Options) {
	tree, err := local.Open(e.dir, rootfs.Policy{})
	if err != nil {
		e.t.Fatal(err)
	}
	h, err := New(policy.Wrap(tree, policy.Rules{Hidden: opts.Hidden}), opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.tree, e.h = tree, h
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.h.ServeHTTP(w, r, strings.TrimPrefix(r.URL.Path, "/tus/"))
	}))
	e.t.Cleanup(e.stop)
}

func (e *env) stop() {
	if e.srv == nil {
		return
	}
	e.srv.Close()
	e.h.Close()
	e.tree.Close()
	e.srv = nil
}

func (e *env) do(method, url string, body []byte, hdr ...string) *http.Response {
	e.t.Helper()
	if !strings.HasPrefix(url, "http") {
		url = e.srv.URL + url
	}
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Tus-Resumable", Version)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (e *env) create(name string, length int) string {
	e.t.Helper()
	resp := e.do("POST", "/tus/", nil, "Upload-Length", strconv.Itoa(length), "Upload-Metadata", "filename "+b64(name))
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("create %s: %s", name, resp.Status)
	}
	return e.srv.URL + "/tus/" + resp.Header.Get("Location")
}

func (e *env) patch(url string, off int, data []byte) *http.Response {
	return e.do("PATCH", url, data, "Content-Type", ContentType, "Upload-Offset", strconv.Itoa(off))
}

// visible lists what a user would see in the folder: names without the
// temporary prefix.
func visible(t *testing.T, dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), rootfs.TempPrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestUploadInPieces(t *testing.T) {
	e := newEnv(t, Options{})
	data := bytes.Repeat([]byte("0123456789abcdef"), 1000)
	url := e.create("sub/deep/file.bin", len(data))
	for off := 0; off < len(data); off += 5000 {
		end := min(off+5000, len(data))
		if got := visible(t, e.dir); len(got) != 0 {
			t.Fatalf("visible before completion: %v", got)
		}
		resp := e.patch(url, off, data[off:end])
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Upload-Offset") != strconv.Itoa(end) {
			t.Fatalf("PATCH at %d: %s offset %s", off, resp.Status, resp.Header.Get("Upload-Offset"))
		}
		head := e.do("HEAD", url, nil)
		if head.Header.Get("Upload-Offset") != strconv.Itoa(end) || head.Header.Get("Upload-Length") != strconv.Itoa(len(data)) {
			t.Fatalf("HEAD: %v", head.Header)
		}
	}
	got, err := os.ReadFile(filepath.Join(e.dir, "sub", "deep", "file.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("stored file differs (%v)", err)
	}
	// Nothing of the upload is left but the file.
	ents, _ := os.ReadDir(e.dir)
	for _, d := range ents {
		if d.Name() != "sub" {
			t.Errorf("left behind: %s", d.Name())
		}
	}
	// A client that missed the last reply learns that it is done.
	if head := e.do("HEAD", url, nil); head.StatusCode != 200 || head.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
		t.Errorf("HEAD after completion: %s %v", head.Status, head.Header)
	}
}

func TestProtocolErrors(t *testing.T) {
	e := newEnv(t, Options{MaxSize: 100})
	WriteFile(t, e.dir, "taken.txt", "x")
	url := e.create("a.txt", 10)
	for _, c := range []struct {
		name   string
		method string
		url    string
		body   string
		hdr    []string
		want   int
	}{
		{"no version", "HEAD", url, "", []string{"Tus-Resumable", ""}, 412},
		{"old version", "PATCH", url, "", []string{"Tus-Resumable", "0.2.2"}, 412},
		{"no length", "POST", "/tus/", "", []string{"Upload-Metadata", "filename " + b64("b")}, 400},
		{"bad length", "POST", "/tus/", "", []string{"Upload-Length", "-5", "Upload-Metadata", "filename " + b64("b")}, 400},
		{"deferred length", "POST", "/tus/", "", []string{"Upload-Defer-Length", "1", "Upload-Metadata", "filename " + b64("b")}, 400},
		{"too long", "POST", "/tus/", "", []string{"Upload-Length", "101", "Upload-Metadata", "filename " + b64("b")}, 413},
		{"no filename", "POST", "/tus/", "", []string{"Upload-Length", "1"}, 400},
		{"bad metadata", "POST", "/tus/", "", []string{"Upload-Length", "1", "Upload-Metadata", "filename %%%"}, 400},
		{"dotdot", "POST", "/tus/", "", []string{"Upload-Length", "1", "Upload-Metadata", "filename " + b64("../x")}, 400},
		{"folder dotdot", "POST", "/tus/", "", []string{"Upload-Length", "1", "Upload-Metadata", "filename " + b64("x") + ",folder " + b64("/../")}, 400},
		{"dotfile", "POST", "/tus/", "", []string{"Upload-Length", "1", "Upload-Metadata", "filename " + b64(".bashrc")}, 400},
		{"exists", "POST", "/tus/", "", []string{"Upload-Length", "1", "Upload-Metadata", "filename " + b64("taken.txt")}, 409},
		{"parent is a file", "POST", "/tus/", "", []string{"Upload-Length", "1", "Upload-Metadata", "filename " + b64("taken.txt/x")}, 409},
		{"wrong content type", "PATCH", url, "abc", []string{"Upload-Offset", "0", "Content-Type", "text/plain"}, 415},
		{"no offset", "PATCH", url, "abc", []string{"Content-Type", ContentType}, 400},
		{"offset mismatch", "PATCH", url, "abc", []string{"Upload-Offset", "3", "Content-Type", ContentType}, 409},
		{"body too long", "PATCH", url, "0123456789A", []string{"Upload-Offset", "0", "Content-Type", ContentType}, 413},
		{"unknown upload", "HEAD", "/tus/AAAAAAAAAAAAAAAAAAAAAAAAAA", "", nil, 404},
		{"malformed id", "PATCH", "/tus/..%2f..%2fetc", "", []string{"Upload-Offset", "0", "Content-Type", ContentType}, 404},
		{"GET collection", "GET", "/tus/", "", nil, 405},
		{"POST to an upload", "POST", url, "", nil, 405},
		{"GET an upload", "GET", url, "", nil, 405},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := e.do(c.method, c.url, []byte(c.body), c.hdr...)
			if resp.StatusCode != c.want {
				t.Errorf("%s: got %s, want %d", c.name, resp.Status, c.want)
			}
			if resp.Header.Get("Tus-Resumable") != Version {
				t.Errorf("no Tus-Resumable header")
			}
		})
	}
	opts := e.do("OPTIONS", "/tus/", nil, "Tus-Resumable", "")
	if opts.StatusCode != 204 || opts.Header.Get("Tus-Version") != Version || opts.Header.Get("Tus-Max-Size") != "100" ||
		opts.Header.Get("Tus-Extension") != Extensions {
		t.Errorf("OPTIONS: %s %v", opts.Status, opts.Header)
	}
	if got := visible(t, e.dir); len(got) != 1 {
		t.Errorf("folder holds %v, want only taken.txt", got)
	}
}

func WriteFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTerminateAndZeroLength(t *testing.T) {
	e := newEnv(t, Options{})
	url := e.create("gone.bin", 10)
	e.patch(url, 0, []byte("01234"))
	if resp := e.do("DELETE", url, nil); resp.StatusCode != 204 {
		t.Fatalf("DELETE: %s", resp.Status)
	}
	if resp := e.do("HEAD", url, nil); resp.StatusCode != 404 {
		t.Errorf("HEAD after DELETE: %s", resp.Status)
	}
	if ents, _ := os.ReadDir(e.dir); len(ents) != 0 {
		t.Errorf("DELETE left %d entries", len(ents))
	}
	e.create("empty.txt", 0)
	if st, err := os.Stat(filepath.Join(e.dir, "empty.txt")); err != nil || st.Size() != 0 {
		t.Errorf("zero-length upload: %v", err)
	}
}

// The target may appear while the upload runs: without Overwrite the upload
// is refused at completion and the other file kept.
func TestTargetTakenMeanwhile(t *testing.T) {
	e := newEnv(t, Options{})
	url := e.create("race.txt", 4)
	WriteFile(t, e.dir, "race.txt", "mine")
	if resp := e.patch(url, 0, []byte("late")); resp.StatusCode != 409 {
		t.Fatalf("completion over an existing file: %s", resp.Status)
	}
	if b, _ := os.ReadFile(filepath.Join(e.dir, "race.txt")); string(b) != "mine" {
		t.Errorf("existing file replaced: %q", b)
	}
	if ents, _ := os.ReadDir(e.dir); len(ents) != 1 {
		t.Errorf("refused upload left files: %d entries", len(ents))
	}

	o := newEnv(t, Options{Overwrite: true})
	WriteFile(t, o.dir, "r.txt", "old")
	url = o.create("r.txt", 3)
	if resp := o.patch(url, 0, []byte("new")); resp.StatusCode != 204 {
		t.Fatalf("overwrite: %s", resp.Status)
	}
	if b, _ := os.ReadFile(filepath.Join(o.dir, "r.txt")); string(b) != "new" {
		t.Errorf("not replaced: %q", b)
	}
}

func TestExpiry(t *testing.T) {
	e := newEnv(t, Options{TTL: 300 * time.Millisecond})
	url := e.create("slow.bin", 10)
	resp := e.patch(url, 0, []byte("0123"))
	exp, err := http.ParseTime(resp.Header.Get("Upload-Expires"))
	if err != nil || exp.Before(time.Now().Add(-2*time.Second)) || exp.After(time.Now().Add(2*time.Second)) {
		t.Errorf("Upload-Expires %q", resp.Header.Get("Upload-Expires"))
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		ents, _ := os.ReadDir(e.dir)
		if len(ents) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expired upload still on disk: %d entries", len(ents))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp := e.do("HEAD", url, nil); resp.StatusCode != 404 {
		t.Errorf("HEAD of an expired upload: %s", resp.Status)
	}
}

// Unfinished uploads survive a restart; expired ones are removed at startup.
func TestRestart(t *testing.T) {
	e := newEnv(t, Options{})
	keep := e.create("keep.bin", 8)
	e.patch(keep, 0, []byte("abcd"))
	old := e.create("old.bin", 8)
	e.patch(old, 0, []byte("abcd"))
	keepID := keep[strings.LastIndex(keep, "/")+1:]
	oldID := old[strings.LastIndex(old, "/")+1:]
	e.stop()
	past := time.Now().Add(-48 * time.Hour)
	os.Chtimes(filepath.Join(e.dir, rootfs.TempPrefix+"tus-"+oldID), past, past)
	// Junk that looks like a description is removed, not trusted.
	WriteFile(t, e.dir, rootfs.TempPrefix+"tus-JUNK.json", `{"id":"../../x"}`)

	e.start(Options{})
	keep = e.srv.URL + "/tus/" + keepID
	if resp := e.do("HEAD", keep, nil); resp.StatusCode != 200 || resp.Header.Get("Upload-Offset") != "4" {
		t.Fatalf("HEAD after restart: %s %v", resp.Status, resp.Header)
	}
	if resp := e.patch(keep, 4, []byte("efgh")); resp.StatusCode != 204 {
		t.Fatalf("PATCH after restart: %s", resp.Status)
	}
	if b, _ := os.ReadFile(filepath.Join(e.dir, "keep.bin")); string(b) != "abcdefgh" {
		t.Errorf("resumed file = %q", b)
	}
	if resp := e.do("HEAD", e.srv.URL+"/tus/"+oldID, nil); resp.StatusCode != 404 {
		t.Errorf("expired upload after restart: %s", resp.Status)
	}
	if got, _ := os.ReadDir(e.dir); len(got) != 1 {
		var names []string
		for _, d := range got {
			names = append(names, d.Name())
		}
		t.Errorf("after restart the folder holds %v, want keep.bin only", names)
	}
}

// serveFrom answers one request as if it came from the address remote.
func (e *env) serveFrom(remote, method, target string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = remote
	r.Header.Set("Tus-Resumable", Version)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r, strings.TrimPrefix(r.URL.Path, "/tus/"))
	return w
}

// Unfinished uploads are capped per client address and in all; a finished
// or cancelled one gives its place back. Creation alone writes nothing.
func TestCaps(t *testing.T) {
	e := newEnv(t, Options{MaxPerClient: 2, MaxUnfinished: 3})
	create := func(remote, name string) (int, string) {
		w := e.serveFrom(remote, "POST", "/tus/", "Upload-Length", "3", "Upload-Metadata", "filename "+b64(name))
		return w.Code, w.Header().Get("Location")
	}
	var locs []string
	for i, c := range []struct {
		remote string
		want   int
	}{
		{"10.0.0.1:1", 201}, {"10.0.0.1:2", 201}, {"10.0.0.1:3", 429},
		{"10.0.0.2:1", 201}, {"10.0.0.3:1", 503},
	} {
		code, loc := create(c.remote, "f"+strconv.Itoa(i))
		if code != c.want {
			t.Fatalf("creation %d from %s: %d, want %d", i, c.remote, code, c.want)
		}
		if loc != "" {
			locs = append(locs, loc)
		}
	}
	if ents, _ := os.ReadDir(e.dir); len(ents) != 0 {
		t.Errorf("creations wrote %d entries", len(ents))
	}
	// One finishes, one is cancelled: two places.
	resp := e.patch(e.srv.URL+"/tus/"+locs[0], 0, []byte("abc"))
	if resp.StatusCode != 204 {
		t.Fatalf("PATCH: %s", resp.Status)
	}
	if w := e.serveFrom("10.0.0.1:1", "DELETE", "/tus/"+locs[1]); w.Code != 204 {
		t.Fatalf("DELETE: %d", w.Code)
	}
	for i, want := range []int{201, 201, 503} {
		if code, _ := create("10.0.0.1:9", "g"+strconv.Itoa(i)); code != want {
			t.Errorf("creation %d after two places freed: %d, want %d", i, code, want)
		}
	}
}

// A length beyond the free space of the target's filesystem is refused at
// creation.
func TestBeyondFreeSpace(t *testing.T) {
	e := newEnv(t, Options{})
	free, err := e.tree.Free(context.Background(), ".")
	if err != nil {
		t.Skip("free space cannot be told here")
	}
	w := e.serveFrom("10.0.0.1:1", "POST", "/tus/", "Upload-Length", strconv.FormatInt(free+1<<30, 10), "Upload-Metadata", "filename "+b64("x"))
	if w.Code != http.StatusInsufficientStorage || !strings.Contains(w.Body.String(), "free space") {
		t.Errorf("creation beyond the free space: %d %s", w.Code, w.Body)
	}
}
