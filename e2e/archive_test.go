package e2e

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// archiveTree makes a tree with what must and must not end up in archives.
func archiveTree(t *testing.T) (dir string, want map[string]string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "share")
	files := map[string]string{
		"a.txt":                "alpha\n",
		"docs/b.md":            "# bravo\n",
		"docs/sub/c.jpg":       strings.Repeat("jpeg-ish", 5000),
		"docs/sub/deep/d.bin":  strings.Repeat("\x00\x01", 70000),
		"ünï cødé.txt":         "unicode\n",
		".env":                 "SECRET=1\n",
		"docs/.git/config":     "[core]\n",
		"docs/sub/.hidden.txt": "hidden\n",
	}
	WriteFiles(t, dir, files)
	outside := t.TempDir()
	WriteFiles(t, outside, map[string]string{"passwd": "root:x:0:0\n"})
	if err := os.Symlink(filepath.Join(outside, "passwd"), filepath.Join(dir, "docs", "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "outdir")); err != nil {
		t.Fatal(err)
	}
	want = map[string]string{}
	for name, body := range files {
		if strings.HasPrefix(name, ".") || strings.Contains(name, "/.") {
			continue
		}
		want[name] = sum(body)
	}
	return dir, want
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// unpackArchive reads an archive into name → sha256 for files, and the
// folder names; it fails on any unsafe name.
func unpackArchive(t *testing.T, format string, data []byte) (files map[string]string, dirs []string) {
	t.Helper()
	files = map[string]string{}
	check := func(name string) {
		if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") {
			t.Errorf("unsafe name %q", name)
		}
		for seg := range strings.SplitSeq(strings.TrimSuffix(name, "/"), "/") {
			if seg == ".." || seg == "." || seg == "" {
				t.Errorf("unsafe name %q (zip-slip)", name)
			}
		}
	}
	switch format {
	case "zip":
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("zip: %v", err)
		}
		for _, f := range zr.File {
			check(f.Name)
			if strings.HasSuffix(f.Name, "/") {
				dirs = append(dirs, f.Name)
				continue
			}
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			files[f.Name] = sum(string(b))
		}
	case "tar", "tar.gz":
		var r io.Reader = bytes.NewReader(data)
		if format == "tar.gz" {
			gz, err := gzip.NewReader(r)
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
				t.Fatalf("tar: %v", err)
			}
			check(h.Name)
			if h.Typeflag == tar.TypeDir {
				dirs = append(dirs, h.Name)
				continue
			}
			if h.Typeflag != tar.TypeReg {
				t.Errorf("%s: entry type %c", h.Name, h.Typeflag)
			}
			b, _ := io.ReadAll(tr)
			files[h.Name] = sum(string(b))
		}
	}
	sort.Strings(dirs)
	return files, dirs
}

func TestArchiveFormats(t *testing.T) {
	dir, want := archiveTree(t)
	p := Start(t, dir, "-p", "0")
	unzip, _ := exec.LookPath("unzip")
	tarCmd, _ := exec.LookPath("tar")
	cases := []struct {
		path, format, prefix, filename string
		subset                         string // only names under this folder of the tree
	}{
		{"/", "zip", "share/", "share.zip", ""},
		{"/", "tar", "share/", "share.tar", ""},
		{"/", "tar.gz", "share/", "share.tar.gz", ""},
		{"/docs/", "zip", "docs/", "docs.zip", "docs/"},
		{"/docs/sub/", "tar.gz", "sub/", "sub.tar.gz", "docs/sub/"},
	}
	for _, c := range cases {
		t.Run(c.path+"?"+c.format, func(t *testing.T) {
			resp, body := Do(t, "GET", p.URL+c.path+"?"+c.format, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="`+c.filename+`"` {
				t.Errorf("Content-Disposition %q", cd)
			}
			got, dirs := unpackArchive(t, c.format, body)
			exp := map[string]string{}
			for name, h := range want {
				if rest, ok := strings.CutPrefix(name, c.subset); ok {
					exp[c.prefix+rest] = h
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(exp) {
				t.Errorf("files in archive:\n got %v\nwant %v", got, exp)
			}
			for _, d := range dirs {
				if !strings.HasPrefix(d, c.prefix) || strings.Contains(d, "outdir") || strings.Contains(d, ".git") {
					t.Errorf("unexpected folder %q", d)
				}
			}
			// The system's tools must read it too.
			tmp := filepath.Join(t.TempDir(), c.filename)
			os.WriteFile(tmp, body, 0o644)
			if c.format == "zip" && unzip != "" {
				if out, err := exec.Command(unzip, "-t", tmp).CombinedOutput(); err != nil {
					t.Errorf("unzip -t: %v\n%s", err, out)
				}
			}
			if c.format != "zip" && tarCmd != "" {
				flag := "tf"
				if c.format == "tar.gz" {
					flag = "tzf"
				}
				if out, err := exec.Command(tarCmd, flag, tmp).CombinedOutput(); err != nil {
					t.Errorf("tar %s: %v\n%s", flag, err, out)
				}
			}
		})
	}

	// HEAD answers the headers without walking; dotfolders and outside
	// links have no archive either.
	if resp, body := Do(t, "HEAD", p.URL+"/docs/?zip", nil); resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Errorf("HEAD ?zip: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, path := range []string{"/docs/.git/?zip", "/outdir/?tar"} {
		if resp, _ := Do(t, "GET", p.URL+path, nil); resp.StatusCode != 404 {
			t.Errorf("%s: status %d, want 404", path, resp.StatusCode)
		}
	}
	// The page offers the download buttons: a GET form, which mirroring
	// tools leave alone (a link was, until issue 11).
	if _, page := Do(t, "GET", p.URL+"/docs/", nil, "Accept", "text/html"); !bytes.Contains(page, []byte(`name="zip" value=""`)) {
		t.Errorf("listing has no ?zip button")
	}
	// What the form submits: ?zip= and ?tar=, with an empty value.
	for format, ctype := range map[string]string{"zip": "application/zip", "tar": "application/x-tar"} {
		if resp, _ := Do(t, "GET", p.URL+"/docs/?"+format+"=", nil); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ctype {
			t.Errorf("?%s= (the button's request): %d %q", format, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

func TestArchiveHiddenAndFollow(t *testing.T) {
	dir, want := archiveTree(t)
	p := Start(t, dir, "-p", "0", "--hidden", "--follow-symlinks")
	_, body := Do(t, "GET", p.URL+"/?tar", nil)
	got, _ := unpackArchive(t, "tar", body)
	for _, name := range []string{"share/.env", "share/docs/.git/config", "share/docs/out", "share/outdir/passwd"} {
		if _, ok := got[name]; !ok {
			t.Errorf("%s missing with --hidden --follow-symlinks: %v", name, got)
		}
	}
	if len(got) != len(want)+5 {
		t.Errorf("%d files, want %d", len(got), len(want)+5)
	}
}

func TestArchiveNoListing(t *testing.T) {
	dir, _ := archiveTree(t)
	p := Start(t, dir, "-p", "0", "--no-listing")
	if resp, _ := Do(t, "GET", p.URL+"/?zip", nil); resp.StatusCode != 404 {
		t.Errorf("--no-listing: ?zip answered %d; an archive would list the folder", resp.StatusCode)
	}
}

// A whole archive download counts for --exit-after; a cut-short one does not.
func TestArchiveCountsForExitAfter(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"x/big.bin": strings.Repeat("z", 8<<20), "x/small.txt": "s"})
	p := Start(t, dir, "-p", "0", "--exit-after", "1", "--limit-rate", "1M")
	// Cut short: read a little, then hang up.
	resp, err := http.Get(p.URL + "/x/?tar")
	if err != nil {
		t.Fatal(err)
	}
	io.CopyN(io.Discard, resp.Body, 1000)
	resp.Body.Close()
	if code := p.Wait(1500 * time.Millisecond); code != -1 {
		t.Fatalf("ferry exited (%d) after a cut-short archive", code)
	}
	resp2, body := Do(t, "GET", p.URL+"/?zip", nil)
	_ = resp2
	if len(body) < 8<<10 {
		t.Fatalf("archive of %d bytes", len(body))
	}
	if code := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("ferry did not exit after a complete archive (code %d)\n%s", code, p.Stdout())
	}
}

// peakRSS reads the high-water mark of a process's resident memory, in KiB.
func peakRSS(t *testing.T, pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return n
		}
	}
	t.Skip("no VmHWM")
	return 0
}

// TestArchiveMemoryFlat streams a tree of sparse files much larger than the
// memory ferry may use and checks the peak resident size. The default run
// uses 512 MiB (tar) and 128 MiB (zip); FERRY_BIG=1 uses 10 GiB and 4 GiB.
func TestArchiveMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams a GiB")
	}
	total, zipTotal := int64(512<<20), int64(128<<20)
	if os.Getenv("FERRY_BIG") == "1" {
		total, zipTotal = 10<<30, 4<<30
	}
	dir := t.TempDir()
	mk := func(sub string, size int64) {
		os.MkdirAll(filepath.Join(dir, sub), 0o755)
		const n = 8
		for i := range n {
			f, err := os.Create(filepath.Join(dir, sub, fmt.Sprintf("sparse%d.bin", i)))
			if err != nil {
				t.Fatal(err)
			}
			f.Truncate(size / n) // sparse: no disk used
			f.Close()
		}
		for i := range 500 {
			os.WriteFile(filepath.Join(dir, sub, fmt.Sprintf("small%04d.txt", i)), []byte(strings.Repeat("x", i)), 0o644)
		}
	}
	mk("tar", total)
	mk("zip", zipTotal)
	p := Start(t, dir, "-p", "0", "-q")
	pid := p.cmd.Process.Pid
	base := peakRSS(t, pid)
	for _, c := range []struct {
		path string
		size int64
	}{{"/tar/?tar", total}, {"/zip/?zip", zipTotal}} {
		start := time.Now()
		resp, err := http.Get(p.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		// Zeros deflate to almost nothing, so only the tar's size is known.
		if err != nil || (strings.HasSuffix(c.path, "tar") && n < c.size) || n == 0 {
			t.Fatalf("%s: %d bytes, %v", c.path, n, err)
		}
		peak := peakRSS(t, pid)
		el := time.Since(start)
		t.Logf("%s: %.2f GiB of files (%d MiB on the wire) in %s; ferry peak RSS %d MiB (at start %d MiB)",
			c.path, float64(c.size)/(1<<30), n>>20, el.Round(time.Millisecond), peak>>10, base>>10)
		if peak > 120<<10 {
			t.Errorf("%s: peak RSS %d MiB: archive not streamed flat", c.path, peak>>10)
		}
	}
}
