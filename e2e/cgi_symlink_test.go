package e2e

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A symlink outside a CGI folder that leads into one (to a script, to the
// folder itself, relative or absolute) never hands out a script's source:
// not by GET, HEAD, Range, ?hash or ?preview, not in an archive of the
// folder holding the link, not by COPY or MOVE (nor does anything go into
// the folder that way); with and without --follow-symlinks.
// Such a name answers as the CGI folder's own files do (403), archives
// leave it out, and everything else around it is served as before.
func TestCGISymlinkIntoFolder(t *testing.T) {
	NeedCommand(t, "sh")
	script := "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\napp ran\\n'\n# SECRET-SOURCE password=hunter2\n"
	sum := sha256.Sum256([]byte(script))
	reads := []string{"/pub/peek.sh", "/pub/notes.md", "/pub/bin/app.sh", "/pub/bin/notes.md", "/pub/abs.sh",
		"/pub/absbin/app.sh", "/pub/top/cgi-bin/app.sh", "/pub/deep"}
	// The names of pub/ that lead into cgi-bin, which archives leave out;
	// pub/top is the whole tree, and only its cgi-bin/ stays empty.
	hidden := []string{"peek.sh", "notes.md", "bin", "abs.sh", "absbin", "deep"}

	for _, mode := range []struct {
		name string
		args []string
	}{
		{"in-tree links", nil},
		{"--follow-symlinks", []string{"--follow-symlinks"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "served")
			writeScripts(t, dir, map[string]string{"cgi-bin/app.sh": script})
			WriteFiles(t, dir, map[string]string{
				"cgi-bin/notes.md": "# SECRET-SOURCE notes\n",
				"pub/free.txt":     "free",
			})
			links := map[string]string{
				"pub/peek.sh":  "../cgi-bin/app.sh",                          // relative, to a script
				"pub/notes.md": "../cgi-bin/notes.md",                        // relative, to a file that is no script
				"pub/bin":      "../cgi-bin",                                 // the CGI folder itself
				"pub/abs.sh":   filepath.Join(dir, "cgi-bin", "app.sh"),      // absolute, into the tree
				"pub/absbin":   filepath.Join(dir, "cgi-bin"),                // absolute, the folder
				"pub/top":      "..",                                         // the root: pub/top/cgi-bin is cgi-bin
				"pub/deep":     filepath.Join(dir, "pub", "bin", "notes.md"), // a link through a link
			}
			for link, target := range links {
				if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
					t.Fatal(err)
				}
			}
			p := Start(t, dir, append([]string{"-p", "0", "-b", "127.0.0.1", "--cgi", "-w"}, mode.args...)...)
			leaks := func(what string, b []byte) {
				t.Helper()
				if bytes.Contains(b, []byte("SECRET-SOURCE")) || bytes.Contains(b, []byte(hex.EncodeToString(sum[:]))) {
					t.Errorf("%s hands out a CGI folder's file: %q", what, b)
				}
			}
			for _, path := range reads {
				for _, req := range []struct {
					method, query string
					hdr           []string
				}{
					{"GET", "", nil},
					{"HEAD", "", nil},
					{"GET", "", []string{"Range", "bytes=0-20"}},
					{"GET", "?hash=sha256", nil},
					{"GET", "?preview", nil},
				} {
					what := req.method + " " + path + req.query + " " + strings.Join(req.hdr, " ")
					resp, b := Do(t, req.method, p.URL+path+req.query, nil, req.hdr...)
					// ?preview refuses a script by its name alone (415).
					ok := resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusNotFound ||
						req.query == "?preview" && resp.StatusCode == http.StatusUnsupportedMediaType
					if !ok {
						t.Errorf("%s: %d, want 403 or 404", what, resp.StatusCode)
					}
					leaks(what, b)
				}
			}
			// The CGI folder's own script still runs; ordinary files are served.
			if resp, b := Do(t, "GET", p.URL+"/cgi-bin/app.sh", nil); resp.StatusCode != 200 || string(b) != "app ran\n" {
				t.Errorf("GET /cgi-bin/app.sh: %d %q", resp.StatusCode, b)
			}
			if resp, b := Do(t, "GET", p.URL+"/pub/free.txt", nil); resp.StatusCode != 200 || string(b) != "free" {
				t.Errorf("GET /pub/free.txt: %d %q", resp.StatusCode, b)
			}

			for _, q := range []string{"/pub/?zip", "/pub/?tar", "/?zip", "/?tar"} {
				resp, b := Do(t, "GET", p.URL+q, nil)
				if resp.StatusCode != 200 {
					t.Errorf("GET %s: %d", q, resp.StatusCode)
					continue
				}
				names := archiveEntries(t, q, b, leaks)
				// Names start with the archived folder's own ("served/pub/x",
				// "pub/x"): what follows pub/ is what the check is about.
				free := false
				for n := range names {
					_, rel, ok := strings.Cut(n, "pub/")
					if !ok {
						continue
					}
					free = free || rel == "free.txt"
					first, _, _ := strings.Cut(rel, "/")
					if slices.Contains(hidden, first) || strings.Contains(rel, "cgi-bin/") && !strings.HasSuffix(rel, "cgi-bin/") {
						t.Errorf("%s holds %s, a link into a CGI folder", q, n)
					}
				}
				if !free {
					t.Errorf("%s lacks pub/free.txt: %v", q, names)
				}
			}

			// COPY reads through a link; MOVE renames the last link itself but
			// follows those on the way, out of cgi-bin or into it.
			for i, c := range []struct{ method, src, dst string }{
				{"COPY", "/pub/peek.sh", ""},
				{"COPY", "/pub/bin", ""},
				{"COPY", "/pub/abs.sh", ""},
				{"COPY", "/pub/absbin", ""},
				{"COPY", "/pub/top/cgi-bin", ""},
				{"COPY", "/pub/top", ""}, // the whole tree, cgi-bin with it
				{"COPY", "/pub/deep", ""},
				{"MOVE", "/pub/top/cgi-bin", ""},
				{"MOVE", "/pub/bin/app.sh", ""},
				{"MOVE", "/pub/free.txt", "/pub/bin/free.txt"},
				{"COPY", "/pub/free.txt", "/pub/top/cgi-bin/free.txt"},
			} {
				if c.dst == "" {
					c.dst = "/stolen" + string(rune('a'+i))
				}
				resp, _ := Do(t, c.method, p.URL+c.src, nil, "Destination", p.URL+c.dst)
				if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
					t.Errorf("%s %s to %s: %d, want 403 or 404", c.method, c.src, c.dst, resp.StatusCode)
				}
			}
			for _, n := range []string{"cgi-bin/app.sh", "pub/free.txt"} {
				if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
					t.Errorf("%s was moved: %v", n, err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "cgi-bin", "free.txt")); err == nil {
				t.Error("a file was put in cgi-bin through a link")
			}
			// Whatever was answered, no file outside the CGI folder now holds
			// a script's text.
			filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() && d.Name() == "cgi-bin" {
					return filepath.SkipDir
				}
				if d.Type().IsRegular() {
					if b, _ := os.ReadFile(path); bytes.Contains(b, []byte("SECRET-SOURCE")) {
						t.Errorf("%s holds a CGI folder's file", path)
					}
				}
				return nil
			})
		})
	}
}

// archiveEntries reads a zip or tar body, hands every entry's content to
// check, and returns the entry names.
func archiveEntries(t *testing.T, q string, b []byte, check func(string, []byte)) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	if strings.HasSuffix(q, "zip") {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for _, f := range zr.File {
			names[f.Name] = true
			rc, err := f.Open()
			if err != nil {
				t.Fatalf("%s %s: %v", q, f.Name, err)
			}
			data, _ := io.ReadAll(rc)
			rc.Close()
			check(q+" "+f.Name, data)
		}
		return names
	}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		names[h.Name] = true
		data, _ := io.ReadAll(tr)
		check(q+" "+h.Name, data)
	}
}
