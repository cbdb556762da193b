package e2e

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"
)

// pinned trusts exactly the certificate whose SHA-256 fingerprint ferry
// printed, as a user who compared it would.
func pinned(fingerprint string) *tls.Config {
	want := strings.ToLower(strings.ReplaceAll(fingerprint, ":", ""))
	return &tls.Config{
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if hex.EncodeToString(sum[:]) != want {
				return errFingerprint
			}
			return nil
		},
	}
}

var errFingerprint = errors.New("certificate does not match the fingerprint ferry printed")

// With --http3, the page, ranges, uploads and listings all work over QUIC
// (quic-go's own client), and the TCP side announces it with Alt-Svc.
func TestHTTP3(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "0123456789abcdef", "sub/b.txt": "b"})
	p := Start(t, dir, "-b", "127.0.0.1", "-p", "0", "--tls", "--http3", "--upload")
	if !strings.Contains(p.Stdout(), "HTTP/3: on UDP port "+p.Port) {
		t.Errorf("banner does not mention HTTP/3:\n%s", p.Stdout())
	}
	fp := ""
	if i := strings.Index(p.Stdout(), "fingerprint:\n  "); i >= 0 {
		fp = strings.TrimSpace(strings.SplitN(p.Stdout()[i+len("fingerprint:\n  "):], "\n", 2)[0])
	}
	tlsConf := pinned(fp)

	// TCP (HTTP/2) announces HTTP/3 on the same port.
	tcp := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConf, ForceAttemptHTTP2: true}}
	resp, err := tcp.Get(p.URL + "/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if alt := resp.Header.Get("Alt-Svc"); !strings.Contains(alt, `h3=":`+p.Port+`"`) {
		t.Errorf("Alt-Svc over %s = %q, want h3 on port %s", resp.Proto, alt, p.Port)
	}

	tr := &http3.Transport{TLSClientConfig: tlsConf}
	defer tr.Close()
	h3 := &http.Client{Timeout: 10 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, body io.Reader, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, p.URL+path, body)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := h3.Do(req)
		if err != nil {
			t.Fatalf("%s %s over HTTP/3: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.ProtoMajor != 3 {
			t.Errorf("%s %s answered over %s", method, path, resp.Proto)
		}
		return resp, string(b)
	}

	resp, body := do("GET", "/a.txt", nil, "Range", "bytes=4-7")
	if resp.StatusCode != http.StatusPartialContent || body != "4567" || resp.Header.Get("Content-Range") != "bytes 4-7/16" {
		t.Errorf("ranged GET: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
	}
	resp, body = do("GET", "/a.txt", nil)
	if resp.StatusCode != 200 || body != "0123456789abcdef" || resp.Header.Get("Alt-Svc") != "" {
		t.Errorf("GET: %d %q (Alt-Svc %q)", resp.StatusCode, body, resp.Header.Get("Alt-Svc"))
	}
	payload := strings.Repeat("upload over quic\n", 4096)
	if resp, _ := do("PUT", "/sub/up.txt", strings.NewReader(payload)); resp.StatusCode != http.StatusCreated {
		t.Errorf("PUT: %d", resp.StatusCode)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "sub", "up.txt")); err != nil || string(b) != payload {
		t.Errorf("uploaded file: %d bytes, %v", len(b), err)
	}
	resp, body = do("GET", "/sub/?format=json", nil)
	var list struct {
		Entries []struct{ Name string } `json:"entries"`
	}
	if err := json.Unmarshal([]byte(body), &list); resp.StatusCode != 200 || err != nil || len(list.Entries) != 2 {
		t.Errorf("listing: %d %v %s", resp.StatusCode, err, body)
	}
	resp, body = do("GET", "/", nil, "Accept", "text/html")
	if resp.StatusCode != 200 || !strings.Contains(body, `href="a.txt"`) || !strings.Contains(body, ".ferry/assets/") {
		t.Errorf("page: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := do("GET", "/.ferry/assets/app.js", nil); resp.StatusCode != 200 {
		t.Errorf("page script: %d", resp.StatusCode)
	}
	if resp, _ := do("GET", "/sub", nil); resp.StatusCode != http.StatusMovedPermanently {
		t.Errorf("folder redirect: %d", resp.StatusCode)
	}
	if !p.WaitOutput("PUT /sub/up.txt 201", 5*time.Second) {
		t.Errorf("no log line for the HTTP/3 upload:\n%s", p.Stdout())
	}

	// Without TLS, --http3 is a usage error.
	if code, _, stderr := Run(t, dir, 10*time.Second, "--http3"); code != 2 || !strings.Contains(stderr, "--http3 needs TLS") {
		t.Errorf("--http3 without TLS: exit %d, %q", code, stderr)
	}
}
