package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tusClient speaks tus 1.0 (https://tus.io/protocols/resumable-upload) over
// plain net/http, as any tus client does: POST to create, HEAD for the
// offset, PATCH from there.
type tusClient struct {
	t        testing.TB
	endpoint string // base URL + "/.ferry/tus/"
	hdr      []string
}

func newTus(t testing.TB, base string, hdr ...string) *tusClient {
	return &tusClient{t: t, endpoint: base + "/.ferry/tus/", hdr: hdr}
}

func (c *tusClient) do(method, u string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	c.t.Helper()
	all := append([]string{"Tus-Resumable", "1.0.0"}, c.hdr...)
	return Do(c.t, method, u, body, append(all, hdr...)...)
}

func tusMeta(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, kv[i]+" "+base64.StdEncoding.EncodeToString([]byte(kv[i+1])))
	}
	return strings.Join(parts, ",")
}

// create makes an upload and returns its absolute URL, or "" with the status.
func (c *tusClient) create(folder, name string, length int64) (string, int) {
	c.t.Helper()
	resp, _ := c.do("POST", c.endpoint, nil, "Upload-Length", strconv.FormatInt(length, 10),
		"Upload-Metadata", tusMeta("filename", name, "folder", folder))
	if resp.StatusCode != http.StatusCreated {
		return "", resp.StatusCode
	}
	base, _ := url.Parse(c.endpoint)
	loc, err := base.Parse(resp.Header.Get("Location"))
	if err != nil {
		c.t.Fatalf("Location %q: %v", resp.Header.Get("Location"), err)
	}
	return loc.String(), resp.StatusCode
}

func (c *tusClient) offset(u string) int64 {
	c.t.Helper()
	resp, _ := c.do("HEAD", u, nil)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("HEAD %s: %s", u, resp.Status)
	}
	n, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil {
		c.t.Fatalf("HEAD Upload-Offset %q", resp.Header.Get("Upload-Offset"))
	}
	return n
}

func (c *tusClient) patch(u string, off int64, data []byte) *http.Response {
	c.t.Helper()
	resp, _ := c.do("PATCH", u, bytes.NewReader(data), "Content-Type", "application/offset+octet-stream",
		"Upload-Offset", strconv.FormatInt(off, 10))
	return resp
}

// sendCut sends a PATCH of data from off over a raw connection and hangs up
// after cutAfter bytes of the body, as a dropped link would.
func sendCut(t *testing.T, u string, off int64, data []byte, cutAfter int) {
	t.Helper()
	pu, _ := url.Parse(u)
	conn, err := net.DialTimeout("tcp", pu.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: %s\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: %d\r\nContent-Length: %d\r\n\r\n",
		pu.RequestURI(), pu.Host, off, len(data))
	for sent := 0; sent < cutAfter; {
		n, err := conn.Write(data[sent:min(sent+64<<10, cutAfter)])
		if err != nil {
			t.Fatalf("writing the body: %v", err)
		}
		sent += n
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // a reset, not a polite close: the link is gone
	}
}

// listed reports whether the folder's JSON listing names name.
func listed(t *testing.T, folderURL, name string) bool {
	t.Helper()
	resp, body := Do(t, "GET", folderURL+"?format=json", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("listing %s: %s", folderURL, resp.Status)
	}
	var l struct {
		Entries []struct{ Name string }
	}
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	for _, e := range l.Entries {
		if e.Name == name {
			return true
		}
	}
	return false
}

// A 32 MiB upload cut mid-way resumes from the server's offset to a
// byte-identical file, which nobody sees before it is whole.
func TestTusResumeAfterCut(t *testing.T) {
	if testing.Short() {
		t.Skip("32 MiB upload")
	}
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "inbox"), 0o755)
	p := Start(t, dir, "-p", "0", "--upload")
	c := newTus(t, p.URL)
	data := make([]byte, 32<<20)
	rand.Read(data)
	want := sha256.Sum256(data)

	u, status := c.create("/inbox/", "big.bin", int64(len(data)))
	if status != http.StatusCreated {
		t.Fatalf("create: %d", status)
	}
	cutAt := 13 << 20
	sendCut(t, u, 0, data, cutAt)

	// The server keeps what arrived; HEAD waits for the cut request to
	// let go of the upload.
	var off int64
	deadline := time.Now().Add(5 * time.Second)
	for {
		off = c.offset(u)
		time.Sleep(100 * time.Millisecond)
		if c.offset(u) == off || time.Now().After(deadline) {
			break
		}
	}
	if off <= 0 || off > int64(cutAt) {
		t.Fatalf("offset after the cut = %d, want in (0, %d]", off, cutAt)
	}
	if listed(t, p.URL+"/inbox/", "big.bin") {
		t.Fatal("partial upload listed")
	}
	if resp, _ := Do(t, "GET", p.URL+"/inbox/big.bin", nil); resp.StatusCode != 404 {
		t.Fatalf("GET of the partial upload: %s", resp.Status)
	}
	if resp, _ := Do(t, "GET", p.URL+"/inbox/?format=json", nil, "Accept", "application/json"); resp.StatusCode != 200 {
		t.Fatalf("listing: %s", resp.Status)
	}
	// The hidden temporary name cannot be fetched either.
	parts, _ := filepath.Glob(filepath.Join(dir, "inbox", ".ferry-part-*"))
	if len(parts) != 1 {
		t.Fatalf("want one hidden partial file, found %v", parts)
	}
	if resp, _ := Do(t, "GET", p.URL+"/inbox/"+filepath.Base(parts[0]), nil); resp.StatusCode != 404 {
		t.Fatalf("GET of the temporary name: %s", resp.Status)
	}

	// A PATCH from the wrong offset is refused.
	if resp := c.patch(u, off+1, data[off+1:off+2]); resp.StatusCode != http.StatusConflict {
		t.Fatalf("PATCH at a wrong offset: %s", resp.Status)
	}

	start := time.Now()
	resp := c.patch(u, off, data[off:])
	took := time.Since(start)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
		t.Fatalf("resuming PATCH: %s, offset %s", resp.Status, resp.Header.Get("Upload-Offset"))
	}
	t.Logf("cut after %d MiB sent; server kept %d bytes (%d re-sent); the remaining %d bytes took %s",
		cutAt>>20, off, int64(cutAt)-off, int64(len(data))-off, took.Round(time.Millisecond))

	_, got := Do(t, "GET", p.URL+"/inbox/big.bin", nil)
	if sha256.Sum256(got) != want {
		t.Fatalf("stored file differs: %d bytes", len(got))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "inbox", ".ferry-part-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".ferry-part-*")); len(left) != 0 {
		t.Errorf("upload descriptions left: %v", left)
	}
}

func TestTusProtocol(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"taken.txt": "x"})
	p := Start(t, dir, "-p", "0", "--upload", "--max-upload", "1M")
	c := newTus(t, p.URL)

	resp, _ := Do(t, "OPTIONS", c.endpoint, nil)
	if resp.StatusCode != 204 || resp.Header.Get("Tus-Version") != "1.0.0" ||
		!strings.Contains(resp.Header.Get("Tus-Extension"), "creation") || resp.Header.Get("Tus-Max-Size") != "1048576" {
		t.Fatalf("OPTIONS: %s %v", resp.Status, resp.Header)
	}

	for _, tc := range []struct {
		name, folder, file string
		length             int64
		want               int
	}{
		{"ok", "/", "a.txt", 3, 201},
		{"subfolder made at the end", "/new/", "deep/b.txt", 3, 201},
		{"exists", "/", "taken.txt", 3, 409},
		{"dotdot", "/", "../escape.txt", 3, 400},
		{"folder dotdot", "/../", "x.txt", 3, 400},
		{"backslash", "/", `a\b.txt`, 3, 400},
		{"control character", "/", "a\rb.txt", 3, 400},
		{"dotfile", "/", ".env", 3, 400},
		{"reserved", "/.ferry/", "x", 3, 400},
		{"temporary prefix", "/", ".ferry-part-x", 3, 400},
		{"too long a name", "/", strings.Repeat("n", 256), 3, 400},
		{"over --max-upload", "/", "huge.bin", 2 << 20, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, status := c.create(tc.folder, tc.file, tc.length)
			if status != tc.want {
				t.Fatalf("create: %d, want %d", status, tc.want)
			}
			if u == "" {
				return
			}
			if r := c.patch(u, 0, []byte("abc")); r.StatusCode != 204 {
				t.Fatalf("PATCH: %s", r.Status)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(dir, "new", "deep", "b.txt")); err != nil || string(b) != "abc" {
		t.Errorf("new/deep/b.txt: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "escape.txt")); err == nil {
		t.Error("a file escaped the served folder")
	}

	// Termination removes the partial data.
	u, _ := c.create("/", "abandoned.bin", 10)
	c.patch(u, 0, []byte("12345"))
	if r, _ := c.do("DELETE", u, nil); r.StatusCode != 204 {
		t.Fatalf("DELETE: %s", r.Status)
	}
	if r, _ := c.do("HEAD", u, nil); r.StatusCode != 404 {
		t.Fatalf("HEAD after DELETE: %s", r.Status)
	}

	// Browsers' cross-site writes are refused, as for every write.
	r, _ := c.do("POST", c.endpoint, nil, "Upload-Length", "1", "Upload-Metadata", tusMeta("filename", "x.txt"),
		"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if r.StatusCode != 403 {
		t.Errorf("cross-site POST: %s", r.Status)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".ferry-part-*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestTusNeedsUpload(t *testing.T) {
	p := Start(t, t.TempDir(), "-p", "0")
	c := newTus(t, p.URL)
	r, _ := c.do("POST", c.endpoint, nil, "Upload-Length", "1", "Upload-Metadata", tusMeta("filename", "x.txt"))
	if r.StatusCode != 405 {
		t.Errorf("POST without --upload: %s", r.Status)
	}
	r, _ = c.do("PATCH", c.endpoint+"AAAAAAAAAAAAAAAAAAAAAAAAAA", nil)
	if r.StatusCode != 405 {
		t.Errorf("PATCH without --upload: %s", r.Status)
	}
}

func TestTusAuth(t *testing.T) {
	p := Start(t, t.TempDir(), "-p", "0", "--upload", "--auth", "alice:pw")
	c := newTus(t, p.URL)
	if _, status := c.create("/", "x.txt", 1); status != 401 {
		t.Errorf("create without credentials: %d", status)
	}
	ok := newTus(t, p.URL, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:pw")))
	if _, status := ok.create("/", "x.txt", 1); status != 201 {
		t.Errorf("create with credentials: %d", status)
	}
}

func TestTusExpiry(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "--upload", "--partial-ttl", "400ms")
	c := newTus(t, p.URL)
	u, _ := c.create("/", "slow.bin", 100)
	c.patch(u, 0, []byte("0123456789"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		left, _ := filepath.Glob(filepath.Join(dir, ".ferry-part-*"))
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expired upload still on disk: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r, _ := c.do("HEAD", u, nil); r.StatusCode != 404 {
		t.Errorf("HEAD of an expired upload: %s", r.Status)
	}
	if code, _, stderr := Run(t, dir, 5*time.Second, "--partial-ttl", "soon"); code != 2 || strings.Count(stderr, "\n") != 1 {
		t.Errorf("bad --partial-ttl: exit %d, stderr %q", code, stderr)
	}
}
