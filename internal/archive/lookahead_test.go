//go:build linux

package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage/local"
	pol "github.com/ferry-sh/ferry/internal/storage/policy"
)

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	return len(ents)
}

type failAfter struct{ left int }

func (w *failAfter) Write(p []byte) (int, error) {
	if w.left < len(p) {
		return 0, errors.New("client gone")
	}
	w.left -= len(p)
	return len(p), nil
}

// Members opened ahead of their turn must all be archived, in order, and
// every descriptor must be closed at the end, also when the walk stops
// early; nested folders must not hold more than maxHeld at once.
func TestLookaheadClosesEverything(t *testing.T) {
	dir := t.TempDir()
	want := 0
	var mk func(d string, depth int)
	mk = func(d string, depth int) {
		os.MkdirAll(d, 0o755)
		for i := range 40 {
			os.WriteFile(filepath.Join(d, fmt.Sprintf("f%02d.txt", i)), []byte(fmt.Sprint(depth, i)), 0o644)
			want++
		}
		if depth < 3 {
			for _, sub := range []string{"a", "m", "z"} {
				mk(filepath.Join(d, sub), depth+1)
			}
		}
	}
	mk(dir, 0)
	fsys, err := local.Open(dir, rootfs.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	before := openFDs(t)

	var buf bytes.Buffer
	if err := Write(context.Background(), &buf, "zip", "", []Source{{Tree: pol.Wrap(fsys, pol.Rules{}), Path: ".", Name: "t"}}); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files, last := 0, ""
	for _, f := range zr.File {
		if f.Name <= last {
			t.Fatalf("%q after %q: not in order", f.Name, last)
		}
		last = f.Name
		if !f.Mode().IsDir() {
			files++
		}
	}
	if files != want {
		t.Errorf("archived %d files, want %d", files, want)
	}
	if after := openFDs(t); after != before {
		t.Errorf("%d descriptors open after the walk, %d before", after, before)
	}

	for _, n := range []int{0, 100, 5000, 20000} {
		if err := Write(context.Background(), &failAfter{n}, "zip", "", []Source{{Tree: pol.Wrap(fsys, pol.Rules{}), Path: ".", Name: "t"}}); err == nil {
			t.Errorf("cut after %d bytes: no error", n)
		}
		if after := openFDs(t); after != before {
			t.Errorf("cut after %d bytes: %d descriptors open, %d before", n, after, before)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	Write(ctx, &bytes.Buffer{}, "tar", "", []Source{{Tree: pol.Wrap(fsys, pol.Rules{}), Path: ".", Name: "t"}})
	if after := openFDs(t); after != before {
		t.Errorf("cancelled: %d descriptors open, %d before", after, before)
	}
}
