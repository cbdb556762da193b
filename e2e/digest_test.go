package e2e

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func std64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func sha256Field(b []byte) string {
	s := sha256.Sum256(b)
	return "sha-256=:" + std64(s[:]) + ":"
}

// TestUploadDigest: a PUT whose body does not match its Content-Digest or
// Repr-Digest answers 400 and stores nothing; one that matches is stored,
// and its download carries Repr-Digest.
func TestUploadDigest(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	body := randomBytes(t, 300<<10)
	bad := bytes.Clone(body)
	bad[1000] ^= 1
	s512 := sha512.Sum512(body)

	for _, c := range []struct{ header, value string }{
		{"Content-Digest", sha256Field(body)},
		{"Repr-Digest", sha256Field(body)},
		{"Content-Digest", "sha-512=:" + std64(s512[:]) + ":, sha-256=:" + std64(func() []byte { s := sha256.Sum256(body); return s[:] }()) + ":"},
		{"Content-Digest", "md5=:AAAA:, sha-256=:" + std64(func() []byte { s := sha256.Sum256(body); return s[:] }()) + ":"},
	} {
		resp, msg := Do(t, "PUT", p.URL+"/bad.bin", bytes.NewReader(bad), c.header, c.value)
		if resp.StatusCode != 400 || !strings.Contains(string(msg), "does not match") {
			t.Fatalf("corrupted body with %s: %d %s", c.header, resp.StatusCode, msg)
		}
		if _, err := os.Stat(filepath.Join(dir, "bad.bin")); err == nil {
			t.Fatal("a corrupted upload was stored")
		}
	}
	// Nothing left behind under any name.
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
	// A malformed field is refused before anything is read.
	for _, v := range []string{"sha-256=abc", "sha-256=:bm90IGEgc2hhMjU2:", "SHA-256=:AAAA:", "sha-256"} {
		if resp, _ := Do(t, "PUT", p.URL+"/m.bin", bytes.NewReader(body), "Content-Digest", v); resp.StatusCode != 400 {
			t.Errorf("Content-Digest %q: %d", v, resp.StatusCode)
		}
	}

	resp, _ := Do(t, "PUT", p.URL+"/good.bin", bytes.NewReader(body), "Content-Digest", sha256Field(body))
	if resp.StatusCode != 201 {
		t.Fatalf("matching body: %d", resp.StatusCode)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "good.bin"))
	if !bytes.Equal(got, body) {
		t.Fatal("stored bytes differ")
	}
	// The download says what the upload proved.
	resp, data := Do(t, "GET", p.URL+"/good.bin", nil)
	if resp.Header.Get("Repr-Digest") != sha256Field(body) || !bytes.Equal(data, body) {
		t.Fatalf("download Repr-Digest %q", resp.Header.Get("Repr-Digest"))
	}
	resp, _ = Do(t, "HEAD", p.URL+"/good.bin", nil)
	if resp.Header.Get("Repr-Digest") != sha256Field(body) {
		t.Fatalf("HEAD Repr-Digest %q", resp.Header.Get("Repr-Digest"))
	}
	// A range is of the same representation.
	resp, _ = Do(t, "GET", p.URL+"/good.bin", nil, "Range", "bytes=0-9")
	if resp.StatusCode != 206 || resp.Header.Get("Repr-Digest") != sha256Field(body) {
		t.Fatalf("range Repr-Digest %q", resp.Header.Get("Repr-Digest"))
	}
	// A changed file is a new version: its digest is not known.
	if err := os.WriteFile(filepath.Join(dir, "good.bin"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if resp, _ := Do(t, "GET", p.URL+"/good.bin", nil); resp.Header.Get("Repr-Digest") != "" {
		t.Fatalf("stale Repr-Digest %q", resp.Header.Get("Repr-Digest"))
	}
	// Uploads without a digest work as ever, and carry none.
	if resp, _ := Do(t, "PUT", p.URL+"/plain.bin", bytes.NewReader(body)); resp.StatusCode != 201 {
		t.Fatalf("plain PUT: %d", resp.StatusCode)
	}
	if resp, _ := Do(t, "GET", p.URL+"/plain.bin", nil); resp.Header.Get("Repr-Digest") != "" {
		t.Fatal("Repr-Digest without a known digest")
	}
}

// TestPostDigest: a multipart POST (and a mkdir form) carrying a
// Content-Digest or Repr-Digest of its body is checked as a PUT is: a
// mismatch answers 400 and keeps nothing, not the files before the bad
// byte either; a match stores every file.
func TestPostDigest(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	one, two := randomBytes(t, 200<<10), randomBytes(t, 100<<10)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for name, data := range map[string][]byte{"one.bin": one, "sub/two.bin": two} {
		fw, _ := mw.CreateFormFile("f", name)
		fw.Write(data)
	}
	mw.Close()
	body, ct := form.Bytes(), mw.FormDataContentType()
	bad := bytes.Clone(body)
	bad[len(bad)-200] ^= 1 // in the last file: the first is complete by then

	for _, h := range []string{"Content-Digest", "Repr-Digest"} {
		resp, msg := Do(t, "POST", p.URL+"/", bytes.NewReader(bad), "Content-Type", ct, h, sha256Field(body))
		if resp.StatusCode != 400 || !strings.Contains(string(msg), "does not match") {
			t.Fatalf("corrupted form with %s: %d %s", h, resp.StatusCode, msg)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Fatalf("a corrupted form left %v", ents)
		}
	}
	if resp, _ := Do(t, "POST", p.URL+"/", bytes.NewReader(body), "Content-Type", ct, "Content-Digest", "sha-256=abc"); resp.StatusCode != 400 {
		t.Fatalf("malformed Content-Digest: %d", resp.StatusCode)
	}
	mk := []byte("mkdir=new")
	if resp, _ := Do(t, "POST", p.URL+"/", bytes.NewReader(mk), "Content-Type", "application/x-www-form-urlencoded",
		"Content-Digest", sha256Field([]byte("mkdir=old"))); resp.StatusCode != 400 {
		t.Fatalf("mkdir form with a wrong digest: %d", resp.StatusCode)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}

	resp, msg := Do(t, "POST", p.URL+"/", bytes.NewReader(body), "Content-Type", ct, "Content-Digest", sha256Field(body))
	if resp.StatusCode != 201 {
		t.Fatalf("matching form: %d %s", resp.StatusCode, msg)
	}
	for name, want := range map[string][]byte{"one.bin": one, "sub/two.bin": two} {
		if got, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(got, want) {
			t.Errorf("%s: stored bytes differ", name)
		}
	}
	if resp, _ := Do(t, "POST", p.URL+"/", bytes.NewReader(mk), "Content-Type", "application/x-www-form-urlencoded",
		"Content-Digest", sha256Field(mk)); resp.StatusCode != 201 {
		t.Fatalf("mkdir form with its digest: %d", resp.StatusCode)
	}
}

// TestReprDigestFromHash: once ?hash computed a file's digest, downloads
// carry it; a compressed response carries none (its bytes are others).
func TestReprDigestFromHash(t *testing.T) {
	dir := t.TempDir()
	data := randomBytes(t, 64<<10)
	text := []byte(strings.Repeat("some text line\n", 500))
	WriteFiles(t, dir, map[string]string{"a.bin": string(data), "t.txt": string(text)})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1")
	if resp, _ := Do(t, "GET", p.URL+"/a.bin", nil); resp.Header.Get("Repr-Digest") != "" {
		t.Fatal("Repr-Digest before any hash")
	}
	Do(t, "GET", p.URL+"/a.bin?hash=sha256", nil)
	Do(t, "GET", p.URL+"/a.bin?hash=sha512", nil)
	s512 := sha512.Sum512(data)
	want := sha256Field(data) + ", sha-512=:" + std64(s512[:]) + ":"
	if resp, _ := Do(t, "GET", p.URL+"/a.bin", nil); resp.Header.Get("Repr-Digest") != want {
		t.Fatalf("Repr-Digest %q, want %q", resp.Header.Get("Repr-Digest"), want)
	}
	Do(t, "GET", p.URL+"/t.txt?hash=sha256", nil)
	if resp, _ := Do(t, "GET", p.URL+"/t.txt", nil, "Accept-Encoding", "identity"); resp.Header.Get("Repr-Digest") != sha256Field(text) {
		t.Fatalf("identity text: %q", resp.Header.Get("Repr-Digest"))
	}
	if resp, _ := Do(t, "GET", p.URL+"/t.txt", nil, "Accept-Encoding", "zstd"); resp.Header.Get("Content-Encoding") != "zstd" || resp.Header.Get("Repr-Digest") != "" {
		t.Fatalf("compressed text: %q %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("Repr-Digest"))
	}
}

// TestTusChecksum: a tus piece whose Upload-Checksum differs answers 460
// and is not appended; the file is named only once every piece matched.
func TestTusChecksum(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--upload")
	c := newTus(t, p.URL)
	if resp, _ := c.do("OPTIONS", c.endpoint, nil); !strings.Contains(resp.Header.Get("Tus-Extension"), "checksum") ||
		resp.Header.Get("Tus-Checksum-Algorithm") != "sha256,sha512" {
		t.Fatalf("OPTIONS: %v", resp.Header)
	}
	data := randomBytes(t, 200<<10)
	u, code := c.create("/", "t.bin", int64(len(data)))
	if u == "" {
		t.Fatalf("create: %d", code)
	}
	sumOf := func(b []byte) string { s := sha256.Sum256(b); return "sha256 " + std64(s[:]) }
	patch := func(off int, piece []byte, checksum string) *http.Response {
		resp, _ := c.do("PATCH", u, bytes.NewReader(piece), "Content-Type", "application/offset+octet-stream",
			"Upload-Offset", strconv.Itoa(off), "Upload-Checksum", checksum)
		return resp
	}
	first, second := data[:100<<10], data[100<<10:]
	corrupted := bytes.Clone(first)
	corrupted[5] ^= 0x80
	if resp := patch(0, corrupted, sumOf(first)); resp.StatusCode != 460 {
		t.Fatalf("corrupted piece: %d", resp.StatusCode)
	}
	if off := c.offset(u); off != 0 {
		t.Fatalf("offset after a corrupted piece: %d", off)
	}
	for _, bad := range []string{"md5 AAAA", "sha256 not-base64!", "sha256"} {
		if resp := patch(0, first, bad); resp.StatusCode != 400 {
			t.Errorf("Upload-Checksum %q: %d", bad, resp.StatusCode)
		}
	}
	if resp := patch(0, first, sumOf(first)); resp.StatusCode != 204 || resp.Header.Get("Upload-Offset") != strconv.Itoa(len(first)) {
		t.Fatalf("good piece: %d %q", resp.StatusCode, resp.Header.Get("Upload-Offset"))
	}
	// The last piece corrupted: the file is not named.
	bad2 := bytes.Clone(second)
	bad2[len(bad2)-1] ^= 1
	if resp := patch(len(first), bad2, sumOf(second)); resp.StatusCode != 460 {
		t.Fatalf("corrupted last piece: %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "t.bin")); err == nil {
		t.Fatal("a corrupted upload was named")
	}
	s512 := sha512.Sum512(second)
	if resp := patch(len(first), second, "sha512 "+std64(s512[:])); resp.StatusCode != 204 {
		t.Fatalf("last piece: %d", resp.StatusCode)
	}
	got, err := os.ReadFile(filepath.Join(dir, "t.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("stored: %v, %d bytes", err, len(got))
	}
}
