package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The temp-file prefix rootfs hides; a leftover one is a failed cleanup.
const wrTempPrefix = ".ferry-part-"

// wrServed makes a served folder inside a parent that holds a canary file,
// so a test can see any write that escapes.
func wrServed(t *testing.T) (served, parent string) {
	t.Helper()
	parent = t.TempDir()
	served = filepath.Join(parent, "served")
	if err := os.Mkdir(served, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, "canary"), []byte("canary"), 0o644); err != nil {
		t.Fatal(err)
	}
	return served, parent
}

// wrTree lists everything under dir, temporary files included, sorted.
func wrTree(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			if d.IsDir() {
				rel += "/"
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

func wrSHA(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func wrRandom(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func wrAddr(p *Proc) string { return strings.TrimPrefix(p.URL, "http://") }

// wrPart is one multipart part; filename is written raw into
// Content-Disposition (as a browser would), not escaped by Go.
type wrPart struct {
	field, filename string
	file            bool
	data            []byte
}

func wrMultipart(parts ...wrPart) ([]byte, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + p.field + `"`
		if p.file {
			cd += `; filename="` + p.filename + `"`
			h.Set("Content-Type", "application/octet-stream")
		}
		h.Set("Content-Disposition", cd)
		pw, _ := mw.CreatePart(h)
		pw.Write(p.data)
	}
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

func wrFile(name string, data []byte) wrPart {
	return wrPart{field: "file", filename: name, file: true, data: data}
}

// wrNoTemps polls briefly until no temporary file is left under dir.
func wrNoTemps(t *testing.T, dir string) []string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		got := wrTree(t, dir)
		if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, wrTempPrefix) }) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWriteCurlMultipart(t *testing.T) {
	curl := NeedCommand(t, "curl")
	dir := t.TempDir()
	src := t.TempDir()
	big := wrRandom(t, 3<<20+17)
	small := []byte("hello, ferry\n")
	os.WriteFile(filepath.Join(src, "big.bin"), big, 0o644)
	os.WriteFile(filepath.Join(src, "small.txt"), small, 0o644)
	p := Start(t, dir, "-p", "0", "--upload")
	out, err := exec.Command(curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}",
		"-F", "a=@"+filepath.Join(src, "big.bin"),
		"-F", "b=@"+filepath.Join(src, "small.txt"),
		"-F", "empty=@/dev/null;filename=", // an empty file input is ignored
		p.URL+"/").CombinedOutput()
	if err != nil || string(out) != "201" {
		t.Fatalf("curl -F: %v %s", err, out)
	}
	for name, want := range map[string][]byte{"big.bin": big, "small.txt": small} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || wrSHA(got) != wrSHA(want) {
			t.Errorf("%s: %d bytes, sha %s; want %d bytes, sha %s", name, len(got), wrSHA(got), len(want), wrSHA(want))
		}
	}
	if got := wrTree(t, dir); !slices.Equal(got, []string{"big.bin", "small.txt"}) {
		t.Errorf("folder holds %v", got)
	}
}

func TestWritePostForms(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"sub/keep.txt": "k", "file.txt": "f"})
	p := Start(t, dir, "-p", "0", "--upload")
	browser := []string{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"}

	body, ct := wrMultipart(wrFile("b.txt", []byte("from a browser")))
	resp, _ := Do(t, "POST", p.URL+"/sub/", bytes.NewReader(body), append(browser, "Content-Type", ct)...)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "./" {
		t.Fatalf("browser POST: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Posted without the slash, the listing is one segment down.
	body, ct = wrMultipart(wrFile("c.txt", []byte("c")))
	resp, _ = Do(t, "POST", p.URL+"/sub", bytes.NewReader(body), append(browser, "Content-Type", ct)...)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "./sub/" {
		t.Fatalf("browser POST without slash: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// A folder upload: relative names create folders.
	body, ct = wrMultipart(wrFile("photos/2024/a.jpg", []byte("jpeg")), wrFile("photos/b.jpg", []byte("jpeg2")))
	resp, rb := Do(t, "POST", p.URL+"/", bytes.NewReader(body), "Content-Type", ct)
	if resp.StatusCode != 201 {
		t.Fatalf("folder upload: %d %s", resp.StatusCode, rb)
	}

	// New folders: urlencoded form (browser), multipart field, MKCOL.
	resp, _ = Do(t, "POST", p.URL+"/sub/", strings.NewReader("mkdir=made+by+form"), append(browser, "Content-Type", "application/x-www-form-urlencoded")...)
	if resp.StatusCode != 303 {
		t.Fatalf("mkdir form: %d", resp.StatusCode)
	}
	body, ct = wrMultipart(wrPart{field: "mkdir", data: []byte("multi")})
	if resp, rb := Do(t, "POST", p.URL+"/", bytes.NewReader(body), "Content-Type", ct); resp.StatusCode != 201 {
		t.Fatalf("multipart mkdir: %d %s", resp.StatusCode, rb)
	}
	if resp, _ := Do(t, "MKCOL", p.URL+"/viadav/", nil); resp.StatusCode != 201 {
		t.Fatalf("MKCOL: %d", resp.StatusCode)
	}

	for _, tc := range []struct {
		name   string
		do     func() *http.Response
		status int
	}{
		{"mkdir existing", func() *http.Response {
			r, _ := Do(t, "POST", p.URL+"/", strings.NewReader("mkdir=sub"), "Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 409},
		{"mkdir with a slash", func() *http.Response {
			r, _ := Do(t, "POST", p.URL+"/", strings.NewReader("mkdir=a%2Fb"), "Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 400},
		{"mkdir dotdot", func() *http.Response {
			r, _ := Do(t, "POST", p.URL+"/", strings.NewReader("mkdir=.."), "Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 400},
		{"MKCOL existing", func() *http.Response { r, _ := Do(t, "MKCOL", p.URL+"/sub/", nil); return r }, 409},
		{"MKCOL missing parent", func() *http.Response { r, _ := Do(t, "MKCOL", p.URL+"/no/such/", nil); return r }, 409},
		{"POST to a missing folder", func() *http.Response {
			b, ct := wrMultipart(wrFile("x", []byte("x")))
			r, _ := Do(t, "POST", p.URL+"/nope/", bytes.NewReader(b), "Content-Type", ct)
			return r
		}, 404},
		{"POST to a file", func() *http.Response {
			b, ct := wrMultipart(wrFile("x", []byte("x")))
			r, _ := Do(t, "POST", p.URL+"/file.txt", bytes.NewReader(b), "Content-Type", ct)
			return r
		}, 409},
		{"POST existing name", func() *http.Response {
			b, ct := wrMultipart(wrFile("file.txt", []byte("x")))
			r, _ := Do(t, "POST", p.URL+"/", bytes.NewReader(b), "Content-Type", ct)
			return r
		}, 409},
		{"POST with only an empty file input", func() *http.Response {
			b, ct := wrMultipart(wrFile("", nil))
			r, _ := Do(t, "POST", p.URL+"/", bytes.NewReader(b), "Content-Type", ct)
			return r
		}, 400},
	} {
		if r := tc.do(); r.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, r.StatusCode, tc.status)
		}
	}

	want := []string{
		"file.txt", "multi/", "photos/", "photos/2024/", "photos/2024/a.jpg", "photos/b.jpg",
		"sub/", "sub/b.txt", "sub/c.txt", "sub/keep.txt", "sub/made by form/", "viadav/",
	}
	if got := wrTree(t, dir); !slices.Equal(got, want) {
		t.Errorf("folder holds\n%v\nwant\n%v", got, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "file.txt")); string(b) != "f" {
		t.Errorf("file.txt was changed to %q by a refused upload", b)
	}
}

func TestWritePut(t *testing.T) {
	for _, overwrite := range []bool{false, true} {
		t.Run("overwrite="+strconv.FormatBool(overwrite), func(t *testing.T) {
			dir := t.TempDir()
			WriteFiles(t, dir, map[string]string{"old.txt": "old", "d/x": "x"})
			args := []string{"-p", "0", "--upload"}
			if overwrite {
				args = append(args, "--overwrite")
			}
			p := Start(t, dir, args...)
			if r, b := Do(t, "PUT", p.URL+"/new/deep/n.txt", strings.NewReader("new")); r.StatusCode != 201 {
				t.Fatalf("PUT new: %d %s", r.StatusCode, b)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "new/deep/n.txt")); string(b) != "new" {
				t.Fatalf("stored %q", b)
			}
			want := 409
			if overwrite {
				want = 204
			}
			if r, _ := Do(t, "PUT", p.URL+"/old.txt", strings.NewReader("replaced")); r.StatusCode != want {
				t.Fatalf("PUT existing: %d, want %d", r.StatusCode, want)
			}
			content := "old"
			if overwrite {
				content = "replaced"
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "old.txt")); string(b) != content {
				t.Fatalf("old.txt = %q, want %q", b, content)
			}
			if r, _ := Do(t, "PUT", p.URL+"/d", strings.NewReader("x")); r.StatusCode != 409 {
				t.Fatalf("PUT onto a folder: %d", r.StatusCode)
			}
			if r, _ := Do(t, "PUT", p.URL+"/old.txt/child", strings.NewReader("x")); r.StatusCode != 409 {
				t.Fatalf("PUT under a file: %d", r.StatusCode)
			}
			if r, _ := Do(t, "PUT", p.URL+"/", strings.NewReader("x")); r.StatusCode != 409 {
				t.Fatalf("PUT onto the root: %d", r.StatusCode)
			}
			if got := wrTree(t, dir); !slices.Equal(got, []string{"d/", "d/x", "new/", "new/deep/", "new/deep/n.txt", "old.txt"}) {
				t.Fatalf("folder holds %v", got)
			}
		})
	}
}

func TestWriteMethodsNotEnabled(t *testing.T) {
	for _, tc := range []struct {
		flags   []string
		allow   string
		refused []string
	}{
		{nil, "GET, HEAD, OPTIONS", []string{"POST", "PUT", "MKCOL", "DELETE", "MOVE", "COPY"}},
		{[]string{"--upload"}, "GET, HEAD, OPTIONS, POST, PUT, MKCOL", []string{"DELETE", "MOVE", "COPY"}},
		{[]string{"--upload", "--delete"}, "GET, HEAD, OPTIONS, POST, PUT, MKCOL, DELETE", []string{"MOVE", "COPY"}},
	} {
		t.Run(strings.Join(tc.flags, " "), func(t *testing.T) {
			dir := t.TempDir()
			WriteFiles(t, dir, map[string]string{"a.txt": "a"})
			p := Start(t, dir, append([]string{"-p", "0"}, tc.flags...)...)
			for _, m := range tc.refused {
				r, _ := Do(t, m, p.URL+"/a.txt", strings.NewReader("x"), "Destination", p.URL+"/b.txt")
				if r.StatusCode != 405 || r.Header.Get("Allow") != tc.allow {
					t.Errorf("%s: %d Allow %q, want 405 %q", m, r.StatusCode, r.Header.Get("Allow"), tc.allow)
				}
			}
			if got := wrTree(t, dir); !slices.Equal(got, []string{"a.txt"}) {
				t.Errorf("folder holds %v", got)
			}
		})
	}
}

func TestWriteNameValidation(t *testing.T) {
	served, parent := wrServed(t)
	p := Start(t, served, "-p", "0", "--upload")
	long := strings.Repeat("n", 256)
	// PUT paths (escaped as sent) that reach the write side or the path check.
	for _, path := range []string{
		"/.env", "/a/.git/config", "/a%01b", "/a%7Fb", "/a%0Ab", "/" + long, "/ok/" + long,
		"/" + wrTempPrefix + "x", "/a%5Cb", "/a%00b", "/%2e%2e/x", "/a%2Fb", "/x/..%2f..%2fy",
	} {
		raw := "PUT " + path + " HTTP/1.1\r\nHost: " + wrAddr(p) + "\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"
		if resp := RawRequest(t, wrAddr(p), raw, 5*time.Second); !strings.HasPrefix(resp, "HTTP/1.1 400 ") {
			t.Errorf("PUT %s: %q", path, wrFirstLine(resp))
		}
	}
	// A dotfile's refusal says which flag would allow it (rclone showed a
	// user "names starting with a dot are not allowed" and nothing more).
	if r, b := Do(t, "PUT", p.URL+"/.env", strings.NewReader("x")); r.StatusCode != 400 || !bytes.Contains(b, []byte("--hidden")) {
		t.Errorf("PUT /.env: %d %q, want 400 naming --hidden", r.StatusCode, b)
	}
	// Multipart filenames: traversal, absolute, Windows forms, bad components.
	for _, name := range []string{
		"../../x", `..\x`, `..\\x`, `C:\x`, `C:\\x`, "/etc/x", "a/../../x", "./x", "x/", "a//b",
		".env", "a/.ssh/k", long, "ok/" + long, wrTempPrefix + "x", "a\x01b", "\x7f",
	} {
		body, ct := wrMultipart(wrFile(name, []byte("evil")))
		r, b := Do(t, "POST", p.URL+"/", bytes.NewReader(body), "Content-Type", ct)
		if r.StatusCode != 400 {
			t.Errorf("filename %q: %d %s", name, r.StatusCode, b)
		}
		if bytes.Contains(b, []byte(served)) {
			t.Errorf("filename %q: reply shows a host path: %s", name, b)
		}
	}
	// One bad part spoils the whole request: nothing of it is kept.
	body, ct := wrMultipart(wrFile("good.txt", []byte("g")), wrFile("../bad", []byte("b")))
	if r, _ := Do(t, "POST", p.URL+"/", bytes.NewReader(body), "Content-Type", ct); r.StatusCode != 400 {
		t.Errorf("good then bad: %d", r.StatusCode)
	}
	if got := wrTree(t, served); len(got) != 0 {
		t.Errorf("served folder holds %v", got)
	}
	if got := wrTree(t, parent); !slices.Equal(got, []string{"canary", "served/"}) {
		t.Errorf("parent folder holds %v", got)
	}
	if got := wrTree(t, "/etc"); slices.Contains(got, "x") {
		t.Errorf("/etc/x exists")
	}
}

func wrFirstLine(s string) string { l, _, _ := strings.Cut(s, "\r\n"); return l }

func TestWriteMaxUpload(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "--upload", "--max-upload", "64K")
	over := wrRandom(t, 64<<10+1)
	exact := wrRandom(t, 64<<10)

	if r, _ := Do(t, "PUT", p.URL+"/cl.bin", bytes.NewReader(over)); r.StatusCode != 413 {
		t.Errorf("PUT over the limit with Content-Length: %d", r.StatusCode)
	}
	// Chunked: the size is only known while streaming.
	req, _ := http.NewRequest("PUT", p.URL+"/chunked.bin", io.MultiReader(bytes.NewReader(over)))
	req.ContentLength = -1
	if resp, err := http.DefaultClient.Do(req); err == nil {
		if resp.StatusCode != 413 {
			t.Errorf("chunked PUT over the limit: %d", resp.StatusCode)
		}
		resp.Body.Close()
	} else {
		// The server may close while the client still sends: that is
		// a refusal too, as long as nothing is stored.
		t.Logf("chunked PUT over the limit: %v", err)
	}
	body, ct := wrMultipart(wrFile("mp.bin", over))
	if r, _ := Do(t, "POST", p.URL+"/", bytes.NewReader(body), "Content-Type", ct); r.StatusCode != 413 {
		t.Errorf("multipart over the limit: %d", r.StatusCode)
	}
	// Two files under the limit each but over it together.
	body, ct = wrMultipart(wrFile("h1.bin", exact[:40<<10]), wrFile("h2.bin", exact[:40<<10]))
	req, _ = http.NewRequest("POST", p.URL+"/", io.MultiReader(bytes.NewReader(body)))
	req.Header.Set("Content-Type", ct)
	req.ContentLength = -1
	if resp, err := http.DefaultClient.Do(req); err == nil {
		if resp.StatusCode != 413 {
			t.Errorf("chunked multipart over the limit together: %d", resp.StatusCode)
		}
		resp.Body.Close()
	}
	if got := wrNoTemps(t, dir); len(got) != 0 {
		t.Fatalf("refused uploads left %v", got)
	}
	if r, _ := Do(t, "PUT", p.URL+"/exact.bin", bytes.NewReader(exact)); r.StatusCode != 201 {
		t.Errorf("PUT at the limit: %d", r.StatusCode)
	}
	body, ct = wrMultipart(wrFile("exact-mp.bin", exact))
	if r, _ := Do(t, "POST", p.URL+"/", bytes.NewReader(body), "Content-Type", ct); r.StatusCode != 201 {
		t.Errorf("multipart at the limit: %d", r.StatusCode)
	}
	if got := wrTree(t, dir); !slices.Equal(got, []string{"exact-mp.bin", "exact.bin"}) {
		t.Errorf("folder holds %v", got)
	}
}

// TestWriteCutUploads hangs up in the middle of bodies: nothing may appear
// under any name, and the temporary file must go.
func TestWriteCutUploads(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"existing.bin": "keep me"})
	p := Start(t, dir, "-p", "0", "-w")
	chunk := bytes.Repeat([]byte("d"), 256<<10)
	mpHead := "--BOUND\r\nContent-Disposition: form-data; name=\"f\"; filename=\"mp.bin\"\r\n\r\n"

	for _, tc := range []struct {
		name, head string
		body       []byte
	}{
		{"put", "PUT /cut.bin HTTP/1.1\r\nContent-Length: 10485760\r\n", chunk},
		{"put replacing", "PUT /existing.bin HTTP/1.1\r\nContent-Length: 10485760\r\n", chunk},
		{"put chunked", "PUT /cutc.bin HTTP/1.1\r\nTransfer-Encoding: chunked\r\n", append([]byte(fmt.Sprintf("%x\r\n", len(chunk))), chunk...)},
		{"multipart", "POST / HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=BOUND\r\nContent-Length: 10485760\r\n", append([]byte(mpHead), chunk...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", wrAddr(p))
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(conn, tc.head+"Host: "+wrAddr(p)+"\r\n\r\n")
			conn.Write(tc.body)
			// Wait until the server has started storing, then hang up.
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) && !slices.ContainsFunc(wrTree(t, dir), func(s string) bool { return strings.HasPrefix(s, wrTempPrefix) }) {
				time.Sleep(5 * time.Millisecond)
			}
			conn.Close()
			if got := wrNoTemps(t, dir); !slices.Equal(got, []string{"existing.bin"}) {
				t.Fatalf("after a cut upload the folder holds %v", got)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "existing.bin")); string(b) != "keep me" {
				t.Fatalf("existing.bin became %d bytes", len(b))
			}
		})
	}

	// A body shorter than its Content-Length, the client still listening.
	conn, err := net.Dial("tcp", wrAddr(p))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "PUT /short.bin HTTP/1.1\r\nHost: "+wrAddr(p)+"\r\nContent-Length: 1000\r\n\r\n"+strings.Repeat("s", 500))
	conn.(*net.TCPConn).CloseWrite()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, _ := io.ReadAll(conn)
	if strings.HasPrefix(string(resp), "HTTP/1.1 2") {
		t.Errorf("short body answered %q", wrFirstLine(string(resp)))
	}
	if got := wrNoTemps(t, dir); !slices.Equal(got, []string{"existing.bin"}) {
		t.Fatalf("after a short body the folder holds %v", got)
	}
}

// TestWriteShutdownMidUpload stops ferry while an upload is in flight.
func TestWriteShutdownMidUpload(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "--upload")
	conn, err := net.Dial("tcp", wrAddr(p))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "PUT /slow.bin HTTP/1.1\r\nHost: "+wrAddr(p)+"\r\nContent-Length: 10485760\r\n\r\n")
	conn.Write(make([]byte, 64<<10))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && len(wrTree(t, dir)) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	// A second Ctrl-C ends at once, without waiting for the upload.
	p.Signal(syscall.SIGINT)
	time.Sleep(100 * time.Millisecond)
	p.Signal(syscall.SIGINT)
	if code := p.Wait(10 * time.Second); code == -1 {
		t.Fatal("ferry did not stop")
	}
	if got := wrTree(t, dir); len(got) != 0 {
		t.Fatalf("after shutdown the folder holds %v", got)
	}
}

func TestWriteConcurrentCreate(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "--upload")
	const n = 20
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = bytes.Repeat([]byte{byte('A' + i)}, 512<<10)
	}
	var wg sync.WaitGroup
	codes := make([]int, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest("PUT", p.URL+"/race.bin", bytes.NewReader(bodies[i]))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("PUT %d: %v", i, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	created, conflicts := 0, 0
	for _, c := range codes {
		switch c {
		case 201:
			created++
		case 409:
			conflicts++
		}
	}
	if created != 1 || conflicts != n-1 {
		t.Fatalf("statuses %v: want one 201 and %d 409", codes, n-1)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "race.bin"))
	winner := slices.Index(codes, 201)
	if !bytes.Equal(got, bodies[winner]) {
		t.Fatalf("race.bin is not the winner's whole body (%d bytes)", len(got))
	}
	if got := wrNoTemps(t, dir); !slices.Equal(got, []string{"race.bin"}) {
		t.Fatalf("folder holds %v", got)
	}
}

func TestWriteCrossSite(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "-w")
	for _, tc := range []struct {
		name string
		hdr  []string
		want int
	}{
		{"cross-site fetch", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"same-site fetch", []string{"Sec-Fetch-Site", "same-site"}, 403},
		{"foreign origin", []string{"Origin", "http://evil.example"}, 403},
		{"same origin", []string{"Sec-Fetch-Site", "same-origin", "Origin", p.URL}, 201},
		{"curl", nil, 201},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.name, " ", "-")
			body, ct := wrMultipart(wrFile(name+".txt", []byte("x")))
			r, _ := Do(t, "POST", p.URL+"/", bytes.NewReader(body), append([]string{"Content-Type", ct}, tc.hdr...)...)
			if r.StatusCode != tc.want {
				t.Errorf("POST: %d, want %d", r.StatusCode, tc.want)
			}
			for _, m := range []string{"PUT", "MKCOL", "DELETE"} {
				if tc.want != 403 {
					break
				}
				if r, _ := Do(t, m, p.URL+"/"+name+"-"+m, strings.NewReader(""), tc.hdr...); r.StatusCode != 403 {
					t.Errorf("%s: %d, want 403", m, r.StatusCode)
				}
			}
		})
	}
	if got := wrTree(t, dir); !slices.Equal(got, []string{"curl.txt", "same-origin.txt"}) {
		t.Errorf("folder holds %v", got)
	}
}

func TestWriteDelete(t *testing.T) {
	served, parent := wrServed(t)
	WriteFiles(t, served, map[string]string{"a.txt": "a", "d/x/y.txt": "y", "d/.hidden": "h", ".env": "secret"})
	outside := filepath.Join(parent, "outside")
	os.Mkdir(outside, 0o755)
	os.WriteFile(filepath.Join(outside, "t.txt"), []byte("t"), 0o644)
	os.Symlink(outside, filepath.Join(served, "out"))
	os.Symlink(filepath.Join(outside, "t.txt"), filepath.Join(served, "outfile"))
	p := Start(t, served, "-p", "0", "--delete")
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/a.txt", 204},
		{"/d/", 204},
		{"/missing", 404},
		{"/", 403},
		{"/.env", 404},
		{"/out", 404},
		{"/out/t.txt", 404},
		{"/outfile", 404},
		{"/%2e%2e/canary", 400},
	} {
		if r, _ := Do(t, "DELETE", p.URL+tc.path, nil); r.StatusCode != tc.want {
			t.Errorf("DELETE %s: %d, want %d", tc.path, r.StatusCode, tc.want)
		}
	}
	if got := wrTree(t, parent); !slices.Equal(got, []string{"canary", "outside/", "outside/t.txt", "served/", "served/.env", "served/out", "served/outfile"}) {
		t.Errorf("after DELETEs: %v", got)
	}

	// With --follow-symlinks the link goes, never its target.
	p2 := Start(t, served, "-p", "0", "--delete", "--follow-symlinks")
	for _, path := range []string{"/out", "/outfile"} {
		if r, _ := Do(t, "DELETE", p2.URL+path, nil); r.StatusCode != 204 {
			t.Errorf("DELETE %s with --follow-symlinks: %d", path, r.StatusCode)
		}
	}
	if got := wrTree(t, parent); !slices.Equal(got, []string{"canary", "outside/", "outside/t.txt", "served/", "served/.env"}) {
		t.Errorf("after deleting links: %v", got)
	}
}

func TestWriteMoveCopy(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"a.txt": "a", "b.txt": "b", "c.txt": "c", "taken.txt": "t",
		"folder/one.txt": "1", "folder/sub/two.txt": "2", "folder/.dot": "d",
	})
	p := Start(t, dir, "-p", "0", "-w")
	dest := func(path string) string { return p.URL + path }
	for _, tc := range []struct {
		name, method, path string
		hdr                []string
		want               int
	}{
		{"move to new", "MOVE", "/a.txt", []string{"Destination", dest("/renamed.txt")}, 201},
		{"move replacing", "MOVE", "/b.txt", []string{"Destination", dest("/taken.txt")}, 204},
		{"move, Overwrite F", "MOVE", "/c.txt", []string{"Destination", dest("/taken.txt"), "Overwrite", "F"}, 412},
		{"move, missing parent", "MOVE", "/c.txt", []string{"Destination", dest("/no/such/c.txt")}, 409},
		{"move to another host", "MOVE", "/c.txt", []string{"Destination", "http://evil.example/c2.txt"}, 400},
		{"move without Destination", "MOVE", "/c.txt", nil, 400},
		{"move missing source", "MOVE", "/nope", []string{"Destination", dest("/x")}, 404},
		{"move to a dotfile", "MOVE", "/c.txt", []string{"Destination", dest("/.c")}, 400},
		{"move a folder into itself", "MOVE", "/folder/", []string{"Destination", dest("/folder/sub/f/")}, 409},
		{"move the root", "MOVE", "/", []string{"Destination", dest("/x/")}, 403},
		{"move escaped name", "MOVE", "/c.txt", []string{"Destination", dest("/n%C3%A9w%20c.txt")}, 201},
		{"copy file", "COPY", "/taken.txt", []string{"Destination", dest("/copy.txt")}, 201},
		{"copy folder", "COPY", "/folder/", []string{"Destination", dest("/folder2/")}, 201},
		{"copy, Overwrite F", "COPY", "/taken.txt", []string{"Destination", dest("/copy.txt"), "Overwrite", "F"}, 412},
		{"copy replacing", "COPY", "/renamed.txt", []string{"Destination", dest("/copy.txt")}, 204},
		{"copy folder over folder", "COPY", "/folder/sub/", []string{"Destination", dest("/folder2/")}, 204},
		{"copy, missing parent", "COPY", "/taken.txt", []string{"Destination", dest("/no/x")}, 409},
		{"copy to another host", "COPY", "/taken.txt", []string{"Destination", "http://127.0.0.2:1/x"}, 400},
	} {
		r, b := Do(t, tc.method, p.URL+tc.path, nil, tc.hdr...)
		if r.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, r.StatusCode, bytes.TrimSpace(b), tc.want)
		}
	}
	want := []string{
		"copy.txt", "folder/", "folder/.dot", "folder/one.txt", "folder/sub/", "folder/sub/two.txt",
		"folder2/", "folder2/two.txt", "néw c.txt", "renamed.txt", "taken.txt",
	}
	if got := wrTree(t, dir); !slices.Equal(got, want) {
		t.Errorf("folder holds\n%v\nwant\n%v", got, want)
	}
	for name, content := range map[string]string{"taken.txt": "b", "copy.txt": "a", "renamed.txt": "a", "folder2/two.txt": "2"} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != content {
			t.Errorf("%s = %q, want %q", name, b, content)
		}
	}
}

// TestWriteFullDisk uploads into a tiny tmpfs: 507, and nothing left.
func TestWriteFullDisk(t *testing.T) {
	dir := Tmpfs(t, "2m")
	WriteFiles(t, dir, map[string]string{"keep.txt": "keep"})
	p := Start(t, dir, "-p", "0", "-w")
	big := wrRandom(t, 4<<20)
	if r, b := Do(t, "PUT", p.URL+"/big.bin", bytes.NewReader(big)); r.StatusCode != 507 {
		t.Errorf("PUT beyond the disk: %d %s", r.StatusCode, b)
	}
	body, ct := wrMultipart(wrFile("small.txt", []byte("s")), wrFile("sub/big.bin", big))
	if r, b := Do(t, "POST", p.URL+"/", bytes.NewReader(body), "Content-Type", ct); r.StatusCode != 507 {
		t.Errorf("POST beyond the disk: %d %s", r.StatusCode, b)
	}
	if r, b := Do(t, "PUT", p.URL+"/keep.txt", bytes.NewReader(big)); r.StatusCode != 507 {
		t.Errorf("PUT replacing beyond the disk: %d %s", r.StatusCode, b)
	}
	if got := wrNoTemps(t, dir); !slices.Equal(got, []string{"keep.txt"}) {
		t.Fatalf("folder holds %v", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "keep.txt")); string(b) != "keep" {
		t.Fatalf("keep.txt = %d bytes", len(b))
	}
	// The space of the failed uploads was given back.
	if r, _ := Do(t, "PUT", p.URL+"/fits.bin", bytes.NewReader(big[:1<<20])); r.StatusCode != 201 {
		t.Fatalf("PUT that fits after failures: %d", r.StatusCode)
	}
}

// wrPattern yields n bytes of a repeated random block without holding
// more than that block in memory.
type wrPattern struct {
	block []byte
	off   int
	n     int64
}

func (p *wrPattern) Read(b []byte) (int, error) {
	if p.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n {
		b = b[:p.n]
	}
	k := copy(b, p.block[p.off:])
	p.off = (p.off + k) % len(p.block)
	p.n -= int64(k)
	return k, nil
}

// TestWriteBigUpload streams 2 GiB by PUT and by multipart POST on
// loopback and reports throughput and ferry's peak memory. It needs
// FERRY_BIG=1 (and about 4.5 GiB of free disk).
func TestWriteBigUpload(t *testing.T) {
	if os.Getenv("FERRY_BIG") != "1" || testing.Short() {
		t.Skip("set FERRY_BIG=1 to upload 2 GiB")
	}
	const size = 2 << 30
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "--upload", "-q")
	pid := p.cmd.Process.Pid
	block := wrRandom(t, 1<<20+7)
	sum := func(r io.Reader) string {
		h := sha256.New()
		io.Copy(h, r)
		return hex.EncodeToString(h.Sum(nil))
	}
	want := sum(&wrPattern{block: block, n: size})
	fileSum := func(name string) string {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		return sum(f)
	}
	client := &http.Client{Timeout: 10 * time.Minute}

	start := time.Now()
	req, _ := http.NewRequest("PUT", p.URL+"/put.bin", &wrPattern{block: block, n: size})
	req.ContentLength = size
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != 201 {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	rssPut := procStatus(t, pid, "VmHWM")
	t.Logf("PUT 2 GiB: %.2fs, %.0f MiB/s, ferry peak RSS %.1f MiB", took.Seconds(), size/took.Seconds()/(1<<20), float64(rssPut)/1024)
	if got := fileSum("put.bin"); got != want {
		t.Fatalf("put.bin sha256 %s, want %s", got, want)
	}
	os.Remove(filepath.Join(dir, "put.bin"))

	head := "--BIGBOUNDARY\r\nContent-Disposition: form-data; name=\"f\"; filename=\"post.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
	tail := "\r\n--BIGBOUNDARY--\r\n"
	start = time.Now()
	req, _ = http.NewRequest("POST", p.URL+"/", io.MultiReader(strings.NewReader(head), &wrPattern{block: block, n: size}, strings.NewReader(tail)))
	req.ContentLength = int64(len(head)) + size + int64(len(tail))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=BIGBOUNDARY")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	took = time.Since(start)
	if resp.StatusCode != 201 {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	rssPost := procStatus(t, pid, "VmHWM")
	t.Logf("multipart POST 2 GiB: %.2fs, %.0f MiB/s, ferry peak RSS %.1f MiB (peak over both)", took.Seconds(), size/took.Seconds()/(1<<20), float64(rssPost)/1024)
	if got := fileSum("post.bin"); got != want {
		t.Fatalf("post.bin sha256 %s, want %s", got, want)
	}
	if rssPost > 64<<10 {
		t.Errorf("ferry's peak RSS %d KiB is over 64 MiB", rssPost)
	}
}
