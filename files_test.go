package ferry_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-sh/ferry"
)

// openFDs counts this process's open descriptors (Linux).
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd on this system")
	}
	return len(entries)
}

// Close of a NewFiles handler releases every descriptor it holds, the small
// files its readers cache included (issue 11 item 17: they stayed open).
func TestNewFilesCloseReleasesDescriptors(t *testing.T) {
	const n = 12
	var paths []string
	// Two folders, so the set holds two trees with a cache each.
	dirs := []string{t.TempDir(), t.TempDir()}
	for i := range n {
		p := filepath.Join(dirs[i%2], fmt.Sprintf("f%d.txt", i))
		os.WriteFile(p, []byte(fmt.Sprintf("file %d\n", i)), 0o644)
		paths = append(paths, p)
	}
	// A first server warms up what the runtime opens once (the poller).
	warm := httptest.NewServer(http.NotFoundHandler())
	http.Get(warm.URL)
	warm.Close()
	http.DefaultClient.CloseIdleConnections()
	before := openFDs(t)

	h, err := ferry.NewFiles(paths, ferry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	for i := range n {
		for range 2 { // the second GET is served from the cache
			resp, err := http.Get(fmt.Sprintf("%s/f%d.txt", srv.URL, i))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != fmt.Sprintf("file %d\n", i) {
				t.Fatalf("GET f%d.txt: %d %q", i, resp.StatusCode, body)
			}
		}
	}
	srv.Close()
	http.DefaultClient.CloseIdleConnections()
	during := openFDs(t)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	after := openFDs(t)
	t.Logf("descriptors: %d before, %d with the handler open, %d after Close", before, during, after)
	if after > before {
		t.Errorf("%d descriptors still open after Close (%d before NewFiles, %d while open)", after-before, before, during)
	}
}
