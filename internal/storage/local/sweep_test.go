package local_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage/local"
)

// Partial files a killed run left a day ago go with the next upload into
// their folder; fresh ones (another upload in progress) and resumable
// uploads' stay.
func TestSweepRemovesStaleLeftovers(t *testing.T) {
	root := t.TempDir()
	tr, err := local.Open(root, rootfs.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
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
	st, err := tr.Stage(context.Background(), "new.txt", 3)
	if err != nil {
		t.Fatal(err)
	}
	st.Write([]byte("new"))
	if _, err := st.Commit(context.Background(), false); err != nil {
		t.Fatal(err)
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
