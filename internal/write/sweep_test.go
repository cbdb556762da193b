package write

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/rootfs"
)

// Partial files a killed run left a day ago go with the next upload into
// their folder; fresh ones (another upload in progress) and tus's stay.
func TestSweepRemovesStaleLeftovers(t *testing.T) {
	h, root, _ := newHandler(t, Options{Upload: true})
	old := time.Now().Add(-48 * time.Hour)
	files := map[string]time.Time{
		rootfs.TempPrefix + "crashed": old,
		rootfs.TempPrefix + "fresh":   time.Now(),
		rootfs.TempPrefix + "tus-ABC": old,
		"keep-me.txt":                 old,
	}
	for name, mtime := range files {
		p := filepath.Join(root, name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, mtime, mtime)
	}
	w := httptest.NewRecorder()
	h.Put(w, httptest.NewRequest(http.MethodPut, "/new.txt", strings.NewReader("new")), "new.txt")
	if w.Code != http.StatusCreated {
		t.Fatalf("PUT: %d", w.Code)
	}
	want := map[string]bool{rootfs.TempPrefix + "crashed": false, rootfs.TempPrefix + "fresh": true,
		rootfs.TempPrefix + "tus-ABC": true, "keep-me.txt": true, "new.txt": true}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok := true
		for name, present := range want {
			_, err := os.Lstat(filepath.Join(root, name))
			if (err == nil) != present {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(root)
			t.Fatalf("after the sweep the folder holds %v", entries)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
