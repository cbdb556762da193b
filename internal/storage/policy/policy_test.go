package policy_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage/local"
	"github.com/ferry-sh/ferry/internal/storage/policy"
)

func TestVisible(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.txt", ".env", "sub/.git/config", "sub/ok", ".ferry/x", rootfs.TempPrefix + "abc", "sub/.ferry"} {
		p := filepath.Join(dir, filepath.FromSlash(n))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("x"), 0o644)
	}
	// The backend shows everything; the policy layer alone decides.
	backend, err := local.Open(dir, rootfs.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	ctx := context.Background()
	for _, c := range []struct {
		hidden bool
		list   []string
		seen   []string
		absent []string
	}{
		{false, []string{"a.txt", "sub"}, []string{"a.txt", "sub/ok"}, []string{".env", "sub/.git/config", ".ferry/x", rootfs.TempPrefix + "abc", "sub/.ferry"}},
		{true, []string{".env", "a.txt", "sub"}, []string{".env", "sub/.git/config", "sub/.ferry"}, []string{".ferry/x", ".ferry", rootfs.TempPrefix + "abc"}},
	} {
		tr := policy.Wrap(backend, policy.Rules{Hidden: c.hidden})
		var got []string
		for info, err := range tr.List(ctx, ".") {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, info.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.list) {
			t.Errorf("hidden=%v: list = %v, want %v", c.hidden, got, c.list)
		}
		for _, n := range c.seen {
			if _, err := tr.Stat(ctx, n); err != nil {
				t.Errorf("hidden=%v: %s not visible: %v", c.hidden, n, err)
			}
		}
		for _, n := range c.absent {
			if _, err := tr.Stat(ctx, n); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("hidden=%v: %s visible: %v", c.hidden, n, err)
			}
			if _, err := tr.Open(ctx, n); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("hidden=%v: %s opens: %v", c.hidden, n, err)
			}
			if err := tr.Remove(ctx, n); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("hidden=%v: %s removable: %v", c.hidden, n, err)
			}
			if _, err := tr.Stage(ctx, n, 1); err == nil {
				t.Errorf("hidden=%v: %s writable", c.hidden, n)
			}
		}
	}
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
		{rootfs.TempPrefix + "x", true, false},
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
		err := policy.Rules{Hidden: tc.hidden}.ValidateRelPath(tc.rel)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateRelPath(%q, %v) = %v, want ok=%v", tc.rel, tc.hidden, err, tc.ok)
		}
	}
}

// FuzzValidateRelPath checks that every accepted name is a local, clean,
// slash-separated path whose every component ferry could create safely.
func FuzzValidateRelPath(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../x", `..\x`, `C:\x`, "/etc/passwd", ".x", "a/./b", "a\x00", "é/ß", rootfs.TempPrefix + "1", "a\u202eb", "\u0085", "\xff"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, rel string, hidden bool) {
		if (policy.Rules{Hidden: hidden}).ValidateRelPath(rel) != nil {
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
			if strings.HasPrefix(c, rootfs.TempPrefix) {
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
