package e2e

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"html"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestQRTerminal(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "--qr", "-b", "127.0.0.1")
	if !p.WaitOutput("press Ctrl-C", 5*time.Second) {
		t.Fatal("no end of banner")
	}
	out := p.Stdout()
	if !strings.Contains(out, "scan to open "+p.URL+"/") {
		t.Errorf("no QR caption for %s:\n%s", p.URL, out)
	}
	// Half blocks: a QR code of ~29 modules is ~15 lines of ▀▄█.
	lines := 0
	for l := range strings.SplitSeq(out, "\n") {
		if strings.ContainsAny(l, "▀▄█") {
			lines++
		}
	}
	if lines < 10 || lines > 40 || strings.Contains(out, "\x1b") {
		t.Errorf("%d half-block lines (escape codes: %v):\n%s", lines, strings.Contains(out, "\x1b"), out)
	}
}

// qrValue is what the page's QR code encodes: the u= of its QR form.
var qrValue = regexp.MustCompile(`<form class="qr" id="qr" method="get" action="([^"]*)"><input type="hidden" name="u" value="([^"]*)">`)

// reachableAddr is an address of this machine another one could use, as
// the banner lists them (not loopback, not link-local); "" when none.
func reachableAddr() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// TestQRPage: the page's QR code leads a phone to the folder. Opened on
// localhost, it must not encode localhost, which would lead the phone to
// itself, but an address of the LAN (issue 11).
func TestQRPage(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"docs/a.txt": "a"})
	p := Start(t, dir, "-p", "0") // every interface, as by default
	lan := reachableAddr()
	for _, host := range []string{"", "localhost:" + p.Port, "[::1]:" + p.Port, lan + ":" + p.Port} {
		if host == ":"+p.Port {
			continue // no LAN address here
		}
		var hdr []string
		if host != "" {
			hdr = []string{"Host", host}
		}
		_, page := Do(t, "GET", p.URL+"/docs/", nil, append(hdr, "Accept", "text/html")...)
		m := qrValue.FindSubmatch(page)
		if m == nil {
			t.Fatalf("Host %q: page has no QR form:\n%s", host, page)
		}
		action, u := string(m[1]), html.UnescapeString(string(m[2]))
		if action != "../.ferry/qr.svg" {
			t.Errorf("Host %q: QR form leads to %q", host, action)
		}
		switch {
		case strings.HasPrefix(host, lan+":") && lan != "":
			// Opened on the LAN address: the page's own address serves.
			if u != "/docs/" {
				t.Errorf("Host %q: QR encodes %q, want the folder's path", host, u)
			}
		case lan == "":
			t.Logf("no non-loopback interface here: the QR code can only encode %q", u)
		default:
			if want := "http://" + lan + ":" + p.Port + "/docs/"; u != want {
				t.Errorf("Host %q: QR encodes %q, want %q (an address a phone can reach)", host, u, want)
			}
		}
		// The endpoint draws what the page hands it, through the host the
		// page was opened on.
		resp, body := Do(t, "GET", p.URL+"/.ferry/qr.svg?u="+url.QueryEscape(u), nil, hdr...)
		if resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("<svg")) {
			t.Errorf("Host %q: qr.svg?u=%s answers %d", host, u, resp.StatusCode)
		}
	}
	if lan == "" {
		t.Skip("no non-loopback interface: the LAN address case cannot be checked here")
	}
	cases := []struct {
		u      string
		host   string
		status int
	}{
		{"/docs/", "", 200},
		{p.URL + "/docs/", "", 200},
		{"http://evil.example/", "", 400},
		{"//evil.example/x", "", 400},
		{"", "", 400},
		{"/docs/", "ferry.localhost", 200}, // drawn for the Host the client itself used
	}
	for _, c := range cases {
		var hdr []string
		if c.host != "" {
			hdr = []string{"Host", c.host}
		}
		resp, body := Do(t, "GET", p.URL+"/.ferry/qr.svg?u="+c.u, nil, hdr...)
		if resp.StatusCode != c.status {
			t.Errorf("qr.svg?u=%s: %d, want %d", c.u, resp.StatusCode, c.status)
			continue
		}
		if c.status == 200 && (resp.Header.Get("Content-Type") != "image/svg+xml" || !bytes.HasPrefix(body, []byte("<svg"))) {
			t.Errorf("qr.svg?u=%s: %q %.40q", c.u, resp.Header.Get("Content-Type"), body)
		}
	}
}

func TestHashQuery(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("0123456789", 3_000_000)
	WriteFiles(t, dir, map[string]string{"big.bin": big, "sp ace.txt": "hi\n", "sub/x.txt": "x"})
	p := Start(t, dir, "-p", "0")
	s512 := sha512.Sum512([]byte(big))
	cases := []struct {
		path   string
		status int
		body   string
	}{
		{"/big.bin?hash=sha256", 200, sum(big) + "  big.bin\n"},
		{"/big.bin?hash=sha512", 200, hex.EncodeToString(s512[:]) + "  big.bin\n"},
		{"/sp%20ace.txt?hash=sha256", 200, sum("hi\n") + "  sp ace.txt\n"},
		{"/sub/x.txt?hash=SHA256", 200, sum("x") + "  x.txt\n"},
		{"/big.bin?hash=md5", 400, ""},
		{"/big.bin?hash=", 400, ""},
		{"/missing?hash=sha256", 404, ""},
	}
	for _, c := range cases {
		resp, body := Do(t, "GET", p.URL+c.path, nil)
		if resp.StatusCode != c.status || (c.body != "" && string(body) != c.body) {
			t.Errorf("%s: %d %q, want %d %q", c.path, resp.StatusCode, body, c.status, c.body)
		}
		if c.status == 200 && resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", c.path, resp.Header.Get("Content-Type"))
		}
	}
	// A receiver checks what arrived with sha256sum -c.
	if sha, err := exec.LookPath("sha256sum"); err == nil {
		_, line := Do(t, "GET", p.URL+"/sp%20ace.txt?hash=sha256", nil)
		check := t.TempDir()
		os.WriteFile(filepath.Join(check, "sp ace.txt"), []byte("hi\n"), 0o644)
		cmd := exec.Command(sha, "-c", "-")
		cmd.Dir, cmd.Stdin = check, bytes.NewReader(line)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, out)
		}
	}
	// Asking for a checksum is no download: --exit-after is not reached.
	p2 := Start(t, dir, "-p", "0", "--exit-after", "1")
	Do(t, "GET", p2.URL+"/sub/x.txt?hash=sha256", nil)
	if code := p2.Wait(500 * time.Millisecond); code != -1 {
		t.Errorf("a checksum counted as a download (exit %d)", code)
	}
}

func TestExposureSummary(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"a.txt": "a", "b.txt": "b", "docs/c.txt": "c", "docs/deep/d.txt": "d",
		".env": "s", ".git/config": "x", "docs/.hidden": "h", "docs/deep/.too-deep": "not counted",
	})
	outside := t.TempDir()
	os.Symlink(outside, filepath.Join(dir, "out"))
	os.Symlink("/etc/hostname", filepath.Join(dir, "docs", "host"))
	os.Symlink("a.txt", filepath.Join(dir, "inside-link.txt"))
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"-b", "127.0.0.1"}, []string{
			"exposed: 5 files and 2 folders",
			"refused: 3 dotfile(s) near the top; 2 symlink(s) leading out",
			"writes: none (read-only)",
			"bound: 127.0.0.1:", "auth off", "TLS off",
		}},
		// Without --auth, writes are open to everyone: the banner says which.
		{[]string{"-b", "127.0.0.1", "-w"}, []string{
			"auth off: anyone who can reach these addresses can read, upload, overwrite, delete and move/copy;",
		}},
		// --overwrite alone widens nothing: no upload, no overwrite.
		{[]string{"-b", "127.0.0.1", "--overwrite"}, []string{
			"writes: none (read-only)",
			"auth off: anyone who can reach these addresses can read;",
		}},
		{[]string{"-b", "127.0.0.1", "--upload", "--overwrite"}, []string{
			"writes: upload, overwrite",
		}},
		{[]string{"-b", "127.0.0.1", "--upload"}, []string{
			"auth off: anyone who can reach these addresses can read and upload;",
		}},
		{[]string{"-b", "127.0.0.1", "-w", "--hidden", "--auth", "u:p", "--limit-rate", "1M"}, []string{
			"dotfiles are SHARED (--hidden)",
			"writes: upload, overwrite, delete, move/copy",
			"auth on (1 user(s))",
			"rate limit: 1M/s per connection",
		}},
	}
	for _, c := range cases {
		p := Start(t, dir, append([]string{"-p", "0"}, c.args...)...)
		if !p.WaitOutput("press Ctrl-C", 5*time.Second) {
			t.Fatal("no end of banner")
		}
		for _, w := range c.want {
			if !strings.Contains(p.Stdout(), w) {
				t.Errorf("%v: banner lacks %q:\n%s", c.args, w, p.Stdout())
			}
		}
	}
}
