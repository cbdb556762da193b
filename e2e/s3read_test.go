package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
)

// s3Ferry starts ferry on a prefix of the store's bucket, reaching it the
// way an operator would: the AWS environment for credentials (the
// machine's own AWS_* cleared) and --s3-endpoint for the address.
func s3Ferry(t *testing.T, store *weedtest.Store, prefix string, args ...string) *Proc {
	t.Helper()
	store.SetEnv(t)
	t.Setenv("AWS_ENDPOINT_URL", "")
	a := append([]string{"-p", "0", "-b", "127.0.0.1", "--s3-endpoint", store.Endpoint}, args...)
	return Start(t, t.TempDir(), append(a, "s3://"+store.Bucket+"/"+prefix)...)
}

// jsonNames lists a folder through ?format=json: name → type.
func jsonNames(t *testing.T, url string) map[string]string {
	t.Helper()
	resp, body := Do(t, "GET", url+"?format=json", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s?format=json: %d %s", url, resp.StatusCode, body)
	}
	var page struct {
		Path    string
		Entries []struct{ Name, Type, Modified string }
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatalf("listing JSON: %v: %s", err, body)
	}
	out := map[string]string{}
	for _, e := range page.Entries {
		out[e.Name] = e.Type
		if e.Type == "file" && e.Modified == "" {
			t.Errorf("%s: a file without a modification time: %s", e.Name, body)
		}
	}
	return out
}

// Every read a folder answers, answered by a bucket through the real
// binary: uploads by PUT and multipart POST, listings as HTML and JSON,
// ranges (one, a suffix, several), conditional GETs, archives, checksums,
// and moves, copies and deletes with their effect seen by the next read.
func TestS3Reads(t *testing.T) {
	store := weedtest.Shared(t)
	p := s3Ferry(t, store, "reads-"+strings.ToLower(rand.Text()[:8]), "-w")
	if !strings.Contains(p.Stdout(), "serving s3://"+store.Bucket+"/") {
		t.Errorf("the banner does not name the bucket:\n%s", p.Stdout())
	}
	big := randomBytes(t, 3<<20+17)
	if resp, body := Do(t, "PUT", p.URL+"/docs/big.bin", bytes.NewReader(big)); resp.StatusCode != 201 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, body)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("f", "notes.txt")
	fw.Write([]byte("hello from a form\n"))
	fw, _ = mw.CreateFormFile("f", "sub/deep.md")
	fw.Write([]byte("# deep\n"))
	mw.Close()
	if resp, body := Do(t, "POST", p.URL+"/docs/", &form, "Content-Type", mw.FormDataContentType()); resp.StatusCode != 201 {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}

	t.Run("listings", func(t *testing.T) {
		if got := jsonNames(t, p.URL+"/docs/"); got["big.bin"] != "file" || got["notes.txt"] != "file" || got["sub"] != "dir" || len(got) != 3 {
			t.Errorf("JSON listing of /docs/: %v", got)
		}
		resp, body := Do(t, "GET", p.URL+"/docs/", nil, "Accept", "text/html")
		if resp.StatusCode != 200 || !strings.Contains(string(body), `href="big.bin"`) || !strings.Contains(string(body), `href="sub/"`) {
			t.Errorf("HTML listing: %d\n%s", resp.StatusCode, body)
		}
		if resp, _ := Do(t, "GET", p.URL+"/docs?x=1", nil); resp.StatusCode != 301 || resp.Header.Get("Location") != "./docs/?x=1" {
			t.Errorf("folder without its slash: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := Do(t, "GET", p.URL+"/nothing/", nil); resp.StatusCode != 404 {
			t.Errorf("a missing folder: %d", resp.StatusCode)
		}
	})

	t.Run("ranges and validators", func(t *testing.T) {
		resp, body := Do(t, "GET", p.URL+"/docs/big.bin", nil)
		if resp.StatusCode != 200 || !bytes.Equal(body, big) || resp.Header.Get("Accept-Ranges") != "bytes" {
			t.Fatalf("whole file: %d, %d bytes", resp.StatusCode, len(body))
		}
		etag := resp.Header.Get("Etag")
		if etag == "" || resp.Header.Get("Last-Modified") == "" {
			t.Errorf("validators: ETag %q, Last-Modified %q", etag, resp.Header.Get("Last-Modified"))
		}
		resp, body = Do(t, "GET", p.URL+"/docs/big.bin", nil, "Range", "bytes=1000-1999")
		if resp.StatusCode != 206 || !bytes.Equal(body, big[1000:2000]) || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 1000-1999/%d", len(big)) {
			t.Errorf("bytes=1000-1999: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Range"), len(body))
		}
		resp, body = Do(t, "GET", p.URL+"/docs/big.bin", nil, "Range", "bytes=-500")
		if resp.StatusCode != 206 || !bytes.Equal(body, big[len(big)-500:]) {
			t.Errorf("bytes=-500: %d, %d bytes", resp.StatusCode, len(body))
		}
		resp, body = Do(t, "GET", p.URL+"/docs/big.bin", nil, "Range", "bytes=0-9,2000000-2000099")
		_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != 206 || params["boundary"] == "" {
			t.Fatalf("two ranges: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for _, want := range [][]byte{big[:10], big[2000000:2000100]} {
			part, err := mr.NextPart()
			if err != nil {
				t.Fatalf("two ranges: %v", err)
			}
			if got, _ := io.ReadAll(part); !bytes.Equal(got, want) {
				t.Errorf("two ranges: part %q has the wrong bytes", part.Header.Get("Content-Range"))
			}
		}
		if resp, _ := Do(t, "GET", p.URL+"/docs/big.bin", nil, "Range", fmt.Sprintf("bytes=%d-", len(big)+5)); resp.StatusCode != 416 || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", len(big)) {
			t.Errorf("unsatisfiable: %d %q", resp.StatusCode, resp.Header.Get("Content-Range"))
		}
		if resp, body := Do(t, "GET", p.URL+"/docs/big.bin", nil, "If-None-Match", etag); resp.StatusCode != 304 || len(body) != 0 {
			t.Errorf("If-None-Match: %d, %d bytes", resp.StatusCode, len(body))
		}
		if resp, body := Do(t, "GET", p.URL+"/docs/big.bin", nil, "Range", "bytes=0-99", "If-Range", `"other"`); resp.StatusCode != 200 || len(body) != len(big) {
			t.Errorf("If-Range that does not match: %d, %d bytes", resp.StatusCode, len(body))
		}
		if resp, body := Do(t, "HEAD", p.URL+"/docs/notes.txt", nil); resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Length") != "18" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("HEAD: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Length"), resp.Header.Get("Content-Type"))
		}
	})

	t.Run("archives and checksums", func(t *testing.T) {
		resp, body := Do(t, "GET", p.URL+"/docs/big.bin?hash=sha256", nil)
		if want := sum(string(big)) + "  big.bin\n"; resp.StatusCode != 200 || string(body) != want {
			t.Errorf("?hash=sha256: %d %q, want %q", resp.StatusCode, body, want)
		}
		want := map[string]string{
			"docs/big.bin":     sum(string(big)),
			"docs/notes.txt":   sum("hello from a form\n"),
			"docs/sub/deep.md": sum("# deep\n"),
		}
		for _, format := range []string{"zip", "tar", "tar.gz"} {
			resp, body := Do(t, "GET", p.URL+"/docs/?"+format, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("?%s: %d", format, resp.StatusCode)
			}
			files, dirs := unpackArchive(t, format, body)
			if fmt.Sprint(files) != fmt.Sprint(want) || fmt.Sprint(dirs) != "[docs/ docs/sub/]" {
				t.Errorf("?%s: files %v, folders %v", format, files, dirs)
			}
		}
	})

	t.Run("move, copy, delete", func(t *testing.T) {
		if resp, _ := Do(t, "MOVE", p.URL+"/docs/notes.txt", nil, "Destination", p.URL+"/docs/sub/renamed.txt"); resp.StatusCode != 201 {
			t.Fatalf("MOVE: %d", resp.StatusCode)
		}
		if resp, _ := Do(t, "COPY", p.URL+"/docs/sub/", nil, "Destination", p.URL+"/copy/"); resp.StatusCode != 201 {
			t.Fatalf("COPY of a folder: %d", resp.StatusCode)
		}
		if got := jsonNames(t, p.URL+"/copy/"); got["renamed.txt"] != "file" || got["deep.md"] != "file" {
			t.Errorf("the copy holds %v", got)
		}
		if resp, body := Do(t, "GET", p.URL+"/copy/renamed.txt", nil); resp.StatusCode != 200 || string(body) != "hello from a form\n" {
			t.Errorf("the copied file: %d %q", resp.StatusCode, body)
		}
		if resp, _ := Do(t, "GET", p.URL+"/docs/notes.txt", nil); resp.StatusCode != 404 {
			t.Errorf("the moved file is still there: %d", resp.StatusCode)
		}
		if resp, _ := Do(t, "DELETE", p.URL+"/copy/", nil); resp.StatusCode != 204 {
			t.Fatalf("DELETE of a folder: %d", resp.StatusCode)
		}
		if resp, _ := Do(t, "GET", p.URL+"/copy/", nil); resp.StatusCode != 404 {
			t.Errorf("the deleted folder: %d", resp.StatusCode)
		}
	})
}

// Two ferry nodes on one bucket are one share: what one node stores, the
// other lists and serves, ranges included, with the same validators.
func TestS3TwoNodes(t *testing.T) {
	store := weedtest.Shared(t)
	prefix := "nodes-" + strings.ToLower(rand.Text()[:8])
	a := s3Ferry(t, store, prefix, "--upload")
	b := s3Ferry(t, store, prefix)
	data := randomBytes(t, 1<<20+3)
	if resp, body := Do(t, "PUT", a.URL+"/shared/f.bin", bytes.NewReader(data)); resp.StatusCode != 201 {
		t.Fatalf("PUT through node A: %d %s", resp.StatusCode, body)
	}
	if got := jsonNames(t, b.URL+"/shared/"); got["f.bin"] != "file" {
		t.Fatalf("node B lists %v", got)
	}
	respA, _ := Do(t, "HEAD", a.URL+"/shared/f.bin", nil)
	respB, body := Do(t, "GET", b.URL+"/shared/f.bin", nil, "Range", "bytes=1000-1999")
	if respB.StatusCode != 206 || !bytes.Equal(body, data[1000:2000]) {
		t.Errorf("range through node B: %d, %d bytes", respB.StatusCode, len(body))
	}
	if respA.Header.Get("Etag") == "" || respA.Header.Get("Etag") != respB.Header.Get("Etag") {
		t.Errorf("the nodes disagree on the ETag: %q and %q", respA.Header.Get("Etag"), respB.Header.Get("Etag"))
	}
	if resp, _ := Do(t, "GET", b.URL+"/shared/f.bin", nil, "If-None-Match", respA.Header.Get("Etag")); resp.StatusCode != 304 {
		t.Errorf("node A's ETag at node B: %d", resp.StatusCode)
	}
	if resp, body := Do(t, "GET", b.URL+"/shared/f.bin", nil); resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Errorf("whole file through node B: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, _ := Do(t, "PUT", b.URL+"/shared/g.bin", strings.NewReader("x")); resp.StatusCode != 405 {
		t.Errorf("node B is read-only, yet PUT answered %d", resp.StatusCode)
	}
	// A node started now counts the bucket's tree in its banner: what it
	// exposes, and the dotfile someone put there behind ferry's back.
	if _, err := store.Client().PutObject(context.Background(), &awss3.PutObjectInput{
		Bucket: aws.String(store.Bucket), Key: aws.String(prefix + "/.env"), Body: strings.NewReader("SECRET=1"),
	}); err != nil {
		t.Fatal(err)
	}
	c := s3Ferry(t, store, prefix)
	// The banner's survey of the bucket is printed after the URL Start
	// waits for: on a loaded machine it comes a moment later.
	c.WaitOutput("refused:", 30*time.Second)
	if out := c.Stdout(); !strings.Contains(out, "exposed: 1 file and 1 folder\n") || !strings.Contains(out, "refused: 1 dotfile(s) near the top\n") {
		t.Errorf("the banner of a third node:\n%s", out)
	}
	if resp, _ := Do(t, "GET", c.URL+"/.env", nil); resp.StatusCode != 404 {
		t.Errorf("a dotfile in the bucket: %d", resp.StatusCode)
	}
}

// What cannot work is said at startup, in one line, with the exit status a
// script can act on: 2 for a mistake on the command line or in the
// environment, 1 for a store that cannot be reached (it may come back).
func TestS3StartupErrors(t *testing.T) {
	store := weedtest.Shared(t)
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644)
	run := func(t *testing.T, args ...string) (int, string, string) {
		t.Helper()
		a := append([]string{"-p", "0", "-b", "127.0.0.1"}, args...)
		return Run(t, t.TempDir(), 60*time.Second, a...)
	}
	for _, c := range []struct {
		name string
		env  []string
		args []string
		code int
		says string
	}{
		{"no such bucket", nil, []string{"--s3-endpoint", store.Endpoint, "s3://no-such-bucket"}, 2, "no such bucket"},
		{"wrong secret", []string{"AWS_SECRET_ACCESS_KEY", "wrong"}, []string{"--s3-endpoint", store.Endpoint, "s3://" + store.Bucket}, 2, "access denied"},
		{"unreachable", nil, []string{"--s3-endpoint", "http://127.0.0.1:" + fmt.Sprint(weedtest.FreePort(t)), "s3://" + store.Bucket}, 1, "cannot be reached"},
		{"CA bundle missing", []string{"AWS_CA_BUNDLE", "/nonexistent/ca.pem"}, []string{"--s3-endpoint", store.Endpoint, "s3://" + store.Bucket}, 2, "AWS_CA_BUNDLE=/nonexistent/ca.pem"},
		{"CA bundle not PEM", []string{"AWS_CA_BUNDLE", notPEM}, []string{"--s3-endpoint", store.Endpoint, "s3://" + store.Bucket}, 2, "no PEM certificate"},
		{"cgi", nil, []string{"--cgi", "--s3-endpoint", store.Endpoint, "s3://" + store.Bucket}, 2, "--cgi needs a folder"},
		{"with other arguments", nil, []string{"--s3-endpoint", store.Endpoint, "s3://" + store.Bucket, "."}, 2, "served alone"},
		{"no bucket named", nil, []string{"s3://"}, 2, "names no bucket"},
	} {
		t.Run(c.name, func(t *testing.T) {
			store.SetEnv(t)
			for i := 0; i < len(c.env); i += 2 {
				t.Setenv(c.env[i], c.env[i+1])
			}
			code, stdout, stderr := run(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.says) || strings.Count(stderr, "\n") != 1 || stdout != "" ||
				strings.Contains(stderr, "goroutine") {
				t.Errorf("exit %d (want %d); stdout %q; stderr %q (want one line saying %q)", code, c.code, stdout, stderr, c.says)
			}
		})
	}
	// A machine's own AWS_CA_BUNDLE that works must not stand in the way.
	t.Run("a usable CA bundle", func(t *testing.T) {
		store.SetEnv(t)
		t.Setenv("AWS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
		p := s3Ferry(t, store, "ca")
		if resp, _ := Do(t, "GET", p.URL+"/", nil); resp.StatusCode != 200 {
			t.Errorf("GET /: %d", resp.StatusCode)
		}
	})
}

// A store that goes away is a 503 that says so, soon, for every kind of
// read and write, never a 500 with the store's errors and never a hang; and
// ferry serves again by itself once the store is back.
func TestS3StoreDown(t *testing.T) {
	store := weedtest.Start(t)
	p := s3Ferry(t, store, "down", "-w")
	data := randomBytes(t, 200<<10)
	if resp, _ := Do(t, "PUT", p.URL+"/d/f.bin", bytes.NewReader(data)); resp.StatusCode != 201 {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	store.Kill(t)
	client := &http.Client{Timeout: 2 * time.Minute}
	for _, c := range []struct{ method, path string }{
		{"GET", "/d/f.bin"}, {"GET", "/d/"}, {"GET", "/"}, {"GET", "/d/f.bin?hash=sha256"},
		{"GET", "/?zip"}, {"GET", "/d/?format=json"}, {"HEAD", "/d/f.bin"}, {"PUT", "/d/new.bin"},
		{"DELETE", "/d/f.bin"},
	} {
		var body io.Reader
		if c.method == "PUT" {
			body = strings.NewReader("body")
		}
		req, _ := http.NewRequest(c.method, p.URL+c.path, body)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", c.method, c.path, err)
			continue
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != 503 || c.method != "HEAD" && !strings.Contains(string(got), "storage cannot be reached") ||
			strings.Contains(string(got), "dial") || strings.Contains(string(got), "127.0.0.1") {
			t.Errorf("%s %s with the store down: %d after %s: %q", c.method, c.path, resp.StatusCode, took.Round(time.Millisecond), got)
		}
		if resp.Header.Get("Retry-After") == "" && c.method == "GET" {
			t.Errorf("%s %s: no Retry-After", c.method, c.path)
		}
	}
	if strings.Contains(p.Stdout()+p.Stderr(), "panic") {
		t.Errorf("ferry panicked:\n%s", p.Stderr())
	}
	store.Restart(t)
	deadline := time.Now().Add(time.Minute)
	for {
		resp, body := Do(t, "GET", p.URL+"/d/f.bin", nil)
		if resp.StatusCode == 200 {
			if !bytes.Equal(body, data) {
				t.Errorf("after the store came back: %d bytes, not the file", len(body))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d a minute after the store came back", resp.StatusCode)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if got := jsonNames(t, p.URL+"/d/"); got["f.bin"] != "file" {
		t.Errorf("listing after the store came back: %v", got)
	}
}

// A store that stops sending in the middle of a download does not hold the
// client for ever: after the store's idle time (--s3-timeout) the response is cut
// short, the log says so, and the store's connection is dropped; a listing
// that stalls answers 503; the SDK's own complaints stay out of stderr.
func TestS3StalledDownload(t *testing.T) {
	const size = 1 << 20
	store := weedtest.NewStalling(t, size)
	store.SetEnv(t)
	p := Start(t, t.TempDir(), "-p", "0", "-b", "127.0.0.1", "--s3-timeout", stallTimeout, "--s3-endpoint", store.Endpoint, "s3://b")
	client := &http.Client{Timeout: 90 * time.Second}
	resp, err := client.Get(p.URL + "/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || err == nil || n >= size {
		t.Fatalf("GET: %d, %d bytes, %v; want a 200 cut short", resp.StatusCode, n, err)
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		t.Fatalf("the download still hung after 90 s (%d bytes)", n)
	}
	if !p.WaitOutput("cut short", 30*time.Second) {
		t.Errorf("no 'cut short' in the log:\n%s", p.Stdout())
	}
	select {
	case <-store.Ended:
	case <-time.After(30 * time.Second):
		t.Error("the store's stalled connection was kept open")
	}
	// A page that would go out compressed (index.html: no length, the
	// end is the last chunk) is broken off too when the store breaks off,
	// never ended as if whole.
	resp, err = client.Get(p.URL + "/")
	if err == nil {
		var b []byte
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("a page the store broke off came whole: %d, Content-Encoding %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Encoding"), len(b))
		}
	}
	// A listing that stalls answers 503 (startup's listing was whole).
	store.StallListings.Store(true)
	resp, err = client.Get(p.URL + "/sub/?format=json")
	if err != nil {
		t.Fatalf("a stalled listing: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("a stalled listing: %d, want 503\n%s\n%s", resp.StatusCode, p.Stdout(), p.Stderr())
	}
	if strings.Contains(p.Stderr(), "SDK") {
		t.Errorf("the S3 SDK's own log reached stderr:\n%s", p.Stderr())
	}
}

// A GET of a text-like file on a store looks for its precompressed copies
// (NAME.zst, .br, .gz) with one listing, not a GET (and, the key being
// absent, a listing) per coding the client accepts; a copy that is there
// is still served.
func TestS3PrecompressedRequests(t *testing.T) {
	store := weedtest.Shared(t)
	count := weedtest.NewCounting(t, store.Endpoint)
	store.SetEnv(t)
	t.Setenv("AWS_ENDPOINT_URL", "")
	prefix := "pre-" + strings.ToLower(rand.Text()[:8])
	p := Start(t, t.TempDir(), "-p", "0", "-b", "127.0.0.1", "-w", "--s3-endpoint", count.Endpoint, "s3://"+store.Bucket+"/"+prefix)
	js := []byte(strings.Repeat("console.log('ferry');\n", 100))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(js)
	zw.Close()
	for name, data := range map[string][]byte{"app.js": js, "lib.js": js, "lib.js.gz": gz.Bytes()} {
		if resp, body := Do(t, "PUT", p.URL+"/"+name, bytes.NewReader(data)); resp.StatusCode != 201 {
			t.Fatalf("PUT %s: %d %s", name, resp.StatusCode, body)
		}
	}
	count.Reset()
	resp, body := Do(t, "GET", p.URL+"/app.js", nil, "Accept-Encoding", "zstd, br, gzip")
	reqs := count.Reset()
	if resp.StatusCode != 200 {
		t.Fatalf("GET app.js: %d", resp.StatusCode)
	}
	total := 0
	for _, n := range reqs {
		total += n
	}
	// One listing for the copies, one GET for the file.
	if total > 2 {
		t.Errorf("GET of a file without copies cost the store %d requests (%v), want 2", total, reqs)
	}
	resp, body = Do(t, "GET", p.URL+"/lib.js", nil, "Accept-Encoding", "zstd, br, gzip")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(body, gz.Bytes()) {
		t.Errorf("GET lib.js beside lib.js.gz: %d, Content-Encoding %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Encoding"), len(body))
	}
}

// TestS3ListCache: with --s3-list-cache a node's folder pages may miss
// another node's upload for up to the cache's age, never its own: its own
// PUT, MKCOL, MOVE and DELETE show on the next page. WebDAV's PROPFIND (not
// a page) always asks the store.
func TestS3ListCache(t *testing.T) {
	store := weedtest.Shared(t)
	prefix := "listcache-" + strings.ToLower(rand.Text()[:8])
	a := s3Ferry(t, store, prefix, "-w", "--webdav", "--s3-list-cache", "1h")
	b := s3Ferry(t, store, prefix, "-w")
	mustPut := func(p *Proc, name string) {
		t.Helper()
		if resp, body := Do(t, "PUT", p.URL+"/"+name, strings.NewReader("x")); resp.StatusCode != 201 {
			t.Fatalf("PUT %s: %d %s", name, resp.StatusCode, body)
		}
	}
	names := func(p *Proc, dir string) string {
		t.Helper()
		var n []string
		for name := range jsonNames(t, p.URL+dir) {
			n = append(n, name)
		}
		slices.Sort(n)
		return strings.Join(n, " ")
	}
	want := func(p *Proc, dir, want string) {
		t.Helper()
		if got := names(p, dir); got != want {
			t.Errorf("%s lists %q, want %q", dir, got, want)
		}
	}
	mustPut(a, "d/a.txt")
	want(a, "/d/", "a.txt")
	mustPut(b, "d/b.txt")
	want(b, "/d/", "a.txt b.txt")
	want(a, "/d/", "a.txt") // node b's upload, within the hour
	resp, body := Do(t, "PROPFIND", a.URL+"/d/", nil, "Depth", "1")
	if resp.StatusCode != 207 || !strings.Contains(string(body), "b.txt") {
		t.Errorf("PROPFIND through the caching node: %d, b.txt missing: %s", resp.StatusCode, body)
	}

	mustPut(a, "d/c.txt")
	want(a, "/d/", "a.txt b.txt c.txt")
	if resp, _ := Do(t, "MKCOL", a.URL+"/d/new/", nil); resp.StatusCode != 201 {
		t.Fatalf("MKCOL: %d", resp.StatusCode)
	}
	want(a, "/d/", "a.txt b.txt c.txt new")
	if resp, _ := Do(t, "MOVE", a.URL+"/d/c.txt", nil, "Destination", a.URL+"/d/new/c.txt"); resp.StatusCode != 201 {
		t.Fatalf("MOVE: %d", resp.StatusCode)
	}
	want(a, "/d/", "a.txt b.txt new")
	want(a, "/d/new/", "c.txt")
	if resp, _ := Do(t, "DELETE", a.URL+"/d/a.txt", nil); resp.StatusCode != 204 {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	want(a, "/d/", "b.txt new")
}
