package e2e

import (
	"bytes"
	"crypto/rand"
	"image"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
)

// TestS3Page: the page's features on a bucket through the real binary:
// the README, ?thumb and ?preview, a selection's zip, the editor's
// conditional PUT, and share links made on one node and counted across
// two (a 2-download link raced from both gives exactly two downloads).
func TestS3Page(t *testing.T) {
	store := weedtest.Shared(t)
	prefix := "page-" + strings.ToLower(rand.Text()[:8])
	secret := filepath.Join(t.TempDir(), "secret")
	args := []string{"-w", "--auth", "alice:pw", "--share-secret", secret}
	a := s3Ferry(t, store, prefix, args...)
	auth := []string{"Authorization", "Basic " + b64("alice:pw")}
	put := func(name string, body []byte) {
		t.Helper()
		if resp, b := Do(t, "PUT", a.URL+"/"+name, bytes.NewReader(body), auth...); resp.StatusCode != 201 {
			t.Fatalf("PUT %s: %d %s", name, resp.StatusCode, b)
		}
	}
	put("README.md", []byte("# On a bucket\n\n<script>x()</script>\n"))
	put("photo.jpg", photoJPEG(t, 1200, 800, 30))
	put("notes.md", []byte("## Notes\n"))
	put("big.bin", bytes.Repeat([]byte("0123456789abcdef"), 128<<10))
	put("docs/a.txt", []byte("alpha"))

	_, page := Do(t, "GET", a.URL+"/", nil, append(auth, "Accept", "text/html")...)
	if !strings.Contains(string(page), "<h3>On a bucket</h3>") || strings.Contains(string(page), "<script>x()") {
		t.Errorf("README on a bucket not shown, or not clean")
	}
	resp, body := Do(t, "GET", a.URL+"/photo.jpg?thumb", nil, auth...)
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(body)); resp.StatusCode != 200 || err != nil || cfg.Width != 320 {
		t.Errorf("thumbnail from a bucket: %d %v %d", resp.StatusCode, err, cfg.Width)
	}
	if resp, body := Do(t, "GET", a.URL+"/notes.md?preview", nil, auth...); resp.StatusCode != 200 || !strings.Contains(string(body), "<h3>Notes</h3>") {
		t.Errorf("?preview from a bucket: %d %s", resp.StatusCode, body)
	}
	resp, body = Do(t, "GET", a.URL+"/?zip&name=notes.md&name=docs", nil, auth...)
	if got := zipNames(t, body); resp.StatusCode != 200 || !slices.Equal(got, []string{"docs/", "docs/a.txt", "notes.md"}) {
		t.Errorf("selection zip from a bucket: %d %q", resp.StatusCode, got)
	}

	// The editor's save: over the version read, and never over another.
	resp, _ = Do(t, "GET", a.URL+"/notes.md", nil, append(auth, "Range", "bytes=0-")...)
	v1 := resp.Header.Get("ETag")
	resp, _ = Do(t, "PUT", a.URL+"/notes.md", strings.NewReader("## Notes, edited\n"), append(auth, "If-Match", v1)...)
	v2 := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusNoContent || v2 == "" || v2 == v1 {
		t.Errorf("conditional PUT on a bucket: %d, ETag %q (was %q)", resp.StatusCode, v2, v1)
	}
	if resp, _ := Do(t, "PUT", a.URL+"/notes.md", strings.NewReader("lost\n"), append(auth, "If-Match", v1)...); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("stale If-Match on a bucket: %d, want 412", resp.StatusCode)
	}
	if resp, _ := Do(t, "GET", a.URL+"/notes.md", nil, auth...); resp.Header.Get("ETag") != v2 {
		t.Errorf("GET's ETag %q, PUT said %q", resp.Header.Get("ETag"), v2)
	}

	// Share links, on one node and on two.
	b := s3Ferry(t, store, prefix, args...)
	l := makeLink(t, a, "alice", `{"path": "/docs/"}`)
	if resp, body := Do(t, "GET", b.URL+l.Href+"a.txt", nil); resp.StatusCode != 200 || string(body) != "alpha" {
		t.Errorf("a link made on node a, on node b: %d %q", resp.StatusCode, body)
	}
	lim := makeLink(t, a, "alice", `{"path": "/big.bin", "downloads": 2}`)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range 8 {
		node := a
		if i%2 == 1 {
			node = b
		}
		wg.Go(func() {
			resp, _ := Do(t, "GET", node.URL+lim.Href, nil)
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[200] != 2 || statuses[410]+statuses[429] != 6 {
		t.Errorf("8 downloads raced on two nodes for a 2-download link: %v", statuses)
	}
	waitStatus(t, b.URL+lim.Href, http.StatusGone, nil)
}
