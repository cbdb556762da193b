package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var fingerprintRE = regexp.MustCompile(`(?m)^\s*((?:[0-9A-F]{2}:){31}[0-9A-F]{2})\s*$`)

// peerFingerprint connects to addr and returns the SHA-256 fingerprint of
// the certificate it presents, as the banner prints it.
func peerFingerprint(t *testing.T, addr string) (string, *x509.Certificate) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer conn.Close()
	leaf := conn.ConnectionState().PeerCertificates[0]
	sum := sha256.Sum256(leaf.Raw)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":"), leaf
}

// pinnedClient trusts exactly cert, verifying host names as browsers do.
func pinnedClient(cert *x509.Certificate, h2 bool) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: h2,
	}}
}

func TestTLSSelfSigned(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "over tls\n"})
	p := Start(t, dir, "-p", "0", "--tls")
	out := p.Stdout()
	if !strings.HasPrefix(p.URL, "https://") || strings.Contains(out, "http://") {
		t.Fatalf("banner does not show https URLs:\n%s", out)
	}
	m := fingerprintRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no SHA-256 fingerprint in the banner:\n%s", out)
	}
	addr := secAddr(p)
	fp, leaf := peerFingerprint(t, addr)
	if fp != m[1] {
		t.Fatalf("banner fingerprint %s, server presents %s", m[1], fp)
	}
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("key type %T, want ECDSA", leaf.PublicKey)
	}
	// The certificate names every loopback form a client may use.
	for _, host := range []string{"127.0.0.1", "localhost", "::1"} {
		if err := leaf.VerifyHostname(host); err != nil {
			t.Errorf("certificate does not cover %s: %v", host, err)
		}
	}
	for _, u := range regexp.MustCompile(`https://[^\s/]+/`).FindAllString(out, -1) {
		host, _, _ := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(u, "https://"), "/"))
		if err := leaf.VerifyHostname(host); err != nil {
			t.Errorf("banner URL %s is not covered by the certificate: %v", u, err)
		}
	}

	// HTTP/2 is offered; HTTP/1.1 still works; both verify against the pin.
	for _, h2 := range []bool{true, false} {
		for _, base := range []string{p.URL, "https://localhost:" + p.Port} {
			resp, err := pinnedClient(leaf, h2).Get(base + "/a.txt")
			if err != nil {
				t.Fatalf("GET %s (h2 %v): %v", base, h2, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			wantProto := "HTTP/1.1"
			if h2 {
				wantProto = "HTTP/2.0"
			}
			if resp.StatusCode != 200 || string(b) != "over tls\n" || resp.Proto != wantProto {
				t.Errorf("GET %s (h2 %v) = %d %s %q", base, h2, resp.StatusCode, resp.Proto, b)
			}
			if resp.TLS.Version < tls.VersionTLS12 {
				t.Errorf("negotiated TLS version %x", resp.TLS.Version)
			}
		}
	}

	// TLS 1.0 and 1.1 are refused.
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
		if err == nil {
			conn.Close()
			t.Errorf("TLS version %x accepted", v)
		}
	}
	// Plain HTTP on the TLS port gets no file.
	raw := RawRequest(t, addr, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", 3*time.Second)
	if strings.Contains(raw, "over tls") || strings.HasPrefix(raw, "HTTP/1.1 200") {
		t.Errorf("plain HTTP on the TLS port: %.80q", raw)
	}

	// A second run makes a different certificate.
	p2 := Start(t, dir, "-p", "0", "--tls")
	if m2 := fingerprintRE.FindStringSubmatch(p2.Stdout()); m2 == nil || m2[1] == m[1] {
		t.Errorf("second run fingerprint %v, first %s", m2, m[1])
	}
}

func TestTLSCurlHTTP2(t *testing.T) {
	curl := NeedCommand(t, "curl")
	if out, _ := exec.Command(curl, "--version").Output(); !strings.Contains(string(out), "HTTP2") {
		t.Skip("this curl has no HTTP/2")
	}
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "h2\n"})
	p := Start(t, dir, "-p", "0", "--tls", "--auth", "alice:pw")
	out, err := exec.Command(curl, "-sk", "--http2", "-u", "alice:pw", "-w", "\n%{http_version} %{http_code}", p.URL+"/a.txt").Output()
	if err != nil || string(out) != "h2\n\n2 200" {
		t.Fatalf("curl --http2: %q %v", out, err)
	}
	out, _ = exec.Command(curl, "-sk", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", p.URL+"/a.txt").Output()
	if string(out) != "2 401" {
		t.Fatalf("curl --http2 without credentials: %q", out)
	}
}

// writePair writes a certificate for 127.0.0.1 and its key as PEM files.
func writePair(t *testing.T, dir, prefix string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "test " + prefix},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile = filepath.Join(dir, prefix+"cert.pem")
	keyFile = filepath.Join(dir, prefix+"key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile, cert
}

func TestTLSGivenPair(t *testing.T) {
	keys := t.TempDir()
	certFile, keyFile, cert := writePair(t, keys, "")
	_, otherKey, _ := writePair(t, keys, "other-")
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "pair\n"})
	p := Start(t, dir, "-p", "0", "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(p.URL, "https://") {
		t.Fatalf("banner: %s", p.Stdout())
	}
	fp, leaf := peerFingerprint(t, secAddr(p))
	if !leaf.Equal(cert) {
		t.Fatal("ferry does not present the given certificate")
	}
	if !strings.Contains(p.Stdout(), fp) {
		t.Errorf("banner lacks the fingerprint %s:\n%s", fp, p.Stdout())
	}
	resp, err := pinnedClient(cert, true).Get(p.URL + "/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "pair\n" || resp.Proto != "HTTP/2.0" {
		t.Fatalf("GET = %d %s %q", resp.StatusCode, resp.Proto, b)
	}

	junk := filepath.Join(keys, "junk.pem")
	os.WriteFile(junk, []byte("not pem\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-cert", filepath.Join(keys, "missing.pem"), "--tls-key", keyFile}, "no such file"},
		{[]string{"--tls-cert", certFile, "--tls-key", filepath.Join(keys, "missing.pem")}, "no such file"},
		{[]string{"--tls-cert", certFile, "--tls-key", otherKey}, "does not match"},
		{[]string{"--tls-cert", junk, "--tls-key", keyFile}, "no PEM certificate"},
		{[]string{"--tls-cert", certFile, "--tls-key", junk}, "no PEM private key"},
		{[]string{"--tls-cert", keys, "--tls-key", keyFile}, "cannot read"},
		{[]string{"--tls-cert", certFile}, "go together"},
		{[]string{"--tls-key", keyFile}, "go together"},
	} {
		code, stdout, stderr := Run(t, dir, 10*time.Second, append([]string{"-p", "0"}, c.args...)...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) || strings.Contains(stdout, "https://") {
			t.Errorf("%v: exit %d, stderr %q (want %q)", c.args, code, stderr, c.want)
		}
	}
	if os.Geteuid() != 0 {
		os.Chmod(keyFile, 0)
		code, _, stderr := Run(t, dir, 10*time.Second, "-p", "0", "--tls-cert", certFile, "--tls-key", keyFile)
		if code != 2 || !strings.Contains(stderr, "permission denied") {
			t.Errorf("unreadable key: exit %d, %q", code, stderr)
		}
	}
}
