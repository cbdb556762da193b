package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type shareLink struct {
	ID        string    `json:"id"`
	Path      string    `json:"path"`
	Owner     string    `json:"owner"`
	Expires   time.Time `json:"expires"`
	Downloads int       `json:"downloads"`
	Used      int       `json:"used"`
	Token     string    `json:"token"`
	URL       string    `json:"url"`
	Href      string    `json:"href"`
}

// makeLink asks for a share link as user and returns it (201 expected).
func makeLink(t *testing.T, p *Proc, user, body string) shareLink {
	t.Helper()
	resp, b := Do(t, "POST", p.URL+"/.ferry/shares", strings.NewReader(body), "Authorization", "Basic "+b64(user+":pw"), "Content-Type", "application/json")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /.ferry/shares %s as %s: %d %s", body, user, resp.StatusCode, b)
	}
	var l shareLink
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return l
}

func shareTree(t *testing.T) string {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"docs/a.txt":     "alpha",
		"docs/sub/b.txt": "beta",
		"docs/.env":      "SECRET=1",
		"docs/README.md": "# Docs\n",
		"secret.txt":     "not shared",
		"big.bin":        strings.Repeat("0123456789abcdef", 256<<10), // 4 MiB
	})
	return dir
}

func startShares(t *testing.T, dir, secret string, extra ...string) *Proc {
	args := append([]string{"-p", "0", "-b", "127.0.0.1", "--auth", "alice:pw", "--auth", "bob:pw@/docs:ro", "--share-secret", secret}, extra...)
	return Start(t, dir, args...)
}

// TestShareLinks: a user makes a link to what it may read; the link opens
// the folder (listing, files, ?zip) or file without credentials and
// nothing beside it; tampered tokens open nothing; links are listed and
// revoked by their maker only; they expire.
func TestShareLinks(t *testing.T) {
	dir := shareTree(t)
	secret := filepath.Join(t.TempDir(), "conf", "share-secret")
	p := startShares(t, dir, secret)

	l := makeLink(t, p, "bob", `{"path": "/docs/", "expires": "1h"}`)
	if l.Path != "/docs/" || l.Owner != "bob" || !strings.HasPrefix(l.Href, "/.ferry/s/") || !strings.HasSuffix(l.Href, "/") || l.URL != p.URL+l.Href {
		t.Fatalf("link %+v", l)
	}
	if d := time.Until(l.Expires); d < 50*time.Minute || d > 61*time.Minute {
		t.Errorf("expires in %s, want 1h", d)
	}
	if fi, err := os.Stat(secret); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file: %v %v", fi, err)
	}

	// Without credentials: the folder's listing, its files, its archive.
	resp, body := Do(t, "GET", p.URL+l.Href+"?format=json", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"path":"/"`) || !strings.Contains(string(body), `"a.txt"`) || strings.Contains(string(body), ".env") {
		t.Errorf("listing through the link: %d %s", resp.StatusCode, body)
	}
	resp, body = Do(t, "GET", p.URL+l.Href, nil, "Accept", "text/html")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `href="a.txt"`) || !strings.Contains(string(body), "<h3>Docs</h3>") || strings.Contains(string(body), "secret.txt") {
		t.Errorf("HTML listing through the link: %d", resp.StatusCode)
	}
	// The recipient was sent docs/, and the page names it so, not "Home".
	if !strings.Contains(string(body), "<title>Index of docs/</title>") || !strings.Contains(string(body), ">docs</") || strings.Contains(string(body), ">Home<") {
		t.Errorf("the link's page does not name the shared folder:\n%s", body)
	}
	for name, want := range map[string]string{"a.txt": "alpha", "sub/b.txt": "beta"} {
		if resp, body := Do(t, "GET", p.URL+l.Href+name, nil); resp.StatusCode != 200 || string(body) != want {
			t.Errorf("%s through the link: %d %q", name, resp.StatusCode, body)
		}
	}
	resp, body = Do(t, "GET", p.URL+l.Href+"?zip", nil)
	if got := zipNames(t, body); resp.StatusCode != 200 || !slices.Equal(got, []string{"docs/", "docs/README.md", "docs/a.txt", "docs/sub/", "docs/sub/b.txt"}) {
		t.Errorf("?zip through the link: %d %q", resp.StatusCode, got)
	}
	resp, body = Do(t, "GET", p.URL+l.Href+"sub/?zip&name=b.txt", nil)
	if got := zipNames(t, body); resp.StatusCode != 200 || !slices.Equal(got, []string{"b.txt"}) {
		t.Errorf("selection zip through the link: %d %q", resp.StatusCode, got)
	}
	// Previews through the link: the thumbnail and the Markdown.
	if err := os.WriteFile(filepath.Join(dir, "docs", "pic.jpg"), photoJPEG(t, 640, 480, 10), 0o644); err != nil {
		t.Fatal(err)
	}
	if resp, _ := Do(t, "GET", p.URL+l.Href+"pic.jpg?thumb", nil); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("?thumb through the link: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, body := Do(t, "GET", p.URL+l.Href+"README.md?preview", nil); resp.StatusCode != 200 || !strings.Contains(string(body), "<h3>Docs</h3>") {
		t.Errorf("?preview through the link: %d %s", resp.StatusCode, body)
	}
	if resp, _ := Do(t, "GET", p.URL+l.Href+"../big.bin?thumb", nil); resp.StatusCode != 400 {
		t.Errorf("?thumb beside the link: %d", resp.StatusCode)
	}
	// The page's assets are there, below the link.
	if resp, _ := Do(t, "GET", p.URL+l.Href+".ferry/assets/app.js", nil); resp.StatusCode != 200 {
		t.Errorf("assets below the link: %d", resp.StatusCode)
	}
	// Nothing beside the shared folder, however asked for.
	for _, bad := range []string{".env", "../secret.txt", "%2e%2e/secret.txt", "sub/../../secret.txt", "..%2fsecret.txt", ".ferry/status"} {
		resp, body := Do(t, "GET", p.URL+l.Href+bad, nil)
		if resp.StatusCode < 400 || strings.Contains(string(body), "not shared") {
			t.Errorf("%s through the link: %d %q", bad, resp.StatusCode, body)
		}
	}
	// Writes stay refused: the link reads.
	if resp, _ := Do(t, "PUT", p.URL+l.Href+"new.txt", strings.NewReader("x")); resp.StatusCode != 405 {
		t.Errorf("PUT through the link: %d, want 405", resp.StatusCode)
	}

	// Tampering: any other token opens nothing.
	tok := l.Token
	for i, c := range []string{flip(tok, 0), flip(tok, 20), flip(tok, 31), flip(tok, len(tok)-1), tok[:len(tok)-1], tok + "A", "x"} {
		resp, _ := Do(t, "GET", p.URL+"/.ferry/s/"+c+"/a.txt", nil)
		if resp.StatusCode != 404 {
			t.Errorf("tampered token %d: %d, want 404", i, resp.StatusCode)
		}
	}

	// Only what the maker may read; only by a user.
	for _, c := range []struct {
		user, body string
		status     int
	}{
		{"bob", `{"path": "/secret.txt"}`, 403},
		{"bob", `{"path": "/docs/missing.txt"}`, 404},
		{"bob", `{"path": "/docs/a.txt/"}`, 400},
		{"bob", `{"path": "/docs"}`, 400},
		{"bob", `{"path": "/docs/.env"}`, 404},
		{"bob", `{"path": "/.ferry/shares"}`, 400},
		{"bob", `{"path": "/docs/a.txt", "expires": "720h"}`, 400},
		{"bob", `{"path": "/docs/a.txt", "downloads": 100000}`, 400},
		{"bob", `not json`, 400},
		{"alice", `{"path": "/"}`, 201},
	} {
		resp, b := Do(t, "POST", p.URL+"/.ferry/shares", strings.NewReader(c.body), "Authorization", "Basic "+b64(c.user+":pw"), "Content-Type", "application/json")
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %d %s, want %d", c.user, c.body, resp.StatusCode, b, c.status)
		}
	}
	if resp, _ := Do(t, "POST", p.URL+"/.ferry/shares", strings.NewReader(`{"path": "/docs/"}`), "Content-Type", "application/json"); resp.StatusCode != 401 {
		t.Errorf("anonymous POST: %d, want 401", resp.StatusCode)
	}
	if resp, _ := Do(t, "POST", p.URL+"/.ferry/shares", strings.NewReader(`{"path": "/docs/"}`), "Authorization", "Basic "+b64("bob:pw"), "Content-Type", "application/json", "Sec-Fetch-Site", "cross-site"); resp.StatusCode != 403 {
		t.Errorf("cross-site POST: %d, want 403", resp.StatusCode)
	}

	// Listed and revoked by their maker, and only by it.
	list := func(user string) []shareLink {
		_, b := Do(t, "GET", p.URL+"/.ferry/shares", nil, "Authorization", "Basic "+b64(user+":pw"))
		var doc struct{ Links []shareLink }
		json.Unmarshal(b, &doc)
		return doc.Links
	}
	if got := list("bob"); len(got) != 1 || got[0].ID != l.ID || got[0].URL != l.URL {
		t.Errorf("bob's links: %+v", got)
	}
	if got := list("alice"); len(got) != 1 || got[0].Path != "/" {
		t.Errorf("alice's links: %+v", got)
	}
	if resp, _ := Do(t, "DELETE", p.URL+"/.ferry/shares/"+l.ID, nil, "Authorization", "Basic "+b64("alice:pw")); resp.StatusCode != 404 {
		t.Errorf("alice revoking bob's link: %d, want 404", resp.StatusCode)
	}
	_, st := Do(t, "GET", p.URL+"/.ferry/status?format=json", nil, "Authorization", "Basic "+b64("bob:pw"))
	if !strings.Contains(string(st), l.ID) {
		t.Errorf("bob's status page does not list his link: %s", st)
	}
	_, page := Do(t, "GET", p.URL+"/.ferry/status", nil, "Authorization", "Basic "+b64("bob:pw"), "Accept", "text/html")
	if !strings.Contains(string(page), `name="revoke" value="`+l.ID+`"`) {
		t.Errorf("no revoke button on bob's status page")
	}
	_, st = Do(t, "GET", p.URL+"/.ferry/status?format=json", nil, "Authorization", "Basic "+b64("alice:pw"))
	if strings.Contains(string(st), l.ID) || strings.Contains(string(st), l.Token) {
		t.Errorf("alice's status page shows bob's link: %s", st)
	}
	// The status page's button: a form POST, back to the page.
	resp, _ = Do(t, "POST", p.URL+"/.ferry/shares", strings.NewReader("revoke="+l.ID), "Authorization", "Basic "+b64("bob:pw"), "Content-Type", "application/x-www-form-urlencoded")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "status" {
		t.Errorf("revoke form: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := Do(t, "GET", p.URL+l.Href+"a.txt", nil); resp.StatusCode != 404 {
		t.Errorf("revoked link: %d, want 404", resp.StatusCode)
	}
	if resp, _ := Do(t, "DELETE", p.URL+"/.ferry/shares/"+l.ID, nil, "Authorization", "Basic "+b64("bob:pw")); resp.StatusCode != 404 {
		t.Errorf("revoking twice: %d, want 404", resp.StatusCode)
	}

	// A file link: the file at its name, and a listing of just it.
	f := makeLink(t, p, "alice", `{"path": "/big.bin", "expires": "24h"}`)
	if !strings.HasSuffix(f.Href, "/big.bin") {
		t.Errorf("file link %s", f.Href)
	}
	if resp, body := Do(t, "GET", p.URL+f.Href, nil, "Range", "bytes=0-9"); resp.StatusCode != 206 || string(body) != "0123456789" {
		t.Errorf("range through an unlimited link: %d %q", resp.StatusCode, body)
	}
	base := strings.TrimSuffix(f.Href, "big.bin")
	if _, body := Do(t, "GET", p.URL+base+"?format=json", nil); !strings.Contains(string(body), `"big.bin"`) || strings.Contains(string(body), "secret") || strings.Contains(string(body), "docs") {
		t.Errorf("file link's listing: %s", body)
	}
	if resp, _ := Do(t, "GET", p.URL+base+"secret.txt", nil); resp.StatusCode != 404 {
		t.Errorf("beside a file link: %d", resp.StatusCode)
	}

	// Expiry.
	e := makeLink(t, p, "alice", `{"path": "/docs/a.txt", "expires": "2s"}`)
	if resp, _ := Do(t, "GET", p.URL+e.Href, nil); resp.StatusCode != 200 {
		t.Errorf("fresh 2s link: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, body := Do(t, "GET", p.URL+e.Href, nil)
		if resp.StatusCode == http.StatusGone && strings.Contains(string(body), "expired") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expired link still answers %d", resp.StatusCode)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// flip changes the character at i of a token into another of its alphabet.
func flip(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

// TestShareLinkDownloadLimit: a link for N downloads lets exactly N whole
// downloads through, however many race for them at once; one cut short
// does not count; ranges give no way around the count.
func TestShareLinkDownloadLimit(t *testing.T) {
	dir := shareTree(t)
	p := startShares(t, dir, filepath.Join(t.TempDir(), "secret"))
	l := makeLink(t, p, "alice", `{"path": "/big.bin", "downloads": 2}`)
	if l.Downloads != 2 {
		t.Fatalf("link %+v", l)
	}
	want := strings.Repeat("0123456789abcdef", 256<<10)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 8 {
		wg.Go(func() {
			resp, body := Do(t, "GET", p.URL+l.Href, nil)
			mu.Lock()
			defer mu.Unlock()
			statuses[resp.StatusCode]++
			if resp.StatusCode == 200 && string(body) != want {
				t.Errorf("a download through the link is not the file (%d bytes)", len(body))
			}
		})
	}
	wg.Wait()
	if statuses[200] != 2 || statuses[410]+statuses[429] != 6 {
		t.Errorf("8 racing downloads of a 2-download link: %v; want two 200 and six 410/429", statuses)
	}
	waitStatus(t, p.URL+l.Href, http.StatusGone, nil)
	// Listing the link stays possible; its downloads are spent.
	if resp, _ := Do(t, "GET", p.URL+strings.TrimSuffix(l.Href, "big.bin"), nil); resp.StatusCode != 200 {
		t.Errorf("listing a spent link: %d", resp.StatusCode)
	}
	_, b := Do(t, "GET", p.URL+"/.ferry/shares", nil, "Authorization", "Basic "+b64("alice:pw"))
	if !strings.Contains(string(b), `"used": 2`) {
		t.Errorf("the maker's list does not say 2 used: %s", b)
	}

	// One download, cut short: the link still gives its one download.
	one := makeLink(t, p, "alice", `{"path": "/big.bin", "downloads": 1}`)
	cutLinkDownload(t, p, one.Href)
	got := waitStatus(t, p.URL+one.Href, http.StatusOK, []int{http.StatusTooManyRequests})
	if got != want {
		t.Errorf("the download after a cut one: %d bytes", len(got))
	}
	waitStatus(t, p.URL+one.Href, http.StatusGone, nil)

	// A range on a limited link gets the whole file, and counts.
	r := makeLink(t, p, "alice", `{"path": "/big.bin", "downloads": 1}`)
	resp, body := Do(t, "GET", p.URL+r.Href, nil, "Range", "bytes=0-9")
	if resp.StatusCode != 200 || len(body) != len(want) {
		t.Errorf("range on a limited link: %d, %d bytes", resp.StatusCode, len(body))
	}
	waitStatus(t, p.URL+r.Href, http.StatusGone, nil)
	// HEAD and listings never count.
	h := makeLink(t, p, "alice", `{"path": "/docs/", "downloads": 1}`)
	for range 3 {
		Do(t, "HEAD", p.URL+h.Href+"a.txt", nil)
		Do(t, "GET", p.URL+h.Href, nil)
	}
	if resp, body := Do(t, "GET", p.URL+h.Href+"a.txt", nil); resp.StatusCode != 200 || string(body) != "alpha" {
		t.Errorf("first download after HEADs and listings: %d", resp.StatusCode)
	}
	waitStatus(t, p.URL+h.Href+"sub/b.txt", http.StatusGone, nil)
}

// waitStatus GETs u until it answers status (others in pass are tried
// again; any other fails the test) and returns the body.
func waitStatus(t *testing.T, u string, status int, pass []int) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, body := Do(t, "GET", u, nil)
		if resp.StatusCode == status {
			return string(body)
		}
		if !slices.Contains(append(pass, 429), resp.StatusCode) || time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %q, want %d", u, resp.StatusCode, truncate(string(body), 200), status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cutLinkDownload starts a download of href and hangs up after its first bytes.
func cutLinkDownload(t *testing.T, p *Proc, href string) {
	t.Helper()
	u, _ := url.Parse(p.URL)
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// A small receive buffer, so that the kernel cannot take (and
	// acknowledge) the whole file on this client's behalf before it hangs up.
	c.(*net.TCPConn).SetReadBuffer(16 << 10)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", href, u.Host)
	br := bufio.NewReader(c)
	line, _ := br.ReadString('\n')
	if !strings.Contains(line, " 200 ") {
		t.Fatalf("cut download: %q", line)
	}
	io.ReadFull(br, make([]byte, 64<<10))
	c.Close()
}

// TestShareLinkRestart: links survive a restart with the same secret, and
// a new secret (rotation) revokes them all.
func TestShareLinkRestart(t *testing.T) {
	dir := shareTree(t)
	secret := filepath.Join(t.TempDir(), "secret")
	p := startShares(t, dir, secret)
	l := makeLink(t, p, "bob", `{"path": "/docs/a.txt", "downloads": 3}`)
	if resp, _ := Do(t, "GET", p.URL+l.Href, nil); resp.StatusCode != 200 {
		t.Fatalf("link: %d", resp.StatusCode)
	}
	waitUsed(t, p, "bob", 1)
	p.Signal(syscall.SIGTERM)
	if code := p.Wait(20 * time.Second); code != 0 {
		t.Fatalf("ferry exited %d", code)
	}
	q := startShares(t, dir, secret)
	if resp, body := Do(t, "GET", q.URL+l.Href, nil); resp.StatusCode != 200 || string(body) != "alpha" {
		t.Errorf("after a restart: %d %q", resp.StatusCode, body)
	}
	// The count went on where it was: one before, one now, one left.
	waitUsed(t, q, "bob", 2)
	q.Signal(syscall.SIGTERM)
	q.Wait(20 * time.Second)
	// A new secret: every link made with the old one opens nothing.
	r := startShares(t, dir, filepath.Join(t.TempDir(), "other-secret"))
	if resp, _ := Do(t, "GET", r.URL+l.Href, nil); resp.StatusCode != 404 {
		t.Errorf("after rotating the secret: %d, want 404", resp.StatusCode)
	}
	// Two nodes given one secret (and one store) share the links.
	a := startShares(t, dir, secret)
	b := startShares(t, dir, secret)
	m := makeLink(t, a, "alice", `{"path": "/docs/"}`)
	if resp, body := Do(t, "GET", b.URL+m.Href+"sub/b.txt", nil); resp.StatusCode != 200 || string(body) != "beta" {
		t.Errorf("a link made on one node, on another: %d %q", resp.StatusCode, body)
	}
}

// waitUsed waits until user's only link says n downloads used.
func waitUsed(t *testing.T, p *Proc, user string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, b := Do(t, "GET", p.URL+"/.ferry/shares", nil, "Authorization", "Basic "+b64(user+":pw"))
		if strings.Contains(string(b), fmt.Sprintf(`"used": %d`, n)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's links never said %d used: %s", user, n, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestShareLinkLogRedacted: the request log shows which link was used (its
// ID) but never a token that would open it, in any format, in the path,
// the request target or the Referer.
func TestShareLinkLogRedacted(t *testing.T) {
	for _, format := range []string{"text", "json", "combined"} {
		t.Run(format, func(t *testing.T) {
			dir := shareTree(t)
			p := startShares(t, dir, filepath.Join(t.TempDir(), "secret"), "--log", format)
			l := makeLink(t, p, "bob", `{"path": "/docs/", "expires": "1h"}`)
			if resp, _ := Do(t, "GET", p.URL+l.Href+"a.txt?x=1", nil, "Referer", l.URL); resp.StatusCode != 200 {
				t.Fatalf("GET through the link: %d", resp.StatusCode)
			}
			sig := l.Token[strings.Index(l.Token, ".")+1:]
			want := "/.ferry/s/" + l.Token[:16] + "-redacted/a.txt"
			if !p.WaitOutput(want, 5*time.Second) {
				t.Fatalf("no log line with %s:\n%s", want, p.Stdout())
			}
			if out := p.Stdout() + p.Stderr(); strings.Contains(out, l.Token) || strings.Contains(out, sig) {
				t.Errorf("the log holds the token:\n%s", out)
			}
		})
	}
}
