package rootfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseURLPath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		name string
		dir  bool
		bad  bool
	}{
		{in: "/", name: ".", dir: true},
		{in: "//", name: ".", dir: true},
		{in: "/./", name: ".", dir: true},
		{in: "/a.txt", name: "a.txt"},
		{in: "/a/b/", name: "a/b", dir: true},
		{in: "//a//b", name: "a/b"},
		{in: "/./a/./b/.", name: "a/b"},
		{in: "/sp%20ace", name: "sp ace"},
		{in: "/%41", name: "A"},
		{in: "/%252e%252e", name: "%2e%2e"}, // decoded once only
		{in: "/%c3%bc", name: "ü"},
		{in: "/a%3Fb", name: "a?b"},
		{in: "/...", name: "..."},
		{in: "/..a", name: "..a"},
		{in: "/a..", name: "a.."},
		{in: "/%2e", name: ".", dir: true},
		{in: "/%2e/a", name: "a"},
		{in: "/..", bad: true},
		{in: "/../", bad: true},
		{in: "/a/../b", bad: true},
		{in: "/%2e%2e", bad: true},
		{in: "/%2E%2E/", bad: true},
		{in: "/.%2e/x", bad: true},
		{in: "/%2e./x", bad: true},
		{in: "/a%2fb", bad: true},
		{in: "/a%2Fb", bad: true},
		{in: "/..%2fx", bad: true},
		{in: "/a\\b", bad: true},
		{in: "/..\\x", bad: true},
		{in: "/a%5cb", bad: true},
		{in: "/a%00b", bad: true},
		{in: "/a\x00b", bad: true},
		{in: "/%zz", bad: true},
		{in: "/%", bad: true},
		{in: "", bad: true},
		{in: "a", bad: true},
		{in: "*", bad: true},
		{in: "http://x/a", bad: true},
	} {
		name, dir, err := ParseURLPath(tc.in)
		if tc.bad {
			if !errors.Is(err, ErrBadPath) {
				t.Errorf("ParseURLPath(%q) = %q, %v; want ErrBadPath", tc.in, name, err)
			}
			continue
		}
		if err != nil || name != tc.name || dir != tc.dir {
			t.Errorf("ParseURLPath(%q) = %q, %v, %v; want %q, %v", tc.in, name, dir, err, tc.name, tc.dir)
		}
	}
}

// ParseNewURLPath refuses, rather than drops, the empty and "." components
// a name to create may not have (issue 11 item 16), and still tells a path
// that is bad for every method (ErrBadPath) from one that is only a bad name.
func TestParseNewURLPath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		name string
		dir  bool
		err  error
	}{
		{in: "/", name: ".", dir: true},
		{in: "/a.txt", name: "a.txt"},
		{in: "/a/b/", name: "a/b", dir: true},
		{in: "/sp%20ace/%c3%bc", name: "sp ace/ü"},
		{in: "/...", name: "..."},
		{in: "/a//b.txt", err: ErrBadName},
		{in: "//a", err: ErrBadName},
		{in: "//", err: ErrBadName},
		{in: "/a//", err: ErrBadName},
		{in: "/./x.txt", err: ErrBadName},
		{in: "/sub/./x.txt", err: ErrBadName},
		{in: "/sub/.", err: ErrBadName},
		{in: "/./", err: ErrBadName},
		{in: "/%2e/x", err: ErrBadName},
		{in: "/a/%2E", err: ErrBadName},
		{in: "/.//../x", err: ErrBadPath},
		{in: "/a//%2e%2e/x", err: ErrBadPath},
		{in: "/a%2fb", err: ErrBadPath},
		{in: "", err: ErrBadPath},
	} {
		name, dir, err := ParseNewURLPath(tc.in)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("ParseNewURLPath(%q) = %q, %v; want %v", tc.in, name, err, tc.err)
			}
			continue
		}
		if err != nil || name != tc.name || dir != tc.dir {
			t.Errorf("ParseNewURLPath(%q) = %q, %v, %v; want %q, %v", tc.in, name, dir, err, tc.name, tc.dir)
		}
	}
}

// FuzzParseURLPathPlain covers the brief's property for paths without
// escapes: the name's components are exactly the input's non-empty, non-"."
// components, and nothing with a "..", backslash or NUL is accepted.
func FuzzParseURLPathPlain(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "//a/./b/", "/../a", "/a\\b", "/a\x00", "/...", "/ü/ä"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if strings.Contains(in, "%") {
			return
		}
		name, _, err := ParseURLPath(in)
		var want []string
		hasBad := false
		if strings.HasPrefix(in, "/") {
			for seg := range strings.SplitSeq(in[1:], "/") {
				switch {
				case seg == "" || seg == ".":
				case seg == ".." || strings.ContainsAny(seg, "\\\x00"):
					hasBad = true
				default:
					want = append(want, seg)
				}
			}
		}
		if !strings.HasPrefix(in, "/") || hasBad {
			if err == nil {
				t.Fatalf("ParseURLPath(%q) = %q, want an error", in, name)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseURLPath(%q): %v", in, err)
		}
		got := strings.Split(name, "/")
		if name == "." {
			got = nil
		}
		if !slices.Equal(got, want) {
			t.Fatalf("ParseURLPath(%q) = %q, want components %q", in, name, want)
		}
	})
}

func BenchmarkParseURLPath(b *testing.B) {
	for _, in := range []string{"/", "/docs/reports/2024/q3-summary.pdf", "/sp%20ace/%C3%BCber/file%20name.txt"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ParseURLPath(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestOpenPolicy(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "root")
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(parent, "outside.txt"), []byte("out"), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "in.txt"), []byte("in"), 0o644)
	os.WriteFile(filepath.Join(dir, ".env"), []byte("dot"), 0o644)
	os.WriteFile(filepath.Join(dir, TempPrefix+"x"), []byte("partial"), 0o644)
	os.Symlink("../outside.txt", filepath.Join(dir, "out-link"))
	os.Symlink(filepath.Join(parent, "outside.txt"), filepath.Join(dir, "abs-out"))
	os.Symlink("sub/in.txt", filepath.Join(dir, "in-link"))
	fifo := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644) == nil

	cases := []struct {
		policy Policy
		name   string
		ok     bool
	}{
		{Policy{}, "sub/in.txt", true},
		{Policy{}, "in-link", true},
		// Which names clients see is the policy layer's to say
		// (internal/storage/policy): rootfs opens them all.
		{Policy{}, ".env", true},
		{Policy{}, TempPrefix + "x", true},
		{Policy{}, "out-link", false},
		{Policy{}, "abs-out", false},
		{Policy{FollowSymlinks: true}, "out-link", true},
		{Policy{FollowSymlinks: true}, "abs-out", true},
		{Policy{FollowSymlinks: true}, "missing", false},
		{Policy{}, "pipe", false},
		{Policy{FollowSymlinks: true}, "pipe", false},
	}
	for _, tc := range cases {
		if tc.name == "pipe" && !fifo {
			continue
		}
		fsys, err := Open(dir, tc.policy)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			f, _, err := fsys.Open(tc.name)
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err = <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("%+v Open(%q) hangs", tc.policy, tc.name)
		}
		if (err == nil) != tc.ok {
			t.Errorf("%+v Open(%q) = %v, want ok=%v", tc.policy, tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%+v Open(%q) = %v, want ErrNotExist (refusals look absent)", tc.policy, tc.name, err)
		}
		if f, err := fsys.root.Open("."); err == nil {
			entries, _ := fsys.ReadDir(f, ".")
			f.Close()
			var listed []string
			for _, e := range entries {
				listed = append(listed, e.Name)
			}
			if tc.name != "sub/in.txt" && slices.Contains(listed, tc.name) != tc.ok {
				t.Errorf("%+v ReadDir lists %v; %q should be listed: %v", tc.policy, listed, tc.name, tc.ok)
			}
		}
		fsys.Close()
	}
}

func TestWithheld(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"cgi-bin/s.sh", "tools/run/s.sh", "tools/notes.txt", "cgi-binx/a.txt"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(n)), 0o755)
		os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755)
	}
	fsys, err := Open(dir, Policy{Withheld: []string{"cgi-bin", "tools/run"}})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	for name, withheld := range map[string]bool{
		"cgi-bin": true, "cgi-bin/s.sh": true, "CGI-BIN/S.SH": true, "tools/run": true, "tools/run/s.sh": true,
		"tools/RUN/s.sh": true, ".": false, "tools": false, "tools/notes.txt": false, "cgi-binx/a.txt": false, "cgi-binx": false,
	} {
		if got := fsys.Withheld(name); got != withheld {
			t.Errorf("Withheld(%q) = %v", name, got)
		}
		if strings.ToLower(name) != name {
			continue // the disk here may be case-sensitive
		}
		f, _, err := fsys.Open(name)
		if err == nil {
			f.Close()
		}
		if withheld && !errors.Is(err, fs.ErrPermission) || !withheld && err != nil {
			t.Errorf("Open(%q) = %v, withheld %v", name, err, withheld)
		}
	}
	for name, want := range map[string]bool{".": true, "tools": true, "tools/run/s.sh": true, "cgi-bin": true,
		"tools/notes.txt": false, "cgi-binx": false} {
		if got := fsys.EnclosesWithheld(name); got != want {
			t.Errorf("EnclosesWithheld(%q) = %v", name, got)
		}
	}
	// An archive's walk opens members through OpenIn: the same refusal.
	d, err := fsys.root.Open("tools")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, _, err := fsys.OpenIn(d, "tools", "run"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("OpenIn(tools, run) = %v", err)
	}
}

// A name elsewhere in the tree whose symlinks lead into a withheld folder is
// withheld too; the same links without withheld folders open as before.
func TestWithheldThroughLinks(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"cgi-bin/s.sh", "pub/free.txt"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(n)), 0o755)
		os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755)
	}
	for link, target := range map[string]string{
		"pub/peek": "../cgi-bin/s.sh", "pub/bin": "../cgi-bin", "pub/top": "..",
		"pub/abs": filepath.Join(dir, "cgi-bin", "s.sh"), "pub/self": "free.txt",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	for _, follow := range []bool{false, true} {
		for _, withheld := range [][]string{nil, {"cgi-bin"}} {
			fsys, err := Open(dir, Policy{FollowSymlinks: follow, Withheld: withheld})
			if err != nil {
				t.Fatal(err)
			}
			for name, held := range map[string]bool{"pub/peek": true, "pub/bin": true, "pub/bin/s.sh": true,
				"pub/top/cgi-bin/s.sh": true, "pub/abs": true, "pub/top": false, "pub/self": false, "pub/free.txt": false} {
				f, _, err := fsys.Open(name)
				if err == nil {
					f.Close()
				}
				if withheld != nil && held != errors.Is(err, fs.ErrPermission) || (withheld == nil || !held) && err != nil {
					t.Errorf("follow %v, withheld %v: Open(%q) = %v", follow, withheld, name, err)
				}
			}
			// An archive's walk through pub/top reaches cgi-bin by OpenIn.
			top, _, err := fsys.Open("pub/top")
			if err != nil {
				t.Fatal(err)
			}
			f, _, err := fsys.OpenIn(top, "pub/top", "cgi-bin")
			if err == nil {
				f.Close()
			}
			if withheld != nil && !errors.Is(err, fs.ErrPermission) || withheld == nil && err != nil {
				t.Errorf("follow %v, withheld %v: OpenIn(pub/top, cgi-bin) = %v", follow, withheld, err)
			}
			top.Close()
			for _, c := range []struct {
				name   string
				follow bool
				want   bool
			}{
				{"pub/bin", true, true}, {"pub/bin", false, false}, {"pub/top", true, true}, {"pub/top", false, false},
				{"pub/top/cgi-bin", false, true}, {"pub/bin/new", false, true}, {"pub/abs", true, true},
				{"pub/free.txt", true, false}, {"pub/new", false, false},
			} {
				if got := fsys.ReachesWithheld(c.name, c.follow); got != (c.want && withheld != nil) {
					t.Errorf("withheld %v: ReachesWithheld(%q, %v) = %v", withheld, c.name, c.follow, got)
				}
			}
			fsys.Close()
		}
	}
}
