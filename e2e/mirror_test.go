package e2e

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mirrorTree is a nested tree of a few folders, with names that need
// escaping, and enough bytes that listing pages are small beside them.
func mirrorTree(t *testing.T) (dir string, files map[string][]byte, dirs []string) {
	dir = t.TempDir()
	files = map[string][]byte{
		"readme.txt":                 []byte("read me\n"),
		"big.bin":                    randomBytes(t, 1<<20),
		"a&b.txt":                    []byte("ampersand\n"),
		"docs/guide  two spaces.md":  []byte("# guide\n"),
		"docs/été.txt":               []byte("accents\n"),
		"docs/img/photo.jpg":         randomBytes(t, 300<<10),
		"docs/img/deep/more/x.dat":   randomBytes(t, 200<<10),
		"data/sub/y.csv":             []byte("a,b\n1,2\n"),
		"data/sub/z.bin":             randomBytes(t, 100<<10),
		"data/name with # and %.txt": []byte("odd\n"),
	}
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dirs = []string{"", "docs", "docs/img", "docs/img/deep", "docs/img/deep/more", "data", "data/sub"}
	return dir, files, dirs
}

// localTree lists the regular files under root, relative, with their bytes.
func localTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	got := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			t.Errorf("%s is not a regular file", p)
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		got[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// sameTree checks that got holds exactly want, byte for byte.
func sameTree(t *testing.T, tool string, got, want map[string][]byte) {
	t.Helper()
	for name, b := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: %s missing from the mirror", tool, name)
		case !bytes.Equal(g, b):
			t.Errorf("%s: %s differs: %d bytes (sha256 %s), want %d bytes (sha256 %s)", tool, name, len(g), sha(g), len(b), sha(b))
		}
	}
	var extra []string
	for name := range got {
		if _, ok := want[name]; !ok {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	if len(extra) > 0 {
		t.Errorf("%s: the mirror holds what was not shared: %q", tool, extra)
	}
}

// toolEnv is the environment for a client: no proxy, so loopback is reached
// directly whatever the machine's settings.
func toolEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasSuffix(strings.ToLower(k), "_proxy") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// wgetLine is one retrieval in wget -nv output: URL, then [bytes] or
// [bytes/total].
var wgetLine = regexp.MustCompile(`URL: ?(\S+) \[(\d+)(?:/\d+)?\]`)

// TestMirror copies a share with wget -r -np and lftp's mirror, as people
// copy a python -m http.server share, and checks that the copy is exactly
// the shared files: nothing of ferry's own (assets, QR codes), no archive or
// sorted variant of a listing, exit status 0 (issue 11).
func TestMirror(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		start string // folder the mirror starts from
	}{
		{"read-only", nil, ""},
		{"writable", []string{"-w"}, ""},
		{"subfolder", nil, "docs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, files, dirs := mirrorTree(t)
			p := Start(t, root, append([]string{"-p", "0", "-b", "127.0.0.1"}, c.args...)...)
			url := p.URL + "/"
			prefix := ""
			if c.start != "" {
				url += c.start + "/"
				prefix = c.start + "/"
			}
			want := map[string][]byte{}
			var treeBytes int
			for name, b := range files {
				if rest, ok := strings.CutPrefix(name, prefix); ok {
					want[rest] = b
					treeBytes += len(b)
				}
			}
			var folders []string
			for _, d := range dirs {
				if d+"/" == prefix || strings.HasPrefix(d+"/", prefix) {
					folders = append(folders, strings.TrimPrefix(strings.TrimPrefix(d+"/", prefix), "/"))
				}
			}

			t.Run("wget", func(t *testing.T) {
				wget := NeedCommand(t, "wget")
				out := t.TempDir()
				args := []string{"-r", "-np", "-nH", "-nv", "-P", out}
				if c.start != "" {
					args = append(args, "--cut-dirs="+strconv.Itoa(strings.Count(prefix, "/")))
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, wget, append(args, url)...)
				cmd.Env = toolEnv()
				log, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("wget: %v\n%s", err, log)
				}
				// wget keeps the listing pages it read, as index.html, as
				// it does for python -m http.server: one per folder.
				wantW := map[string][]byte{}
				for k, v := range want {
					wantW[k] = v
				}
				got := localTree(t, out)
				for _, f := range folders {
					name := f + "index.html"
					if b, ok := got[name]; ok {
						wantW[name] = b
					} else {
						t.Errorf("wget: no listing saved for %q", f)
					}
				}
				sameTree(t, "wget", got, wantW)

				// What went over the wire: each file and listing once,
				// nothing else; in bytes, the tree and a little.
				var n, fetched int
				var urls []string
				for _, m := range wgetLine.FindAllStringSubmatch(string(log), -1) {
					b, _ := strconv.Atoi(m[2])
					n++
					fetched += b
					urls = append(urls, m[1])
				}
				if n != len(want)+len(folders) {
					t.Errorf("wget made %d retrievals, want %d (%d files, %d listings):\n%s", n, len(want)+len(folders), len(want), len(folders), strings.Join(urls, "\n"))
				}
				if limit := treeBytes + len(folders)*32<<10; fetched > limit {
					t.Errorf("wget fetched %d bytes for a tree of %d (limit %d)", fetched, treeBytes, limit)
				}
				t.Logf("wget fetched %d bytes in %d retrievals for %d files of %d bytes in %d folders (%.2fx)",
					fetched, n, len(want), treeBytes, len(folders), float64(fetched)/float64(treeBytes))
			})

			t.Run("lftp", func(t *testing.T) {
				lftp := NeedCommand(t, "lftp")
				out := filepath.Join(t.TempDir(), "copy")
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				// Retries and timeouts bounded, so a failure ends the test
				// instead of waiting; mirror itself runs as people run it.
				script := "set net:max-retries 2; set net:timeout 10; set net:reconnect-interval-base 1; mirror " + url + " " + out
				cmd := exec.CommandContext(ctx, lftp, "-c", script)
				cmd.Env = toolEnv()
				log, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("lftp mirror: %v\n%s", err, log)
				}
				sameTree(t, "lftp", localTree(t, out), want)
			})
		})
	}
}
