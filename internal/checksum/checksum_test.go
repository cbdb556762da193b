package checksum

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/jobs"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/local"
)

// open opens a file of content through the local backend, as the file
// server hands it over.
func open(t *testing.T, content string) storage.Object {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f.txt"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	tree, err := local.Open(dir, rootfs.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := tree.Open(context.Background(), "f.txt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(); tree.Close() })
	return f
}

func TestServe(t *testing.T) {
	s := NewService(nil)
	f := open(t, "hello")
	for _, c := range []struct {
		query, want string
		status      int
	}{
		{"hash=sha256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824  f.txt\n", 200},
		{"hash=SHA512", "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043  f.txt\n", 200},
		{"hash=md5", "", 400},
		{"hash=", "", 400},
	} {
		r := httptest.NewRequest("GET", "/f.txt?"+c.query, nil)
		w := httptest.NewRecorder()
		s.Serve(w, r, f, "dir/f.txt")
		if w.Code != c.status || (c.want != "" && w.Body.String() != c.want) {
			t.Errorf("%s: %d %q", c.query, w.Code, w.Body.String())
		}
		if c.status == http.StatusOK && w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%s: content type %q", c.query, w.Header().Get("Content-Type"))
		}
		if c.status == http.StatusOK && w.Header().Get("Content-Length") != strconv.Itoa(len(c.want)) {
			t.Errorf("%s: Content-Length %q", c.query, w.Header().Get("Content-Length"))
		}
	}
}

// HEAD reads nothing: it answers even for a file that can no longer be read,
// with the length the GET would have.
func TestServeHeadReadsNothing(t *testing.T) {
	f := open(t, "hello")
	f.Close()
	for alg, n := range map[string]int{"sha256": 64 + 8, "sha512": 128 + 8} {
		r := httptest.NewRequest("HEAD", "/f.txt?hash="+alg, nil)
		w := httptest.NewRecorder()
		NewService(nil).Serve(w, r, f, "f.txt")
		if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != strconv.Itoa(n) {
			t.Errorf("HEAD %s: %d, %d bytes, Content-Length %q", alg, w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
		}
	}
}

// A digest computed once is answered again without a job slot; a new one
// needs a slot and, with none free, is refused with 503 and Retry-After.
// A file changed in place is hashed again.
func TestServeCacheAndLimit(t *testing.T) {
	lim := jobs.New(1, 1, 20*time.Millisecond)
	s := NewService(lim)
	f := open(t, "hello")
	get := func(f storage.Object) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		s.Serve(w, httptest.NewRequest("GET", "/f.txt?hash=sha256", nil), f, "f.txt")
		return w
	}
	if w := get(f); w.Code != 200 {
		t.Fatalf("first GET: %d", w.Code)
	}
	done, err := lim.Start(context.Background(), netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	if w := get(f); w.Code != 200 || w.Body.String()[:8] != "2cf24dba" {
		t.Errorf("cached GET with no slot free: %d %q", w.Code, w.Body.String())
	}
	if w := get(open(t, "other")); w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Errorf("new digest with no slot free: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	done()
	// Same size, same modification time, other bytes: the change time
	// tells, where the system keeps one.
	if _, ok := f.(versioned).Version(); !ok {
		return
	}
	p := f.(interface{ OSFile() *os.File }).OSFile().Name()
	info := f.Info()
	os.WriteFile(p, []byte("jello"), 0o644)
	os.Chtimes(p, info.ModTime, info.ModTime)
	if w := get(f); w.Code != 200 || w.Body.String()[:8] == "2cf24dba" {
		t.Errorf("file rewritten in place: %d %q", w.Code, w.Body.String())
	}
}

func TestLine(t *testing.T) {
	if got := Line("ab", "a\nb\\c"); got != "\\ab  a\\nb\\\\c\n" {
		t.Errorf("escaped line %q", got)
	}
}

// etagObject is an object store's file: no local identity, an ETag.
type etagObject struct {
	*bytes.Reader
	etag  string
	reads *int
}

func (o etagObject) Info() storage.Info {
	return storage.Info{Name: "f.txt", Size: o.Size(), ETag: o.etag}
}
func (o etagObject) Close() error { return nil }
func (o etagObject) Read(p []byte) (int, error) {
	*o.reads++
	return o.Reader.Read(p)
}

// On an object store the ETag names the version: the same ETag is answered
// from the cache, another one is read.
func TestServeCacheByETag(t *testing.T) {
	s := NewService(nil)
	reads := 0
	get := func(content, etag string) string {
		w := httptest.NewRecorder()
		o := etagObject{Reader: bytes.NewReader([]byte(content)), etag: etag, reads: &reads}
		s.Serve(w, httptest.NewRequest("GET", "/f.txt?hash=sha256", nil), o, "f.txt")
		return w.Body.String()
	}
	first := get("hello", `"e1"`)
	if !strings.HasPrefix(first, "2cf24dba") || reads == 0 {
		t.Fatalf("first: %q, %d reads", first, reads)
	}
	reads = 0
	if again := get("hello", `"e1"`); again != first || reads != 0 {
		t.Errorf("same ETag: %q, %d reads", again, reads)
	}
	if other := get("jello", `"e2"`); other == first || reads == 0 {
		t.Errorf("other ETag: %q, %d reads", other, reads)
	}
}
