package e2e

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
)

const (
	davLockBody = `<?xml version="1.0" encoding="utf-8" ?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>` +
		`<D:locktype><D:write/></D:locktype><D:owner><D:href>DESKTOP\user</D:href></D:owner></D:lockinfo>`
	davPatchBody = `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><t:color xmlns:t="urn:test">blue</t:color></D:prop></D:set></D:propertyupdate>`
)

var davTokenRE = regexp.MustCompile(`^<(urn:uuid:[0-9a-f-]+)>$`)

func davToken(t *testing.T, resp *http.Response) string {
	t.Helper()
	m := davTokenRE.FindStringSubmatch(resp.Header.Get("Lock-Token"))
	if m == nil {
		t.Fatalf("Lock-Token %q", resp.Header.Get("Lock-Token"))
	}
	return m[1]
}

// TestWebDAVOptionsAndBanner: --webdav says so in OPTIONS (also OPTIONS *)
// and in the banner; without it nothing changes and the methods answer 501;
// without a write flag PROPFIND works and the writing methods answer 405.
func TestWebDAVOptionsAndBanner(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "a"})

	p := Start(t, dir, "-p", "0", "--webdav")
	if !strings.Contains(p.Stdout(), "webdav: http://") || !strings.Contains(p.Stdout(), "Finder: Go → Connect to Server; Windows: Map network drive") {
		t.Errorf("banner without the mount address:\n%s", p.Stdout())
	}
	resp, _ := davDo(t, "OPTIONS", p.URL+"/", nil)
	if resp.Header.Get("DAV") != "1, 2" || resp.Header.Get("MS-Author-Via") != "DAV" || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS, PROPFIND" {
		t.Errorf("read-only OPTIONS: DAV %q MS %q Allow %q", resp.Header.Get("DAV"), resp.Header.Get("MS-Author-Via"), resp.Header.Get("Allow"))
	}
	if resp, _ := davDo(t, "PROPFIND", p.URL+"/", nil, "Depth", "1"); resp.StatusCode != 207 {
		t.Errorf("read-only PROPFIND = %d", resp.StatusCode)
	}
	for _, m := range []string{"PROPPATCH", "LOCK", "UNLOCK"} {
		resp, _ := davDo(t, m, p.URL+"/a.txt", strings.NewReader(davLockBody))
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS, PROPFIND" {
			t.Errorf("read-only %s = %d Allow %q", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}

	pw := Start(t, dir, "-p", "0", "--webdav", "-w")
	raw := RawRequest(t, hostPort(pw), "OPTIONS * HTTP/1.1\r\nHost: "+hostPort(pw)+"\r\nConnection: close\r\n\r\n", 5*time.Second)
	if !strings.Contains(raw, "Dav: 1, 2\r\n") || !strings.Contains(raw, "Allow: GET, HEAD, OPTIONS, POST, PUT, MKCOL, DELETE, MOVE, COPY, PROPFIND, PROPPATCH, LOCK, UNLOCK\r\n") {
		t.Errorf("OPTIONS * with -w --webdav:\n%s", raw)
	}

	pn := Start(t, dir, "-p", "0", "-w")
	if resp, _ := davDo(t, "OPTIONS", pn.URL+"/", nil); resp.Header.Get("DAV") != "" {
		t.Errorf("DAV header without --webdav")
	}
	for _, m := range []string{"PROPFIND", "PROPPATCH", "LOCK", "UNLOCK"} {
		if resp, _ := davDo(t, m, pn.URL+"/a.txt", nil); resp.StatusCode != 501 {
			t.Errorf("%s without --webdav = %d", m, resp.StatusCode)
		}
	}
	if strings.Contains(pn.Stdout(), "webdav:") {
		t.Errorf("banner names webdav without --webdav")
	}
	// The environment turns it on too.
	t.Setenv("FERRY_WEBDAV", "1")
	pe := Start(t, dir, "-p", "0")
	if resp, _ := davDo(t, "PROPFIND", pe.URL+"/", nil, "Depth", "0"); resp.StatusCode != 207 {
		t.Errorf("FERRY_WEBDAV=1: PROPFIND = %d", resp.StatusCode)
	}
}

// TestWebDAVWindowsMiniRedir replays what Windows' WebDAV client sends to
// copy a file onto a mapped drive: OPTIONS on the root whatever was mapped,
// PUT of 0 bytes, LOCK, PROPPATCH of the Win32 times, PUT of the content,
// UNLOCK.
func TestWebDAVWindowsMiniRedir(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "share"), 0o755)
	p := Start(t, dir, "-p", "0", "-w", "--webdav")
	ua := []string{"User-Agent", "Microsoft-WebDAV-MiniRedir/10.0.19045", "translate", "f"}
	with := func(h ...string) []string { return append(append([]string{}, ua...), h...) }

	resp, _ := davDo(t, "OPTIONS", p.URL+"/", nil, ua...)
	if resp.StatusCode != 204 || resp.Header.Get("DAV") != "1, 2" || resp.Header.Get("MS-Author-Via") != "DAV" {
		t.Fatalf("OPTIONS / = %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = davDo(t, "PROPFIND", p.URL+"/share", nil, with("Depth", "0")...)
	if resp.StatusCode != 207 {
		t.Fatalf("PROPFIND /share = %d", resp.StatusCode)
	}
	if resp, _ = davDo(t, "PROPFIND", p.URL+"/share/report.docx", nil, with("Depth", "0")...); resp.StatusCode != 404 {
		t.Fatalf("PROPFIND of the new name = %d", resp.StatusCode)
	}
	if resp, _ = davDo(t, "PUT", p.URL+"/share/report.docx", strings.NewReader(""), ua...); resp.StatusCode != 201 {
		t.Fatalf("PUT 0 bytes = %d", resp.StatusCode)
	}
	resp, body := davDo(t, "LOCK", p.URL+"/share/report.docx", strings.NewReader(davLockBody), with("Timeout", "Second-3600", "Content-Type", "text/xml; charset=\"utf-8\"")...)
	if resp.StatusCode != 200 || !strings.Contains(body, "Second-3600") {
		t.Fatalf("LOCK = %d %s", resp.StatusCode, body)
	}
	tok := davToken(t, resp)
	patch := `<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>` +
		`<Z:Win32CreationTime>Mon, 10 Jun 2024 08:00:00 GMT</Z:Win32CreationTime>` +
		`<Z:Win32LastAccessTime>Tue, 11 Jun 2024 08:00:00 GMT</Z:Win32LastAccessTime>` +
		`<Z:Win32LastModifiedTime>Tue, 11 Jun 2024 09:30:00 GMT</Z:Win32LastModifiedTime>` +
		`<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>`
	// Without the token the file is locked; with it the times are set.
	if resp, _ = davDo(t, "PROPPATCH", p.URL+"/share/report.docx", strings.NewReader(patch), ua...); resp.StatusCode != 423 {
		t.Errorf("PROPPATCH without the token = %d", resp.StatusCode)
	}
	resp, body = davDo(t, "PROPPATCH", p.URL+"/share/report.docx", strings.NewReader(patch), with("If", "(<"+tok+">)")...)
	if resp.StatusCode != 207 || strings.Contains(body, "HTTP/1.1 4") {
		t.Fatalf("PROPPATCH = %d %s", resp.StatusCode, body)
	}
	content := strings.Repeat("word ", 2000)
	if resp, _ = davDo(t, "PUT", p.URL+"/share/report.docx", strings.NewReader(content), ua...); resp.StatusCode != 423 {
		t.Errorf("PUT without the token = %d", resp.StatusCode)
	}
	if resp, _ = davDo(t, "PUT", p.URL+"/share/report.docx", strings.NewReader(content), with("If", "(<"+tok+">)")...); resp.StatusCode != 204 {
		t.Fatalf("PUT with the token = %d", resp.StatusCode)
	}
	// Windows sets the time again after writing.
	if resp, _ = davDo(t, "PROPPATCH", p.URL+"/share/report.docx", strings.NewReader(patch), with("If", "(<"+tok+">)")...); resp.StatusCode != 207 {
		t.Fatalf("second PROPPATCH = %d", resp.StatusCode)
	}
	if resp, _ = davDo(t, "UNLOCK", p.URL+"/share/report.docx", nil, with("Lock-Token", "<"+tok+">")...); resp.StatusCode != 204 {
		t.Fatalf("UNLOCK = %d", resp.StatusCode)
	}
	data, err := os.ReadFile(filepath.Join(dir, "share", "report.docx"))
	if err != nil || string(data) != content {
		t.Fatalf("stored %d bytes, %v", len(data), err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "share", "report.docx"))
	if want := time.Date(2024, 6, 11, 9, 30, 0, 0, time.UTC); !fi.ModTime().Equal(want) {
		t.Errorf("mtime %v, want %v", fi.ModTime(), want)
	}
	// The listing Windows reads back shows the time and size.
	resp, body = davDo(t, "PROPFIND", p.URL+"/share/", strings.NewReader(windowsPropfind), with("Depth", "1")...)
	if resp.StatusCode != 207 || !strings.Contains(body, "<getlastmodified>Tue, 11 Jun 2024 09:30:00 GMT</getlastmodified>") ||
		!strings.Contains(body, fmt.Sprintf("<getcontentlength>%d</getcontentlength>", len(content))) {
		t.Errorf("PROPFIND after the copy = %d %s", resp.StatusCode, body)
	}
	if resp, _ = davDo(t, "PUT", p.URL+"/share/report.docx", strings.NewReader("after unlock"), ua...); resp.StatusCode != 204 {
		t.Errorf("PUT after UNLOCK = %d", resp.StatusCode)
	}
}

// windowsPropfind is the PROPFIND body of Windows' WebDAV client.
const windowsPropfind = `<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:"><D:prop><D:name/><D:parentname/><D:href/><D:ishidden/>` +
	`<D:isreadonly/><D:getcontenttype/><D:contentclass/><D:getcontentlanguage/><D:creationdate/><D:lastaccessed/><D:getlastmodified/>` +
	`<D:getcontentlength/><D:iscollection/><D:isstructureddocument/><D:defaultdocument/><D:displayname/><D:isroot/><D:resourcetype/></D:prop></D:propfind>`

// TestWebDAVFinder replays macOS Finder copying a file in: a chunked PUT
// with X-Expected-Entity-Length and no Content-Length, AppleDouble "._"
// and .DS_Store files, which ferry accepts and discards without --hidden.
func TestWebDAVFinder(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "-w", "--webdav")
	addr := hostPort(p)
	ua := "WebDAVFS/3.0.0 (03008000) Darwin/22.1.0 (arm64)"
	chunked := func(path, body string, expect int) string {
		req := fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nTransfer-Encoding: chunked\r\nX-Expected-Entity-Length: %d\r\nConnection: close\r\n\r\n", path, addr, ua, expect)
		for i := 0; i < len(body); i += 1000 {
			part := body[i:min(i+1000, len(body))]
			req += fmt.Sprintf("%x\r\n%s\r\n", len(part), part)
		}
		return statusOf(RawRequest(t, addr, req+"0\r\n\r\n", 10*time.Second))
	}
	resp, _ := davDo(t, "PROPFIND", p.URL+"/", nil, "Depth", "1", "User-Agent", ua)
	if resp.StatusCode != 207 {
		t.Fatalf("PROPFIND = %d", resp.StatusCode)
	}
	if resp, _ := davDo(t, "PUT", p.URL+"/photo.jpg", strings.NewReader(""), "User-Agent", ua); resp.StatusCode != 201 {
		t.Fatalf("PUT 0 bytes = %d", resp.StatusCode)
	}
	resp, _ = davDo(t, "LOCK", p.URL+"/photo.jpg", strings.NewReader(davLockBody), "User-Agent", ua, "Timeout", "Second-600")
	if resp.StatusCode != 200 {
		t.Fatalf("LOCK = %d", resp.StatusCode)
	}
	tok := davToken(t, resp)
	if got := chunked("/._photo.jpg", strings.Repeat("A", 4096), 4096); got != "201" {
		t.Errorf("PUT ._photo.jpg = %s", got)
	}
	content := strings.Repeat("jpegdata", 5000)
	// A body shorter than announced is cut short: nothing replaces the file.
	if got := chunked("/photo.jpg", content[:1000], len(content)); got == "201" || got == "204" {
		t.Errorf("short chunked PUT = %s", got)
	}
	req := fmt.Sprintf("PUT /photo.jpg HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\nX-Expected-Entity-Length: %d\r\nIf: (<%s>)\r\nConnection: close\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", addr, len(content), tok, len(content), content)
	if got := statusOf(RawRequest(t, addr, req, 10*time.Second)); got != "204" {
		t.Errorf("chunked PUT = %s", got)
	}
	if got := chunked("/.DS_Store", "Bud1", 4); got != "201" {
		t.Errorf("PUT .DS_Store = %s", got)
	}
	if resp, _ := davDo(t, "UNLOCK", p.URL+"/photo.jpg", nil, "Lock-Token", "<"+tok+">"); resp.StatusCode != 204 {
		t.Errorf("UNLOCK = %d", resp.StatusCode)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "photo.jpg")); string(data) != content {
		t.Errorf("photo.jpg has %d bytes", len(data))
	}
	for _, junk := range []string{"._photo.jpg", ".DS_Store"} {
		if _, err := os.Stat(filepath.Join(dir, junk)); err == nil {
			t.Errorf("%s was stored", junk)
		}
	}
	// Another dotfile is still refused, and with --hidden Finder's files
	// are stored like any other.
	if resp, _ := davDo(t, "PUT", p.URL+"/.env", strings.NewReader("x")); resp.StatusCode != 400 {
		t.Errorf("PUT .env = %d", resp.StatusCode)
	}
	ph := Start(t, dir, "-p", "0", "-w", "--webdav", "--hidden")
	if resp, _ := davDo(t, "PUT", ph.URL+"/._photo.jpg", strings.NewReader("AD")); resp.StatusCode != 201 {
		t.Errorf("--hidden: PUT ._photo.jpg = %d", resp.StatusCode)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "._photo.jpg")); string(data) != "AD" {
		t.Errorf("--hidden: ._photo.jpg = %q", data)
	}
}

// TestWebDAVPersist: dead properties and locks are kept in the folder, so a
// restarted ferry still has them; the state is never listed or served.
func TestWebDAVPersist(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"doc.txt": "x"})
	p := Start(t, dir, "-p", "0", "-w", "--webdav", "--hidden")
	if resp, _ := davDo(t, "PROPPATCH", p.URL+"/doc.txt", strings.NewReader(davPatchBody)); resp.StatusCode != 207 {
		t.Fatalf("PROPPATCH = %d", resp.StatusCode)
	}
	resp, _ := davDo(t, "LOCK", p.URL+"/doc.txt", strings.NewReader(davLockBody))
	tok := davToken(t, resp)
	p.Signal(syscall.SIGTERM)
	if code := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	p = Start(t, dir, "-p", "0", "-w", "--webdav", "--hidden")
	resp, body := davDo(t, "PROPFIND", p.URL+"/doc.txt", nil, "Depth", "0")
	if resp.StatusCode != 207 || !strings.Contains(body, `<color xmlns="urn:test">blue</color>`) || !strings.Contains(body, tok) {
		t.Errorf("after a restart: %d %s", resp.StatusCode, body)
	}
	if resp, _ := davDo(t, "PUT", p.URL+"/doc.txt", strings.NewReader("y")); resp.StatusCode != 423 {
		t.Errorf("PUT of a file locked before the restart = %d", resp.StatusCode)
	}
	_, body = davDo(t, "PROPFIND", p.URL+"/", nil, "Depth", "1")
	if strings.Contains(body, ".ferry") {
		t.Errorf("the state is listed: %s", body)
	}
	for _, path := range []string{"/.ferry/props/", "/.ferry/locks/", "/%2eferry/locks/"} {
		if resp, body := davDo(t, "GET", p.URL+path, nil); resp.StatusCode < 400 || strings.Contains(body, "urn:uuid") {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
		}
		if resp, _ := davDo(t, "PROPFIND", p.URL+path, nil, "Depth", "1"); resp.StatusCode < 400 {
			t.Errorf("PROPFIND %s = %d", path, resp.StatusCode)
		}
	}
}

// TestWebDAVLocksHoldFerrysWrites: a lock taken over WebDAV holds every
// write ferry does, its token lets them through, and a deleted file's lock
// and properties go with it.
func TestWebDAVLocksHoldFerrysWrites(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"box/a.txt": "a", "other.txt": "o"})
	p := Start(t, dir, "-p", "0", "-w", "--webdav")
	resp, _ := davDo(t, "LOCK", p.URL+"/box/", strings.NewReader(davLockBody))
	if resp.StatusCode != 200 {
		t.Fatalf("LOCK = %d", resp.StatusCode)
	}
	tok := davToken(t, resp)
	for _, c := range []struct {
		method, path string
		hdr          []string
		body         string
	}{
		{"PUT", "/box/a.txt", nil, "new"},
		{"PUT", "/box/b.txt", nil, "new"},
		{"DELETE", "/box/a.txt", nil, ""},
		{"DELETE", "/box/", nil, ""},
		{"MKCOL", "/box/sub/", nil, ""},
		{"MOVE", "/box/a.txt", []string{"Destination", p.URL + "/a.txt"}, ""},
		{"MOVE", "/other.txt", []string{"Destination", p.URL + "/box/other.txt"}, ""},
		{"COPY", "/other.txt", []string{"Destination", p.URL + "/box/a.txt"}, ""},
		{"PROPPATCH", "/box/a.txt", nil, davPatchBody},
	} {
		resp, body := davDo(t, c.method, p.URL+c.path, strings.NewReader(c.body), c.hdr...)
		if resp.StatusCode != 423 || !strings.Contains(body, "lock-token-submitted") {
			t.Errorf("%s %s = %d, want 423: %s", c.method, c.path, resp.StatusCode, body)
		}
	}
	// A multipart upload into the locked folder too.
	if code := secMultipart(t, p.URL+"/box/", map[string]string{"up.txt": "u"}); code != 423 {
		t.Errorf("POST into the locked folder = %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "box", "up.txt")); err == nil {
		t.Error("the POST stored a file")
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "box", "a.txt")); string(data) != "a" {
		t.Errorf("a.txt changed: %q", data)
	}
	// A lock on one file holds a form's upload over it, and nothing of
	// the form is stored.
	resp, _ = davDo(t, "LOCK", p.URL+"/other.txt", strings.NewReader(davLockBody))
	otherTok := davToken(t, resp)
	if code := secMultipart(t, p.URL+"/", map[string]string{"fresh.txt": "f", "other.txt": "replaced"}); code != 423 {
		t.Errorf("POST over a locked file = %d", code)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "other.txt")); string(data) != "o" {
		t.Errorf("other.txt = %q", data)
	}
	if _, err := os.Stat(filepath.Join(dir, "fresh.txt")); err == nil {
		t.Error("the refused form stored fresh.txt")
	}
	davDo(t, "UNLOCK", p.URL+"/other.txt", nil, "Lock-Token", "<"+otherTok+">")
	if resp, _ := davDo(t, "PUT", p.URL+"/box/a.txt", strings.NewReader("with token"), "If", "(<"+tok+">)"); resp.StatusCode != 204 {
		t.Errorf("PUT with the token = %d", resp.StatusCode)
	}
	if resp, _ := davDo(t, "DELETE", p.URL+"/box/", nil, "If", "(<"+tok+">)"); resp.StatusCode != 204 {
		t.Errorf("DELETE with the token = %d", resp.StatusCode)
	}
	// The folder and its lock are gone: a new folder of that name is free.
	if resp, _ := davDo(t, "MKCOL", p.URL+"/box/", nil); resp.StatusCode != 201 {
		t.Errorf("MKCOL after the delete = %d", resp.StatusCode)
	}
	if resp, _ := davDo(t, "MKCOL", p.URL+"/box/", nil); resp.StatusCode != 405 {
		t.Errorf("MKCOL of an existing folder = %d, want 405 (RFC 4918 §9.3.1)", resp.StatusCode)
	}
}

// davDo is Do with the body as text.
func davDo(t testing.TB, method, url string, body io.Reader, hdr ...string) (*http.Response, string) {
	t.Helper()
	resp, b := Do(t, method, url, body, hdr...)
	return resp, string(b)
}

// TestWebDAVSafety: WebDAV's methods obey every rule ferry's others do:
// credentials and per-path grants (PROPFIND reads; PROPPATCH, LOCK and
// UNLOCK write), --auth-anon-read, dotfiles, symlinks leading out, the
// reserved /.ferry, hostile paths and cross-site requests, with nothing
// written outside the folder.
func TestWebDAVSafety(t *testing.T) {
	box := newSecBox(t)
	WriteFiles(t, box.root, map[string]string{".hidden": "h"})
	p := Start(t, box.root, "-p", "0", "-w", "--webdav",
		"--auth", "alice:alice-pw", "--auth", "bob:bob-pw@/docs:ro", "--auth", "carol:carol-pw@/drop")
	addr := secAddr(p)
	as := func(user string) []string {
		if user == "" {
			return nil
		}
		return []string{"Authorization", "Basic " + b64(user+":"+user+"-pw")}
	}
	type req struct {
		user, method, path string
		hdr                []string
		body               string
		want               int
	}
	cases := []req{
		{"", "PROPFIND", "/", []string{"Depth", "0"}, "", 401},
		{"", "LOCK", "/drop/x", nil, davLockBody, 401},
		{"alice", "PROPFIND", "/", []string{"Depth", "1"}, "", 207},
		{"bob", "PROPFIND", "/docs/", []string{"Depth", "1"}, "", 207},
		{"bob", "PROPFIND", "/", []string{"Depth", "0"}, "", 403},
		{"bob", "PROPFIND", "/pub.txt", []string{"Depth", "0"}, "", 403},
		{"bob", "PROPPATCH", "/docs/a.txt", nil, davPatchBody, 403},
		{"bob", "LOCK", "/docs/a.txt", nil, davLockBody, 403},
		{"bob", "UNLOCK", "/docs/a.txt", []string{"Lock-Token", "<urn:uuid:00000000-0000-4000-8000-000000000000>"}, "", 403},
		{"carol", "LOCK", "/drop/new.txt", nil, davLockBody, 201},
		{"carol", "PROPPATCH", "/drop/.keep", nil, davPatchBody, 404},
		{"carol", "PROPFIND", "/docs/", []string{"Depth", "0"}, "", 403},
		{"carol", "LOCK", "/docs/a.txt", nil, davLockBody, 403},
		{"carol", "PROPPATCH", "/pub.txt", nil, davPatchBody, 403},
		{"carol", "MOVE", "/drop/new.txt", []string{"Destination", "http://" + addr + "/docs/x.txt"}, "", 403},
		{"alice", "PROPFIND", "/.hidden", []string{"Depth", "0"}, "", 404},
		{"alice", "PROPPATCH", "/.hidden", nil, davPatchBody, 404},
		{"alice", "LOCK", "/.newdot", nil, davLockBody, 400},
		{"alice", "LOCK", "/sub/..%2f..%2fcanary.txt", nil, davLockBody, 400},
		{"alice", "PROPFIND", "/link-out", []string{"Depth", "0"}, "", 404},
		{"alice", "PROPFIND", "/dir-out/", []string{"Depth", "1"}, "", 404},
		{"alice", "PROPPATCH", "/link-out", nil, davPatchBody, 404},
		{"alice", "LOCK", "/abs-out", nil, davLockBody, 409},
		{"alice", "PROPFIND", "/.ferry/", []string{"Depth", "1"}, "", 405},
		{"alice", "LOCK", "/.ferry/locks/x", nil, davLockBody, 405},
		{"alice", "PROPFIND", "/%2eferry/", []string{"Depth", "1"}, "", 404},
		{"alice", "PROPPATCH", "/pub.txt", []string{"Sec-Fetch-Site", "cross-site"}, davPatchBody, 403},
		{"alice", "LOCK", "/pub.txt", []string{"Origin", "http://evil.example"}, davLockBody, 403},
	}
	var carolTok string
	for _, c := range cases {
		resp, body := secRaw(t, addr, c.method, c.path, append(as(c.user), c.hdr...), c.body)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %s %s = %d, want %d: %.200s", c.user, c.method, c.path, resp.StatusCode, c.want, body)
		}
		if strings.Contains(body, secCanary) {
			t.Errorf("%s %s revealed the canary", c.method, c.path)
		}
		if c.user == "carol" && c.method == "LOCK" && c.want == 201 {
			carolTok = davToken(t, resp)
		}
	}
	// A lock is its taker's: another user cannot use or drop it.
	if resp, _ := secRaw(t, addr, "PUT", "/drop/new.txt", append(as("alice"), "If", "(<"+carolTok+">)"), "x"); resp.StatusCode != 423 {
		t.Errorf("alice PUT with carol's token = %d", resp.StatusCode)
	}
	if resp, _ := secRaw(t, addr, "UNLOCK", "/drop/new.txt", append(as("alice"), "Lock-Token", "<"+carolTok+">"), ""); resp.StatusCode != 403 {
		t.Errorf("alice UNLOCK of carol's lock = %d", resp.StatusCode)
	}
	if resp, _ := secRaw(t, addr, "UNLOCK", "/drop/new.txt", append(as("carol"), "Lock-Token", "<"+carolTok+">"), ""); resp.StatusCode != 204 {
		t.Errorf("carol UNLOCK = %d", resp.StatusCode)
	}
	// No hostile path reaches outside with any WebDAV method.
	for _, m := range []string{"PROPFIND", "PROPPATCH", "LOCK", "UNLOCK"} {
		for _, target := range traversals {
			body := ""
			switch m {
			case "PROPPATCH":
				body = davPatchBody
			case "LOCK":
				body = davLockBody
			}
			resp, rb := secRaw(t, addr, m, target, append(as("alice"), "Depth", "1", "Lock-Token", "<urn:uuid:x>"), body)
			if resp.StatusCode < 400 || strings.Contains(rb, secCanary) || strings.Contains(rb, "canary.txt</href>") {
				t.Errorf("%s %s = %d: %.200s", m, target, resp.StatusCode, rb)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(box.root, ".newdot")); err == nil {
		t.Error("LOCK made a dotfile")
	}
	box.resetLinks(t)
	box.check(t)

	// --auth-anon-read: anyone may PROPFIND, writes still need credentials.
	pa := Start(t, box.root, "-p", "0", "-w", "--webdav", "--auth", "alice:alice-pw", "--auth-anon-read")
	if resp, _ := davDo(t, "PROPFIND", pa.URL+"/", nil, "Depth", "1"); resp.StatusCode != 207 {
		t.Errorf("anonymous PROPFIND = %d", resp.StatusCode)
	}
	for _, m := range []string{"PROPPATCH", "LOCK", "UNLOCK"} {
		if resp, _ := davDo(t, m, pa.URL+"/pub.txt", strings.NewReader(davLockBody)); resp.StatusCode != 401 {
			t.Errorf("anonymous %s = %d", m, resp.StatusCode)
		}
	}
}

// TestWebDAVCadaver drives cadaver, a command-line WebDAV client, through a
// script: folders, upload, download, copy, move, locks and properties,
// with --auth (credentials from ~/.netrc).
func TestWebDAVCadaver(t *testing.T) {
	p := Start(t, t.TempDir(), "-p", "0", "-b", "127.0.0.1", "-w", "--webdav", "--auth", "alice:s3cret")
	cadaverSession(t, p)
}

// TestWebDAVCadaverS3 is the same session with ferry serving a bucket.
func TestWebDAVCadaverS3(t *testing.T) {
	p := s3Ferry(t, weedtest.Shared(t), "cadaver-"+strings.ToLower(rand.Text()), "-w", "--webdav", "--auth", "alice:s3cret")
	cadaverSession(t, p)
}

// cadaverSession scripts cadaver against ferry (as alice:s3cret) and checks
// the tree through plain GETs afterwards.
func cadaverSession(t *testing.T, p *Proc) {
	bin := NeedCommand(t, "cadaver")
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".netrc"), []byte("machine 127.0.0.1 login alice password s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	WriteFiles(t, work, map[string]string{"local.txt": "hello from cadaver\n"})
	run := func(script string) string {
		t.Helper()
		cmd := exec.Command(bin, p.URL+"/")
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "HOME="+home)
		cmd.Stdin = strings.NewReader(script)
		done := make(chan struct{})
		var out []byte
		go func() { out, _ = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("cadaver did not finish:\n%s", out)
		}
		return string(out)
	}
	out := run("mkcol docs\nput local.txt docs/a.txt\nget docs/a.txt back.txt\ncopy docs/a.txt docs/b.txt\n" +
		"move docs/b.txt docs/c.txt\nlock docs/c.txt\npropset docs/c.txt color blue\npropget docs/c.txt color\n" +
		"unlock docs/c.txt\nls docs\nquit\n")
	if n := strings.Count(out, "succeeded"); n < 9 || strings.Contains(out, "failed") || !strings.Contains(out, "Value of color is: blue") {
		t.Errorf("cadaver (%d succeeded):\n%s", n, out)
	}
	if data, _ := os.ReadFile(filepath.Join(work, "back.txt")); string(data) != "hello from cadaver\n" {
		t.Errorf("downloaded %q", data)
	}
	auth := []string{"Authorization", "Basic " + b64("alice:s3cret")}
	for name, want := range map[string]string{"docs/a.txt": "hello from cadaver\n", "docs/c.txt": "hello from cadaver\n"} {
		if resp, data := Do(t, "GET", p.URL+"/"+name, nil, auth...); resp.StatusCode != 200 || string(data) != want {
			t.Errorf("%s = %d %q", name, resp.StatusCode, data)
		}
	}
	if resp, _ := Do(t, "GET", p.URL+"/docs/b.txt", nil, auth...); resp.StatusCode != 404 {
		t.Errorf("docs/b.txt after the move = %d", resp.StatusCode)
	}
	// A file someone else locked cannot be overwritten.
	resp, _ := davDo(t, "LOCK", p.URL+"/docs/a.txt", strings.NewReader(davLockBody), "Authorization", "Basic "+b64("alice:s3cret"))
	if resp.StatusCode != 200 {
		t.Fatalf("LOCK = %d", resp.StatusCode)
	}
	out = run("put local.txt docs/a.txt\ndiscover docs/a.txt\nquit\n")
	if !strings.Contains(out, "423") || !strings.Contains(out, "Lock token <urn:uuid:") {
		t.Errorf("cadaver on a locked file:\n%s", out)
	}
}

// TestWebDAVRclone: rclone's webdav remote syncs a tree up to ferry and
// back down byte for byte, modification times kept (X-OC-Mtime), and a
// second sync finds nothing to do.
func TestWebDAVRclone(t *testing.T) {
	served := t.TempDir()
	p := Start(t, served, "-p", "0", "-b", "127.0.0.1", "-w", "--webdav", "--auth", "alice:s3cret")
	rcloneRoundTrip(t, p, served)
}

// TestWebDAVRcloneS3 is the same round trip with ferry serving a bucket.
func TestWebDAVRcloneS3(t *testing.T) {
	p := s3Ferry(t, weedtest.Shared(t), "rclone-"+strings.ToLower(rand.Text()), "-w", "--webdav", "--auth", "alice:s3cret")
	rcloneRoundTrip(t, p, "")
}

// rcloneRoundTrip syncs a tree up to ferry's WebDAV and back down with
// rclone's webdav remote: byte-identical, modification times kept, nothing
// to do the second time; served, when not "", is the folder ferry serves,
// checked on disk too.
func rcloneRoundTrip(t *testing.T, p *Proc, served string) {
	bin := NeedCommand(t, "rclone")
	conf := filepath.Join(t.TempDir(), "rclone.conf")
	os.WriteFile(conf, nil, 0o600)
	rclone := func(args ...string) string {
		t.Helper()
		obscured, err := exec.Command(bin, "obscure", "s3cret").Output()
		if err != nil {
			t.Fatalf("rclone obscure: %v", err)
		}
		cmd := exec.Command(bin, append([]string{"--config", conf}, args...)...)
		cmd.Env = append(os.Environ(), "RCLONE_CONFIG_F_TYPE=webdav", "RCLONE_CONFIG_F_URL="+p.URL+"/",
			"RCLONE_CONFIG_F_VENDOR=owncloud", "RCLONE_CONFIG_F_USER=alice", "RCLONE_CONFIG_F_PASS="+strings.TrimSpace(string(obscured)))
		done := make(chan struct{})
		var out []byte
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
			<-done
			t.Fatalf("rclone %v did not finish:\n%s", args, out)
		}
		if err != nil {
			t.Fatalf("rclone %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	up, down := t.TempDir(), t.TempDir()
	files := map[string]string{
		"a.txt": "alpha\n", "sub/b.bin": string(randomBytes(t, 3<<20)), "sub/deeper/ünï cödé.txt": "deep\n",
		"sub/empty.txt": "", "spaces and #hash%.txt": "odd name\n",
	}
	WriteFiles(t, up, files)
	base := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	i := 0
	for name := range files {
		mt := base.Add(time.Duration(i) * time.Hour)
		os.Chtimes(filepath.Join(up, filepath.FromSlash(name)), mt, mt)
		i++
	}
	rclone("sync", up, "f:tree")
	rclone("sync", "f:tree", down)
	for name, content := range files {
		roots := []string{down}
		if served != "" {
			roots = append(roots, filepath.Join(served, "tree"))
		}
		for _, root := range roots {
			p := filepath.Join(root, filepath.FromSlash(name))
			data, err := os.ReadFile(p)
			if err != nil || string(data) != content {
				t.Errorf("%s: %d bytes, %v", p, len(data), err)
				continue
			}
			src, _ := os.Stat(filepath.Join(up, filepath.FromSlash(name)))
			if fi, _ := os.Stat(p); fi.ModTime().Unix() != src.ModTime().Unix() {
				t.Errorf("%s: mtime %v, want %v", p, fi.ModTime(), src.ModTime())
			}
		}
	}
	if out := rclone("sync", up, "f:tree", "-v"); !strings.Contains(out, "There was nothing to transfer") && !strings.Contains(out, "Transferred:            0 / 0") {
		t.Errorf("second sync transferred something:\n%s", out)
	}
	// Moves and listings as a mount would do them.
	rclone("moveto", "f:tree/a.txt", "f:tree/sub/moved.txt")
	out := rclone("lsf", "-R", "f:tree")
	if !strings.Contains(out, "sub/moved.txt") || strings.Contains(out, "\na.txt") || strings.HasPrefix(out, "a.txt") {
		t.Errorf("after moveto:\n%s", out)
	}
	if out := rclone("check", up, "f:tree", "--exclude", "a.txt", "--exclude", "sub/moved.txt"); !strings.Contains(out, "0 differences found") {
		t.Errorf("check:\n%s", out)
	}

	// What a new user does first: ls, copy a folder up, move files down
	// and a folder up (the sources go once they arrived).
	out = rclone("ls", "f:tree")
	for name, content := range files {
		if name == "a.txt" {
			name = "sub/moved.txt"
		}
		if want := fmt.Sprintf("%9d %s\n", len(content), name); !strings.Contains(out, want) {
			t.Errorf("rclone ls lacks %q:\n%s", want, out)
		}
	}
	rclone("copy", up, "f:copied")
	if out := rclone("check", "--download", up, "f:copied"); !strings.Contains(out, "0 differences found") {
		t.Errorf("check after copy:\n%s", out)
	}
	moved := t.TempDir()
	rclone("move", "f:copied/sub", moved)
	if out := rclone("lsf", "-R", "--files-only", "f:copied"); strings.Contains(out, "sub/") {
		t.Errorf("after move down, the remote still has:\n%s", out)
	}
	if out := rclone("check", "--download", filepath.Join(up, "sub"), moved); !strings.Contains(out, "0 differences found") {
		t.Errorf("check after move down:\n%s", out)
	}
	rclone("move", moved, "f:back")
	if left, _ := os.ReadDir(moved); len(left) != 0 {
		for _, e := range left {
			if !e.IsDir() {
				t.Errorf("after move up, %s is still here", e.Name())
			}
		}
	}
	if out := rclone("check", "--download", filepath.Join(up, "sub"), "f:back"); !strings.Contains(out, "0 differences found") {
		t.Errorf("check after move up:\n%s", out)
	}
}

// TestWebDAVLocksHoldResumableUploads: the page's resumable uploads (tus)
// are writes too: a lock refuses one at its start and at its end.
func TestWebDAVLocksHoldResumableUploads(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"locked.txt": "keep", "sub/.keep": ""})
	p := Start(t, dir, "-p", "0", "-w", "--webdav")
	c := newTus(t, p.URL)
	resp, _ := davDo(t, "LOCK", p.URL+"/locked.txt", strings.NewReader(davLockBody))
	tok := davToken(t, resp)
	if _, status := c.create("", "locked.txt", 3); status != 423 {
		t.Errorf("tus create over a locked file = %d", status)
	}
	// A lock taken while an upload runs holds its end.
	u, status := c.create("sub", "late.txt", 6)
	if status != 201 {
		t.Fatalf("tus create = %d", status)
	}
	if r := c.patch(u, 0, []byte("abc")); r.StatusCode != 204 {
		t.Fatalf("first PATCH = %d", r.StatusCode)
	}
	resp, _ = davDo(t, "LOCK", p.URL+"/sub/", strings.NewReader(davLockBody))
	subTok := davToken(t, resp)
	if r := c.patch(u, 3, []byte("def")); r.StatusCode != 423 {
		t.Errorf("last PATCH under a lock = %d", r.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "sub", "late.txt")); err == nil {
		t.Error("late.txt was stored under the lock")
	}
	davDo(t, "UNLOCK", p.URL+"/sub/", nil, "Lock-Token", "<"+subTok+">")
	davDo(t, "UNLOCK", p.URL+"/locked.txt", nil, "Lock-Token", "<"+tok+">")
	if u, status := c.create("", "locked.txt", 0); status != 201 || u == "" {
		t.Errorf("tus create after UNLOCK = %d", status)
	}
}

// TestWebDAVLockRaceS3: two ferry nodes on one bucket, LOCKs for one new
// name sent to both at the same instant: exactly one exclusive lock wins
// (RFC 4918 §6.1), every round; and a lock that expired on one node blocks
// nobody on the other.
func TestWebDAVLockRaceS3(t *testing.T) {
	store := weedtest.Shared(t)
	prefix := "lockrace-" + strings.ToLower(rand.Text())
	nodes := []*Proc{s3Ferry(t, store, prefix, "-w", "--webdav"), s3Ferry(t, store, prefix, "-w", "--webdav")}
	for round := range 6 {
		name := fmt.Sprintf("/race%d.txt", round)
		var statuses [4]int
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range statuses {
			wg.Go(func() {
				<-start
				resp, _ := davDo(t, "LOCK", nodes[i%2].URL+name, strings.NewReader(davLockBody))
				statuses[i] = resp.StatusCode
			})
		}
		close(start)
		wg.Wait()
		won, lost := 0, 0
		for _, s := range statuses {
			switch s {
			case 200, 201:
				won++
			case 423:
				lost++
			}
		}
		if won != 1 || lost != len(statuses)-1 {
			t.Errorf("%s: LOCKs on two nodes at once answered %v; want one 200/201 and 423 for the others", name, statuses)
		}
	}
	resp, _ := davDo(t, "LOCK", nodes[0].URL+"/brief.txt", strings.NewReader(davLockBody), "Timeout", "Second-1")
	if resp.StatusCode != 201 {
		t.Fatalf("LOCK for one second = %d", resp.StatusCode)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, body := davDo(t, "LOCK", nodes[1].URL+"/brief.txt", strings.NewReader(davLockBody))
		if resp.StatusCode == 200 {
			break
		}
		if resp.StatusCode != 423 || time.Now().After(deadline) {
			t.Fatalf("LOCK after the other node's lock expired = %d %s", resp.StatusCode, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
