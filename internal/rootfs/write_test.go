package rootfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ferry-sh/ferry/internal/storage"
)

func openTemp(t *testing.T) (*FS, string) {
	t.Helper()
	dir := t.TempDir()
	f, err := Open(dir, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, dir
}

// Which names ferry keeps or hides (dotfiles, partial uploads) is the
// policy layer's: internal/storage/policy tests ValidateRelPath with them.
func TestValidateRelPathFormat(t *testing.T) {
	for rel, ok := range map[string]bool{
		"a.txt": true, "a/b": true, ".env": true, TempPrefix + "x": true,
		"": false, "a//b": false, "a/../b": false, `a\b`: false, "a\x00b": false, "a\u202eb": false,
	} {
		if err := ValidateRelPath(rel); (err == nil) != ok {
			t.Errorf("ValidateRelPath(%q) = %v, want ok=%v", rel, err, ok)
		}
	}
}

func writeTemp(t *testing.T, f *FS, dir, content string) string {
	t.Helper()
	name := TempName(dir)
	file, err := f.CreateTemp(name)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(file, content)
	file.Close()
	return name
}

func TestPublishRace(t *testing.T) {
	f, dir := openTemp(t)
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, exists := 0, 0
	for i := range n {
		tmp := writeTemp(t, f, ".", strings.Repeat(string(rune('a'+i)), 1000))
		wg.Go(func() {
			_, err := f.Publish(tmp, "x.txt", false)
			f.RemoveTemp(tmp)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, fs.ErrExist):
				exists++
			default:
				t.Errorf("publish: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || exists != n-1 {
		t.Fatalf("wins=%d exists=%d, want 1 and %d", wins, exists, n-1)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "x.txt"))
	if len(b) != 1000 || strings.Count(string(b), string(b[0])) != 1000 {
		t.Fatalf("content is not one whole upload: %q...", b[:min(20, len(b))])
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
}

func TestPublishOverwriteAndDir(t *testing.T) {
	f, dir := openTemp(t)
	os.WriteFile(filepath.Join(dir, "x"), []byte("old"), 0o644)
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	tmp := writeTemp(t, f, ".", "new")
	if rep, err := f.Publish(tmp, "x", true); err != nil || !rep {
		t.Fatalf("overwrite: replaced=%v err=%v", rep, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "x")); string(b) != "new" {
		t.Fatalf("x = %q", b)
	}
	tmp = writeTemp(t, f, ".", "new")
	if _, err := f.Publish(tmp, "d", true); !errors.Is(err, storage.ErrIsDir) {
		t.Fatalf("publish over a folder: %v", err)
	}
}

func TestMkdirParentsAndRename(t *testing.T) {
	f, dir := openTemp(t)
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o644)
	created, err := f.MkdirParents("a/b/c")
	if err != nil || strings.Join(created, ",") != "a,a/b,a/b/c" {
		t.Fatalf("created %v, %v", created, err)
	}
	if _, err := f.MkdirParents("file/x"); !errors.Is(err, storage.ErrNotDir) {
		t.Fatalf("parent is a file: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "a/f"), []byte("1"), 0o644)
	os.WriteFile(filepath.Join(dir, "g"), []byte("2"), 0o644)
	if _, err := f.Rename("a/f", "g", false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("rename onto existing without overwrite: %v", err)
	}
	if rep, err := f.Rename("a/f", "g", true); err != nil || !rep {
		t.Fatalf("rename overwrite: %v %v", rep, err)
	}
	if rep, err := f.Rename("a", "z", false); err != nil || rep {
		t.Fatalf("rename folder: %v %v", rep, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "z/b/c")); err != nil {
		t.Fatal(err)
	}
}

func TestWriteErrClassifies(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want error
	}{
		{&fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, storage.ErrNoSpace},
		{&fs.PathError{Op: "write", Path: "x", Err: syscall.EDQUOT}, storage.ErrNoSpace},
		{&fs.PathError{Op: "open", Path: "x", Err: syscall.ENOTDIR}, storage.ErrNotDir},
		{&fs.PathError{Op: "open", Path: "x", Err: errors.New("path escapes from parent")}, fs.ErrNotExist},
		{&os.LinkError{Op: "link", Old: "a", New: "b", Err: syscall.EEXIST}, fs.ErrExist},
	} {
		if got := WriteErr(tc.err); !errors.Is(got, tc.want) {
			t.Errorf("WriteErr(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestEscapesStayOutside(t *testing.T) {
	f, dir := openTemp(t)
	outside := t.TempDir()
	os.Symlink(outside, filepath.Join(dir, "out"))
	if _, err := f.MkdirParents("out/x"); err == nil {
		t.Fatal("mkdir through an escaping symlink succeeded")
	}
	if _, err := f.CreateTemp(TempName("out")); err == nil {
		t.Fatal("temp file through an escaping symlink succeeded")
	}
	if err := f.Remove("out"); err != nil {
		t.Fatalf("removing the link: %v", err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatal("the link's target went with it")
	}
}
