package e2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// filesSetup makes two folders with a file each, plus a neighbour that must
// stay unreachable.
func filesSetup(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"x/report.txt":    "report body\n",
		"x/neighbour.txt": "not shared\n",
		"y/photo.jpg":     strings.Repeat("p", 100_000),
		"y/r/report.txt":  "same name, other folder\n",
		"z/doc/inner.txt": "inner\n",
	})
	return dir
}

func TestFilesShareOnlyNamed(t *testing.T) {
	dir := filesSetup(t)
	p := Start(t, dir, "-p", "0", "x/report.txt", "y/photo.jpg", "z/doc")

	resp, body := Do(t, "GET", p.URL+"/?format=json", nil)
	var page struct {
		Entries []struct{ Name, Type string }
	}
	if err := json.Unmarshal(body, &page); err != nil || resp.StatusCode != 200 {
		t.Fatalf("listing: %d %v %s", resp.StatusCode, err, body)
	}
	var names []string
	for _, e := range page.Entries {
		names = append(names, e.Name+":"+e.Type)
	}
	if got := strings.Join(names, ","); got != "doc:dir,photo.jpg:file,report.txt:file" {
		t.Errorf("root lists %s", got)
	}

	cases := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/report.txt", 200, "report body\n"},
		{"GET", "/photo.jpg", 200, ""},
		{"GET", "/doc/inner.txt", 200, "inner\n"},
		{"GET", "/neighbour.txt", 404, ""},
		{"GET", "/x/report.txt", 404, ""},
		{"GET", "/x/", 404, ""},
		{"GET", "/y/r/report.txt", 404, ""},
		{"GET", "/report.txt/", 301, ""},
		{"PUT", "/new.txt", 405, ""},
		{"POST", "/", 405, ""},
		{"DELETE", "/report.txt", 405, ""},
	}
	for _, c := range cases {
		resp, body := Do(t, c.method, p.URL+c.path, strings.NewReader("data"))
		if resp.StatusCode != c.status || (c.body != "" && string(body) != c.body) {
			t.Errorf("%s %s: %d %q, want %d %q", c.method, c.path, resp.StatusCode, body, c.status, c.body)
		}
	}
	// "../" cannot climb out of the set.
	if out := RawRequest(t, "127.0.0.1:"+p.Port, "GET /%2e%2e/x/neighbour.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 5*time.Second); !strings.HasPrefix(out, "HTTP/1.1 400") {
		t.Errorf("encoded ..: %.40q", out)
	}

	// ?zip of / archives just the set, under files/.
	resp, body = Do(t, "GET", p.URL+"/?zip", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Disposition") != `attachment; filename="files.zip"` {
		t.Fatalf("?zip: %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	files, _ := unpackArchive(t, "zip", body)
	want := map[string]string{
		"files/report.txt":    sum("report body\n"),
		"files/photo.jpg":     sum(strings.Repeat("p", 100_000)),
		"files/doc/inner.txt": sum("inner\n"),
	}
	if len(files) != len(want) {
		t.Errorf("archive holds %v", files)
	}
	for k, v := range want {
		if files[k] != v {
			t.Errorf("archive: %s has %q, want %q", k, files[k], v)
		}
	}
	// The banner names each shared file.
	out := p.Stdout()
	for _, s := range []string{"serving 3 named files and folders (read-only)", "/report.txt\n", "/photo.jpg\n", "exposed: 3 files and 1 folder"} {
		if !strings.Contains(out, s) {
			t.Errorf("banner lacks %q:\n%s", s, out)
		}
	}
}

func TestFilesUsageErrors(t *testing.T) {
	dir := filesSetup(t)
	WriteFiles(t, dir, map[string]string{".secret": "s"})
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"same base name", []string{"x/report.txt", "y/r/report.txt"}, "two shared files are named report.txt"},
		{"writes", []string{"-w", "x/report.txt"}, "named files are shared read-only"},
		{"upload", []string{"--upload", "x/report.txt", "y/photo.jpg"}, "named files are shared read-only"},
		{"dotfile", []string{".secret"}, "add --hidden"},
		{"missing", []string{"x/report.txt", "nope.txt"}, "nope.txt: no such file"},
		{"bad rate", []string{"--limit-rate", "0", "x/report.txt"}, "--limit-rate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := Run(t, dir, 10*time.Second, append([]string{"-p", "0"}, c.args...)...)
			if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, stderr, c.want)
			}
		})
	}
}

// --once with files: HEAD, ranges and cut-short downloads do not count;
// parallel full downloads of one file do not finish the share while another
// is still to be fetched; the last one does.
func TestFilesOnce(t *testing.T) {
	dir := filesSetup(t)
	p := Start(t, dir, "-p", "0", "--once", "x/report.txt", "y/photo.jpg")

	Do(t, "HEAD", p.URL+"/photo.jpg", nil)
	Do(t, "GET", p.URL+"/photo.jpg", nil, "Range", "bytes=10-")
	Do(t, "GET", p.URL+"/photo.jpg", nil, "Range", "bytes=0-99")
	Do(t, "GET", p.URL+"/", nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(p.URL + "/report.txt")
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if code := p.Wait(700 * time.Millisecond); code != -1 {
		t.Fatalf("ferry exited (%d) before every file was downloaded", code)
	}
	if resp, body := Do(t, "GET", p.URL+"/photo.jpg", nil); resp.StatusCode != 200 || len(body) != 100_000 {
		t.Fatalf("photo: %d, %d bytes", resp.StatusCode, len(body))
	}
	if code := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d after every file was downloaded once", code)
	}
	if !strings.Contains(p.Stdout(), "every shared file was downloaded completely once; exiting as asked (--once)") {
		t.Errorf("no exit message:\n%s", p.Stdout())
	}
}

// A resumed download that completes a cut-short one counts for --once.
func TestFilesOnceResume(t *testing.T) {
	// Large enough that loopback socket buffers cannot take the whole body
	// before the hang-up, so the first download is surely cut short.
	const size = 16 << 20
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"y/photo.jpg": strings.Repeat("p", size)})
	p := Start(t, dir, "-p", "0", "--once", filepath.Join("y", "photo.jpg"))
	resp, err := http.Get(p.URL + "/photo.jpg")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	resp.Body.Read(buf)
	resp.Body.Close() // cut short: the rest is still in flight
	if !p.WaitOutput("cut short", 10*time.Second) {
		t.Fatalf("the first download was not logged as cut short:\n%s", p.Stdout())
	}
	if code := p.Wait(300 * time.Millisecond); code != -1 {
		t.Fatalf("exit %d after a cut-short download", code)
	}
	resp2, body := Do(t, "GET", p.URL+"/photo.jpg", nil, "Range", "bytes=50000-")
	if resp2.StatusCode != 206 || len(body) != size-50000 {
		t.Fatalf("resume: %d, %d bytes", resp2.StatusCode, len(body))
	}
	if code := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d after the resumed download completed", code)
	}
}

// With a folder, --once ends the share after the first complete download.
func TestDirOnce(t *testing.T) {
	dir := filesSetup(t)
	p := Start(t, dir, "-p", "0", "--once")
	Do(t, "HEAD", p.URL+"/x/report.txt", nil)
	Do(t, "GET", p.URL+"/x/", nil)
	if code := p.Wait(500 * time.Millisecond); code != -1 {
		t.Fatalf("exited (%d) on HEAD or a listing", code)
	}
	Do(t, "GET", p.URL+"/?tar", nil)
	if code := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(p.Stdout(), "(--once)") {
		t.Errorf("no --once exit message:\n%s", p.Stdout())
	}
}
