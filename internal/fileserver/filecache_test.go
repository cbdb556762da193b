package fileserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/local"
	"github.com/ferry-sh/ferry/internal/storage/policy"
	"github.com/ferry-sh/ferry/internal/transfer"
)

// newTestServer serves dir over a real loopback socket, through the Recorder
// the access-log middleware puts in front of every handler.
func newTestServer(t *testing.T, dir string) (*Server, string) {
	t.Helper()
	tree, err := local.Open(dir, rootfs.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	s := New(policy.Wrap(tree, policy.Rules{}), Options{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, isDir, err := rootfs.ParseURLPath(r.URL.EscapedPath())
		if err != nil {
			http.Error(w, "bad path", http.StatusBadRequest)
			return
		}
		s.Serve(transfer.NewRecorder(w, nil), r, name, isDir)
	}))
	t.Cleanup(func() {
		hs.Close()
		s.Close()
		tree.Close()
	})
	return s, hs.URL
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestCachedFileChanges changes a file between two GETs in every way a file
// can change and checks that the second GET sends the new bytes and a new
// ETag, never the cached descriptor's.
func TestCachedFileChanges(t *testing.T) {
	cases := []struct {
		name   string
		change func(t *testing.T, dir, p string)
		want   string // body after the change; "" means 404
	}{
		{"replaced by rename", func(t *testing.T, dir, p string) {
			tmp := filepath.Join(dir, "tmp")
			os.WriteFile(tmp, []byte("new contents, longer"), 0o644)
			if err := os.Rename(tmp, p); err != nil {
				t.Fatal(err)
			}
		}, "new contents, longer"},
		{"replaced by rename, same size and mtime", func(t *testing.T, dir, p string) {
			tmp := filepath.Join(dir, "tmp")
			os.WriteFile(tmp, []byte("NEW CONTENTS"), 0o644)
			st, _ := os.Stat(p)
			os.Chtimes(tmp, st.ModTime(), st.ModTime())
			if err := os.Rename(tmp, p); err != nil {
				t.Fatal(err)
			}
		}, "NEW CONTENTS"},
		{"truncated and rewritten in place", func(t *testing.T, dir, p string) {
			if err := os.WriteFile(p, []byte("short"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "short"},
		{"rewritten in place, same size", func(t *testing.T, dir, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte("OLD"), 0)
			f.Close()
		}, "OLD contents"},
		{"appended to", func(t *testing.T, dir, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(" and more")
			f.Close()
		}, "old contents and more"},
		{"deleted", func(t *testing.T, dir, p string) {
			os.Remove(p)
		}, ""},
		{"deleted and recreated", func(t *testing.T, dir, p string) {
			os.Remove(p)
			os.WriteFile(p, []byte("recreated"), 0o644)
		}, "recreated"},
		{"replaced by a folder", func(t *testing.T, dir, p string) {
			os.Remove(p)
			os.Mkdir(p, 0o755)
		}, "redirect"},
		{"replaced by a symlink to another file", func(t *testing.T, dir, p string) {
			os.WriteFile(filepath.Join(dir, "other"), []byte("other"), 0o644)
			os.Remove(p)
			os.Symlink("other", p)
		}, "other"},
		{"replaced by a symlink that leads out", func(t *testing.T, dir, p string) {
			out := filepath.Join(t.TempDir(), "out")
			os.WriteFile(out, []byte("outside"), 0o644)
			os.Remove(p)
			os.Symlink(out, p)
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "f.txt")
			os.WriteFile(p, []byte("old contents"), 0o644)
			s, url := newTestServer(t, dir)
			resp, b := get(t, url+"/f.txt")
			if string(b) != "old contents" {
				t.Fatalf("first GET: %q", b)
			}
			etag := resp.Header.Get("Etag")
			resp, _ = get(t, url+"/f.txt") // now from the cache
			if resp.Header.Get("Etag") != etag || s.files.entries["f.txt"] == nil {
				t.Fatalf("second GET: ETag %q, want %q; cached %v", resp.Header.Get("Etag"), etag, s.files.entries["f.txt"] != nil)
			}
			tc.change(t, dir, p)
			noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := noRedirect.Get(url + "/f.txt")
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			switch tc.want {
			case "":
				if resp.StatusCode != http.StatusNotFound {
					t.Fatalf("after change: %d %q, want 404", resp.StatusCode, b)
				}
			case "redirect":
				if resp.StatusCode != http.StatusMovedPermanently {
					t.Fatalf("after change: %d, want 301", resp.StatusCode)
				}
			default:
				if resp.StatusCode != http.StatusOK || string(b) != tc.want {
					t.Fatalf("after change: %d %q, want %q", resp.StatusCode, b, tc.want)
				}
				// The ETag is made of size and mtime, so a file
				// replaced by one with both equal keeps it, cache or
				// not; the bytes above are the new ones all the same.
				if got := resp.Header.Get("Etag"); got == etag && !strings.Contains(tc.name, "same size and mtime") {
					t.Errorf("ETag unchanged (%s) for changed contents", got)
				}
				if got := resp.Header.Get("Content-Length"); got != fmt.Sprint(len(tc.want)) {
					t.Errorf("Content-Length %s, want %d", got, len(tc.want))
				}
			}
		})
	}
}

// TestCacheServesConcurrentRanges reads many ranges of one cached file at
// once: a shared descriptor must never mix up their offsets.
func TestCacheServesConcurrentRanges(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 64<<10)
	for i := range data {
		data[i] = byte(i * 131 >> 3)
	}
	os.WriteFile(filepath.Join(dir, "f.bin"), data, 0o644)
	_, url := newTestServer(t, dir)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				start := (g*4099 + i*997) % (len(data) - 2000)
				rng := fmt.Sprintf("bytes=%d-%d", start, start+999)
				resp, b := get(t, url+"/f.bin", "Range", rng)
				if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, data[start:start+1000]) {
					t.Errorf("%s: %d, %d bytes, wrong contents", rng, resp.StatusCode, len(b))
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestCacheLeavesBigBodiesToSendfile checks which requests for a file larger
// than a small body may share the cached descriptor: only those that send a
// small body, so that the rest keep sendfile (which reads from the
// descriptor's own offset).
func TestCacheLeavesBigBodiesToSendfile(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	os.WriteFile(filepath.Join(dir, "f.bin"), data, 0o644)
	_, url := newTestServer(t, dir)
	cases := []struct {
		hdr    []string
		status int
		body   []byte
	}{
		{[]string{"Range", "bytes=100-1099"}, 206, data[100:1100]},
		{nil, 200, data},
		{[]string{"Range", "bytes=100-"}, 206, data[100:]},
		{[]string{"Range", "bytes=-10"}, 206, data[len(data)-10:]},
		{[]string{"Range", "bytes=0-9", "If-Range", `"other"`}, 200, data},
		{[]string{"Range", "bytes=0-9,20-29"}, 206, nil},
		{[]string{"Range", "bytes=70000-"}, 416, nil},
	}
	for round := range 2 { // the first round fills the cache, the second uses it
		for _, tc := range cases {
			resp, b := get(t, url+"/f.bin", tc.hdr...)
			if resp.StatusCode != tc.status || tc.body != nil && !bytes.Equal(b, tc.body) {
				t.Errorf("round %d %v: %d, %d bytes; want %d, %d bytes", round, tc.hdr, resp.StatusCode, len(b), tc.status, len(tc.body))
			}
			if tc.body == nil && tc.status == 206 && !strings.Contains(string(b), "0123456789") {
				t.Errorf("round %d %v: multipart body %q", round, tc.hdr, b)
			}
		}
	}
}

func TestSmallResponse(t *testing.T) {
	cases := []struct {
		method string
		size   int64
		hdr    []string
		want   bool
	}{
		{"GET", 1000, nil, true},
		{"GET", transfer.SmallBody, nil, true},
		{"GET", transfer.SmallBody + 1, nil, false},
		{"HEAD", 1 << 20, nil, true},
		{"GET", 1 << 20, []string{"Range", "bytes=0-999"}, true},
		{"GET", 1 << 20, []string{"Range", "bytes=0-999,5000-5999"}, true},
		{"GET", 1 << 20, []string{"Range", "bytes=0-"}, false},
		{"GET", 1 << 20, []string{"Range", "bytes=-8192"}, true},
		{"GET", 1 << 20, []string{"Range", "bytes=-8193"}, false},
		{"GET", 1 << 20, []string{"Range", "bytes=0-999", "If-Range", `"x"`}, false},
		{"GET", 1 << 20, []string{"Range", "lines=0-9"}, false},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(tc.method, "/f", nil)
		for i := 0; i+1 < len(tc.hdr); i += 2 {
			r.Header.Set(tc.hdr[i], tc.hdr[i+1])
		}
		if got := smallResponse(r, tc.size); got != tc.want {
			t.Errorf("%s %d %v: %v, want %v", tc.method, tc.size, tc.hdr, got, tc.want)
		}
	}
}

// TestCacheBounds fills the cache past its bound: the least recently used
// descriptors are closed, and none that a request still holds.
func TestCacheBounds(t *testing.T) {
	dir := t.TempDir()
	tree, err := local.Open(dir, rootfs.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	c := newOpenFiles()
	if c == nil {
		t.Skip("no cache on this platform")
	}
	r := httptest.NewRequest("GET", "/", nil)
	var files []storage.Object
	for i := range cacheEntries + 10 {
		name := fmt.Sprintf("f%d", i)
		os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644)
		obj, err := tree.Open(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, obj)
		e := c.put(name, obj)
		if i != 0 {
			c.release(e) // f0 stays held, as by a slow request
		}
	}
	if len(c.entries) != cacheEntries {
		t.Fatalf("%d entries, want %d", len(c.entries), cacheEntries)
	}
	buf := make([]byte, 4)
	if _, err := files[0].ReadAt(buf, 0); errors.Is(err, os.ErrClosed) {
		t.Errorf("evicted descriptor still in use was closed")
	}
	if _, err := files[1].ReadAt(buf, 0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("evicted descriptor f1 still open: %v", err)
	}
	if e := c.get(r, "f1"); e != nil {
		t.Errorf("f1 still cached")
	}
	last := fmt.Sprintf("f%d", cacheEntries+9)
	e := c.get(r, last)
	if e == nil || e.info.Size != int64(len(last)) {
		t.Fatalf("%s not served from the cache", last)
	}
	c.release(e)
	c.close()
	if len(c.entries) != 0 || c.head != nil {
		t.Errorf("close left %d entries", len(c.entries))
	}
	if _, err := files[len(files)-1].ReadAt(buf, 0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("close left a descriptor open: %v", err)
	}
}

// TestPlainResponseMatchesServeContent compares, header by header and byte
// by byte, the first response for a file (a cache miss, through
// http.ServeContent) with the next ones (cache hits answered by servePlain).
func TestPlainResponseMatchesServeContent(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"a.txt":    []byte("hello, text\n"),
		"b.html":   []byte("<!doctype html><p>hi"),
		"c.bin":    bytes.Repeat([]byte{0, 1, 2, 3}, 256),
		"d.svg":    []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"),
		"noext":    []byte("sniffed, not cached as plain"),
		"e.json":   []byte(`{"a":1}`),
		"empty.js": {},
	}
	for name, b := range files {
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	_, url := newTestServer(t, dir)
	for name, want := range files {
		for _, method := range []string{"GET", "HEAD"} {
			var first *http.Response
			for i := range 3 {
				req, _ := http.NewRequest(method, url+"/"+name, nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || method == "GET" && !bytes.Equal(b, want) || method == "HEAD" && len(b) != 0 {
					t.Fatalf("%s %s #%d: %d, %q", method, name, i, resp.StatusCode, b)
				}
				resp.Header.Del("Date")
				if first == nil {
					first = resp
					continue
				}
				if fmt.Sprint(resp.Header) != fmt.Sprint(first.Header) || resp.ContentLength != first.ContentLength {
					t.Errorf("%s %s #%d:\n%v\nfirst:\n%v", method, name, i, resp.Header, first.Header)
				}
			}
		}
	}
}
