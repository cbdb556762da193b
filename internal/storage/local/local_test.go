package local_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/local"
	"github.com/ferry-sh/ferry/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Tree {
		tr, err := local.Open(t.TempDir(), rootfs.Policy{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tr.Close() })
		return tr
	})
}

// A resumable upload costs nothing on disk until its first bytes; from then
// on it outlives the tree (a restart) and resumes where it was.
func TestResumableAcrossRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "in"), 0o755)
	tr, err := local.Open(dir, rootfs.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	idle, err := tr.Begin(ctx, "in/idle.bin", 10, "")
	if err != nil {
		t.Fatal(err)
	}
	id, err := tr.Begin(ctx, "in/sub/f.bin", 6, "filename Zi5iaW4=")
	if err != nil {
		t.Fatal(err)
	}
	if n := hiddenFiles(t, dir); n != 0 {
		t.Fatalf("%d files for uploads without bytes", n)
	}
	u, _ := tr.Resume(ctx, id)
	if off, err := u.Append(ctx, strings.NewReader("abc")); off != 3 || err != nil {
		t.Fatalf("append: %d %v", off, err)
	}
	tr.Close()

	tr, err = local.Open(dir, rootfs.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Resume(ctx, idle); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("an upload without bytes outlived the restart: %v", err)
	}
	u, err = tr.Resume(ctx, id)
	if err != nil || u.Offset() != 3 || u.Meta() != "filename Zi5iaW4=" {
		t.Fatalf("after the restart: %v", err)
	}
	if off, err := u.Append(ctx, strings.NewReader("def")); off != 6 || err != nil {
		t.Fatalf("append: %d %v", off, err)
	}
	if _, err := u.Commit(ctx, false); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "in", "sub", "f.bin")); string(b) != "abcdef" {
		t.Fatalf("stored %q", b)
	}
	if n := hiddenFiles(t, dir); n != 0 {
		t.Fatalf("%d hidden files after the commit", n)
	}
}

func hiddenFiles(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), rootfs.TempPrefix) {
			n++
		}
		return nil
	})
	return n
}
