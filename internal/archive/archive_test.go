package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage/local"
	pol "github.com/ferry-sh/ferry/internal/storage/policy"
)

func tree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"a.txt": "alpha", "docs/b.md": "bravo", "docs/sub/c.jpg": "charlie",
		".env": "secret", "docs/.git/config": "x", "docs/" + rootfs.TempPrefix + "1": "partial",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "o.txt"), []byte("outside"), 0o644)
	os.Symlink(outside, filepath.Join(dir, "docs", "out"))
	os.Symlink("..", filepath.Join(dir, "docs", "sub", "loop"))
	return dir
}

func TestWriteFormats(t *testing.T) {
	dir := tree(t)
	want := []string{"t/", "t/a.txt", "t/docs/", "t/docs/b.md", "t/docs/sub/", "t/docs/sub/c.jpg"}
	for _, policy := range []rootfs.Policy{{}, {FollowSymlinks: true}} {
		fsys, err := local.Open(dir, policy)
		if err != nil {
			t.Fatal(err)
		}
		defer fsys.Close()
		for _, format := range Formats {
			var buf bytes.Buffer
			if err := Write(context.Background(), &buf, format, "", []Source{{Tree: pol.Wrap(fsys, pol.Rules{}), Path: ".", Name: "t"}}); err != nil {
				t.Fatal(err)
			}
			names, bodies := unpack(t, format, buf.Bytes())
			if !policy.FollowSymlinks && strings.Join(names, ",") != strings.Join(want, ",") {
				t.Errorf("%s: names %v, want %v", format, names, want)
			}
			if policy.FollowSymlinks && bodies["t/docs/out/o.txt"] != "outside" {
				t.Errorf("%s: --follow-symlinks: outside link not followed: %v", format, names)
			}
			if bodies["t/docs/sub/c.jpg"] != "charlie" || bodies["t/a.txt"] != "alpha" {
				t.Errorf("%s: bodies %v", format, bodies)
			}
			for _, n := range names {
				if strings.Contains(n, ".env") || strings.Contains(n, ".git") || strings.Contains(n, rootfs.TempPrefix) {
					t.Errorf("%s: hidden name %q in archive", format, n)
				}
				if strings.Count(n, "loop") > 1 {
					t.Errorf("%s: symlink loop followed: %q", format, n)
				}
			}
		}
	}
}

func unpack(t *testing.T, format string, data []byte) ([]string, map[string]string) {
	t.Helper()
	var names []string
	bodies := map[string]string{}
	switch format {
	case "zip":
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			names = append(names, f.Name)
			rc, _ := f.Open()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			bodies[f.Name] = string(b)
		}
	default:
		var r io.Reader = bytes.NewReader(data)
		if format == "tar.gz" {
			gz, err := gzipReader(r)
			if err != nil {
				t.Fatal(err)
			}
			r = gz
		}
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, h.Name)
			b, _ := io.ReadAll(tr)
			bodies[h.Name] = string(b)
		}
	}
	sort.Strings(names)
	return names, bodies
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"": "_", ".": "_", "..": "_", "a/b": "a_b", `a\b`: "a_b", "x\ny": "x_y", "ok.txt": "ok.txt",
	} {
		if got := CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"docs.zip", `attachment; filename="docs.zip"`},
		{`a"b.zip`, `attachment; filename="a_b.zip"; filename*=UTF-8''a%22b.zip`},
		{"x\r\nSet-Cookie: y.zip", `attachment; filename="xSet-Cookie: y.zip"`},
		{"日本.zip", `attachment; filename="__.zip"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.zip`},
	} {
		if got := ContentDisposition(c.in); got != c.want {
			t.Errorf("ContentDisposition(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzContentDisposition(f *testing.F) {
	for _, s := range []string{"a.zip", "日本.zip", "a\"b\\c\r\n.zip", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		v := ContentDisposition(name)
		if strings.ContainsAny(v, "\r\n\x00") {
			t.Fatalf("header value %q has a control character", v)
		}
		if strings.Count(v, `"`) != 2 {
			t.Fatalf("header value %q: quotes not balanced", v)
		}
	})
}

func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"a", "..", "a/../b", "/etc", `C:\x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		c := CleanName(name)
		if c == "" || c == "." || c == ".." || strings.ContainsAny(c, "/\\") {
			t.Fatalf("CleanName(%q) = %q", name, c)
		}
	})
}

func gzipReader(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }
