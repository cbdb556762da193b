package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFileReplacedBetweenGets checks that ferry's cache of open files never
// serves a file's old bytes or ETag once it has been replaced: by an upload
// through ferry (a rename over the name), by another program's rename, by a
// rewrite in place, and by deletion. Each change follows two GETs, the second
// of which is answered from the cache.
func TestFileReplacedBetweenGets(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"page.css": "body { color: red }"})
	p := Start(t, dir, "-p", "0", "--upload", "--overwrite")
	url := p.URL + "/page.css"

	etag := ""
	expect := func(step, body string) {
		t.Helper()
		for range 2 {
			resp, b := Do(t, "GET", url, nil)
			if resp.StatusCode != http.StatusOK || string(b) != body {
				t.Fatalf("%s: %d %q, want %q", step, resp.StatusCode, b, body)
			}
			if got := resp.Header.Get("Etag"); got == etag {
				t.Fatalf("%s: ETag %s unchanged from the previous contents", step, got)
			} else if etag != "" && got == "" {
				t.Fatalf("%s: no ETag", step)
			}
			// The second GET repeats the first: same ETag, and a
			// conditional GET with it is a 304.
			resp2, _ := Do(t, "GET", url, nil, "If-None-Match", resp.Header.Get("Etag"))
			if resp2.StatusCode != http.StatusNotModified {
				t.Fatalf("%s: conditional GET: %d", step, resp2.StatusCode)
			}
		}
		resp, _ := Do(t, "HEAD", url, nil)
		etag = resp.Header.Get("Etag")
	}
	expect("initial", "body { color: red }")

	resp, _ := Do(t, "PUT", url, strings.NewReader("body { color: blue }"))
	if resp.StatusCode/100 != 2 {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	expect("after an upload through ferry", "body { color: blue }")

	tmp := filepath.Join(dir, "new.tmp")
	os.WriteFile(tmp, []byte("body { color: green }"), 0o644)
	if err := os.Rename(tmp, filepath.Join(dir, "page.css")); err != nil {
		t.Fatal(err)
	}
	expect("after a rename over it", "body { color: green }")

	// Same length, rewritten in place a moment later: the mtime moves.
	time.Sleep(20 * time.Millisecond)
	if err := os.WriteFile(filepath.Join(dir, "page.css"), []byte("body { color: GREEN }"), 0o644); err != nil {
		t.Fatal(err)
	}
	expect("after a rewrite in place", "body { color: GREEN }")

	os.Remove(filepath.Join(dir, "page.css"))
	if resp, _ := Do(t, "GET", url, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("after deletion: %d, want 404", resp.StatusCode)
	}
}
