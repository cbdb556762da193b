//go:build unix

package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readDirFixture makes a folder with every kind of member the policy
// distinguishes, and enough names to take several getdents calls.
func readDirFixture(t testing.TB, n int) (root, sub string) {
	parent := t.TempDir()
	root = filepath.Join(parent, "root")
	sub = filepath.Join(root, "sub")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(sub, "folder"), 0o755))
	must(os.MkdirAll(filepath.Join(sub, ".hidden-folder"), 0o755))
	must(os.WriteFile(filepath.Join(parent, "outside.txt"), []byte("outside"), 0o644))
	must(os.MkdirAll(filepath.Join(parent, "outside-dir"), 0o755))
	files := map[string]string{
		"a.txt": "a", "Empty": "", ".env": "secret", TempPrefix + "x": "partial",
		strings.Repeat("l", 255): "long", "caf\xe9.txt": "latin-1", "日本.md": "utf-8",
	}
	for name, body := range files {
		must(os.WriteFile(filepath.Join(sub, name), []byte(body), 0o644))
	}
	for i := range n {
		must(os.WriteFile(filepath.Join(sub, fmt.Sprintf("file-%05d.bin", i)), make([]byte, i%7), 0o644))
	}
	old := time.Date(1999, 12, 31, 23, 59, 58, 123456789, time.UTC)
	must(os.Chtimes(filepath.Join(sub, "a.txt"), old, old))
	links := map[string]string{
		"in-link": "a.txt", "in-dir-link": "folder", "up-link": "../sub/a.txt",
		"out-link": "../../outside.txt", "out-dir": "../../outside-dir",
		"abs-out": filepath.Join(parent, "outside.txt"), "dangling": "nowhere", ".dot-link": "a.txt",
		"loop": "loop",
	}
	for name, target := range links {
		must(os.Symlink(target, filepath.Join(sub, name)))
	}
	if err := syscall.Mkfifo(filepath.Join(sub, "pipe"), 0o644); err != nil {
		t.Logf("no FIFO: %v", err)
	}
	return root, sub
}

// The descriptor-relative reader must list exactly what os.File.ReadDir
// listed, with the same sizes and times, under every policy.
func TestReadDirMatchesPortable(t *testing.T) {
	root, _ := readDirFixture(t, 3000)
	for _, p := range []Policy{{}, {FollowSymlinks: true}} {
		t.Run(fmt.Sprintf("%+v", p), func(t *testing.T) {
			fsys, err := Open(root, p)
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			read := func(portable bool) []Entry {
				d, _, err := fsys.Open("sub")
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				var got []Entry
				if portable {
					got, err = fsys.readDirPortable(d, "sub")
				} else {
					got, err = fsys.ReadDir(d, "sub")
				}
				if err != nil {
					t.Fatal(err)
				}
				slices.SortFunc(got, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
				return got
			}
			want, got := read(true), read(false)
			if len(got) != len(want) {
				t.Fatalf("ReadDir listed %d entries, os.File.ReadDir %d", len(got), len(want))
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.Name != w.Name || g.IsDir != w.IsDir || g.Size != w.Size || !g.ModTime.Equal(w.ModTime) {
					t.Errorf("entry %d: got %+v, want %+v", i, g, w)
				}
			}
			names := map[string]bool{}
			for _, e := range got {
				names[e.Name] = true
			}
			expect := map[string]bool{
				"a.txt": true, "Empty": true, "folder": true, "in-link": true, "in-dir-link": true, "up-link": true,
				"caf\xe9.txt": true, "日本.md": true, strings.Repeat("l", 255): true,
				// Dotfiles and partial uploads are the policy layer's to hide.
				".env": true, ".hidden-folder": true, ".dot-link": true, TempPrefix + "x": true,
				"out-link": p.FollowSymlinks, "abs-out": p.FollowSymlinks, "out-dir": p.FollowSymlinks,
				"dangling": false, "loop": false, "pipe": false, ".": false, "..": false,
			}
			for name, want := range expect {
				if names[name] != want {
					t.Errorf("%q listed: %v, want %v", name, names[name], want)
				}
			}
			for _, e := range got {
				if e.Name == "a.txt" && (e.Size != 1 || e.ModTime.UnixNano() != time.Date(1999, 12, 31, 23, 59, 58, 123456789, time.UTC).UnixNano()) {
					t.Errorf("a.txt: %+v", e)
				}
			}
		})
	}
}

// A folder opened through the root keeps working as an *os.File after
// ReadDir: the descriptor is not switched to blocking mode nor consumed.
func TestReadDirLeavesFileUsable(t *testing.T) {
	root, _ := readDirFixture(t, 10)
	fsys, err := Open(root, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	d, _, err := fsys.Open("sub")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := fsys.ReadDir(d, "sub"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat(); err != nil {
		t.Fatal(err)
	}
	// A second read continues where the first ended, as os.File.ReadDir does.
	if more, err := fsys.ReadDir(d, "sub"); err != nil || len(more) != 0 {
		t.Fatalf("second ReadDir = %d entries, %v; want 0, nil", len(more), err)
	}
}

func BenchmarkReadDir(b *testing.B) {
	root, _ := readDirFixture(b, 10000)
	fsys, err := Open(root, Policy{})
	if err != nil {
		b.Fatal(err)
	}
	defer fsys.Close()
	for _, portable := range []bool{false, true} {
		b.Run(map[bool]string{false: "fd", true: "os.File"}[portable], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d, _, err := fsys.Open("sub")
				if err != nil {
					b.Fatal(err)
				}
				if portable {
					_, err = fsys.readDirPortable(d, "sub")
				} else {
					_, err = fsys.ReadDir(d, "sub")
				}
				d.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// OpenIn must answer exactly as Open does for the same name, and ReadNames
// must give the names ReadDir's entries are made of (plus those whose open
// will fail: links out, dangling links, FIFOs).
func TestOpenInMatchesOpen(t *testing.T) {
	root, _ := readDirFixture(t, 5)
	for _, p := range []Policy{{}, {FollowSymlinks: true}} {
		t.Run(fmt.Sprintf("%+v", p), func(t *testing.T) {
			fsys, err := Open(root, p)
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			d, _, err := fsys.Open("sub")
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			names, err := fsys.ReadNames(d, "sub")
			if err != nil {
				t.Fatal(err)
			}
			d2, _, _ := fsys.Open("sub")
			entries, _ := fsys.ReadDir(d2, "sub")
			d2.Close()
			for _, e := range entries {
				if !slices.Contains(names, e.Name) {
					t.Errorf("ReadNames lacks %q", e.Name)
				}
			}
			extra := []string{".", "..", "", "folder/../..", "../sub/a.txt", "missing", ".env", TempPrefix + "x", "pipe"}
			for _, name := range append(names, extra...) {
				f1, i1, err1 := fsys.OpenIn(d, "sub", name)
				f2, i2, err2 := fsys.Open(filepath.ToSlash(filepath.Join("sub", name)))
				if name == "." || name == ".." || name == "" || strings.Contains(name, "/") {
					// Open takes paths; OpenIn takes one member name only.
					f2, i2, err2 = nil, nil, os.ErrNotExist
				}
				if (err1 == nil) != (err2 == nil) {
					t.Errorf("%q: OpenIn err %v, Open err %v", name, err1, err2)
				}
				if err1 == nil && err2 == nil && (i1.IsDir() != i2.IsDir() || i1.Size() != i2.Size() || !i1.ModTime().Equal(i2.ModTime())) {
					t.Errorf("%q: OpenIn %v, Open %v", name, i1, i2)
				}
				if f1 != nil {
					f1.Close()
				}
				if f2 != nil {
					f2.Close()
				}
			}
		})
	}
}
