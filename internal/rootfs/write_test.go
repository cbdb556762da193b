package rootfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unicode"
	"unicode/utf8"
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

func TestValidateRelPath(t *testing.T) {
	for _, tc := range []struct {
		rel    string
		hidden bool
		ok     bool
	}{
		{"a.txt", false, true},
		{"photos/a.jpg", false, true},
		{"a b/ü €.txt", false, true},
		{"", false, false},
		{".", false, false},
		{"..", false, false},
		{"../x", false, false},
		{"a/../x", false, false},
		{"/etc/x", false, false},
		{"a/", false, false},
		{"a//b", false, false},
		{`..\x`, false, false},
		{`C:\x`, false, false},
		{"a\x00b", false, false},
		{"a\nb", false, false},
		{"a\x7fb", false, false},
		{".env", false, false},
		{".env", true, true},
		{"a/.git/x", false, false},
		{"a/.git/x", true, true},
		{TempPrefix + "x", true, false},
		{"a\u0085b", false, false},
		{"a\u009bb", false, false},
		{"evil\u202etxt.exe", false, false},
		{"a\u202ab", false, false},
		{"a\u2066b", false, false},
		{"a\u2069b", false, false},
		{"a\u200eb", false, false},
		{"a\u200fb", false, false},
		{"a\u061cb", false, false},
		{"a\xffb", false, false},
		{"a\xc2b", false, false},
		{"\u00a0nbsp\u200bzwsp", false, true},
		{"عربي/עברית", false, true},
		{strings.Repeat("n", 255), false, true},
		{strings.Repeat("n", 256), false, false},
	} {
		err := ValidateRelPath(tc.rel, tc.hidden)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateRelPath(%q, %v) = %v, want ok=%v", tc.rel, tc.hidden, err, tc.ok)
		}
	}
}

// FuzzValidateRelPath checks that every accepted name is a local, clean,
// slash-separated path whose every component ferry could create safely.
func FuzzValidateRelPath(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../x", `..\x`, `C:\x`, "/etc/passwd", ".x", "a/./b", "a\x00", "é/ß", TempPrefix + "1", "a\u202eb", "\u0085", "\xff"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, rel string, hidden bool) {
		if ValidateRelPath(rel, hidden) != nil {
			return
		}
		if !filepath.IsLocal(rel) || path.Clean(rel) != rel || strings.HasPrefix(rel, "/") {
			t.Fatalf("accepted %q, which is not a clean local path", rel)
		}
		for _, c := range strings.Split(rel, "/") {
			if c == "" || c == "." || c == ".." || len(c) > 255 || strings.ContainsAny(c, "\\\x00") {
				t.Fatalf("accepted %q with component %q", rel, c)
			}
			if !hidden && strings.HasPrefix(c, ".") {
				t.Fatalf("accepted dotfile %q without hidden", rel)
			}
			if strings.HasPrefix(c, TempPrefix) {
				t.Fatalf("accepted temp name %q", rel)
			}
			if !utf8.ValidString(c) {
				t.Fatalf("accepted invalid UTF-8 %q", rel)
			}
			for _, r := range c {
				if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Bidi_Control, r) {
					t.Fatalf("accepted control character %U in %q", r, rel)
				}
			}
		}
	})
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
	if _, err := f.Publish(tmp, "d", true); !errors.Is(err, ErrIsDir) {
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
	if _, err := f.MkdirParents("file/x"); !errors.Is(err, ErrNotDir) {
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
		{&fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, ErrNoSpace},
		{&fs.PathError{Op: "write", Path: "x", Err: syscall.EDQUOT}, ErrNoSpace},
		{&fs.PathError{Op: "open", Path: "x", Err: syscall.ENOTDIR}, ErrNotDir},
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
