package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// pebbleBinary finds Pebble, Let's Encrypt's test CA: FERRY_PEBBLE, a
// pebble on PATH, or what .ci/pebble built into the user cache. Without
// it the test is skipped, unless FERRY_REQUIRE_PEBBLE=1 (CI).
func pebbleBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FERRY_PEBBLE"); p != "" {
		return p
	}
	if p, err := exec.LookPath("pebble"); err == nil {
		return p
	}
	if cache, err := os.UserCacheDir(); err == nil {
		found, _ := filepath.Glob(filepath.Join(cache, "ferry", "pebble-*"))
		for _, p := range slices.Backward(found) {
			if !strings.HasSuffix(p, ".tmp") {
				return p
			}
		}
	}
	msg := "Pebble is not installed: `bash .ci/pebble` builds it into ~/.cache/ferry, or set FERRY_PEBBLE"
	if os.Getenv("FERRY_REQUIRE_PEBBLE") == "1" {
		t.Fatalf("%s (FERRY_REQUIRE_PEBBLE=1)", msg)
	}
	t.Skip(msg)
	return ""
}

// testCA makes a CA and a certificate for 127.0.0.1 signed by it, for
// Pebble's own HTTPS listener; it returns the files' paths.
func testCA(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ferry test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "pebble"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for name, block := range map[string]*pem.Block{
		caFile: {Type: "CERTIFICATE", Bytes: caDER}, certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(name, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return caFile, certFile, keyFile
}

// pebble is a running Pebble.
type pebble struct {
	Dir      string         // its ACME directory URL
	APIRoots *x509.CertPool // trusts Pebble's own HTTPS listener
	CAFile   string         // the same, as a PEM file (for SSL_CERT_FILE)
	mgmt     string
}

// startPebble runs Pebble on loopback, with challenges always valid (no
// DNS, no port 443 here), certificates valid for validity.
func startPebble(t *testing.T, validity time.Duration) *pebble {
	t.Helper()
	bin := pebbleBinary(t)
	dir := t.TempDir()
	caFile, certFile, keyFile := testCA(t, dir)
	port, mport := freePort(t), freePort(t)
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress":           "127.0.0.1:" + port,
		"managementListenAddress": "127.0.0.1:" + mport,
		"certificate":             certFile,
		"privateKey":              keyFile,
		"httpPort":                5002,
		"tlsPort":                 5001,
		"ocspResponderURL":        "",
		"retryAfter":              map[string]int{"authz": 1, "order": 1},
		"keyAlgorithm":            "ecdsa",
		"profiles": map[string]any{"default": map[string]any{
			"description": "test", "validityPeriod": int(validity.Seconds()),
		}},
	}}
	b, _ := json.Marshal(conf)
	confFile := filepath.Join(dir, "pebble.json")
	os.WriteFile(confFile, b, 0o644)
	cmd := exec.Command(bin, "-config", confFile, "-strict=false")
	cmd.Env = append(os.Environ(), "PEBBLE_VA_ALWAYS_VALID=1", "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("pebble output:\n%s", out)
		}
	})
	pem, _ := os.ReadFile(caFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	p := &pebble{Dir: "https://127.0.0.1:" + port + "/dir", APIRoots: pool, CAFile: caFile, mgmt: "https://127.0.0.1:" + mport}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get(p.Dir)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-done:
			t.Fatalf("pebble exited:\n%s", out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble not ready: %v\n%s", err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// IssuerRoots are the roots of the certificates Pebble issues, fetched
// from its management interface, as a client that trusts that CA has them.
func (p *pebble) IssuerRoots(t *testing.T) *x509.CertPool {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.APIRoots}}}
	resp, err := client.Get(p.mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("no root from pebble: %s", b)
	}
	return pool
}

// servedCert connects to addr as a browser for domain would, trusting
// roots, and returns the certificate ferry presented.
func servedCert(t *testing.T, addr, domain string, roots *x509.CertPool) (*x509.Certificate, error) {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{ServerName: domain, RootCAs: roots})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0], nil
}

func startACMEFerry(t *testing.T, dir string, pb *pebble, cache string, extra ...string) (*Proc, string) {
	t.Helper()
	// Ferry trusts Pebble's HTTPS listener through the standard variable,
	// as it would a private CA's.
	t.Setenv("SSL_CERT_FILE", pb.CAFile)
	args := append([]string{"-b", "127.0.0.1", "-p", freePort(t), "--acme", "ferry.test", "--acme-ca", pb.Dir,
		"--acme-cache", cache, "--acme-email", "ops@ferry.test"}, extra...)
	p := StartNoWait(t, dir, args...)
	if !p.WaitOutput("certificate for ferry.test: valid until", 60*time.Second) {
		t.Fatalf("no certificate within 60s:\n%s\n%s", p.Stdout(), p.Stderr())
	}
	return p, "127.0.0.1:" + args[3]
}

// --acme gets a certificate from the CA at startup, serves with it, keeps
// it on disk for the next start, and renews it before it expires.
func TestACMEWithPebble(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "hello"})
	pb := startPebble(t, time.Hour)
	cache := t.TempDir()
	p, addr := startACMEFerry(t, dir, pb, cache)
	if out := p.Stdout(); !strings.Contains(out, "https://ferry.test:") || !strings.Contains(out, "certificates: from "+pb.Dir) {
		t.Errorf("banner:\n%s", out)
	}
	roots := pb.IssuerRoots(t)
	first, err := servedCert(t, addr, "ferry.test", roots)
	if err != nil {
		t.Fatalf("handshake as ferry.test, trusting Pebble's root: %v", err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	resp, err := client.Get("https://ferry.test/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello" || resp.Proto != "HTTP/2.0" {
		t.Errorf("GET https://ferry.test/a.txt: %d %s %q", resp.StatusCode, resp.Proto, body)
	}
	if files, _ := os.ReadDir(cache); len(files) < 2 {
		t.Errorf("cache holds %d files, want the account key and the certificate", len(files))
	}

	// A restart takes the certificate from the cache: the same one, no
	// new order.
	p.Signal(2)
	p.Wait(10 * time.Second)
	_, addr = startACMEFerry(t, dir, pb, cache)
	again, err := servedCert(t, addr, "ferry.test", roots)
	if err != nil || again.SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Errorf("after a restart: serial %v (%v), want the cached %v", again.SerialNumber, err, first.SerialNumber)
	}
}

// A certificate is renewed before it expires (a third of its lifetime
// before, as autocert does), without a restart.
func TestACMERenewal(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a renewal (about 15 s)")
	}
	dir := t.TempDir()
	pb := startPebble(t, 24*time.Second)
	_, addr := startACMEFerry(t, dir, pb, t.TempDir())
	roots := pb.IssuerRoots(t)
	first, err := servedCert(t, addr, "ferry.test", roots)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		c, err := servedCert(t, addr, "ferry.test", roots)
		if err != nil {
			t.Fatalf("handshake while waiting for renewal: %v", err)
		}
		if c.SerialNumber.Cmp(first.SerialNumber) != 0 {
			if !c.NotAfter.After(first.NotAfter) {
				t.Errorf("renewed certificate ends %v, not after the first's %v", c.NotAfter, first.NotAfter)
			}
			return
		}
	}
	t.Fatalf("certificate (valid until %v) not renewed within 60s", first.NotAfter)
}

// Bad --acme values are one line and exit 2.
func TestACMEUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--acme", "127.0.0.1"},
		{"--acme", "*.example.com"},
		{"--acme", "example.com", "--tls"},
		{"--acme", "example.com", "--acme-ca", "http://ca.example/dir"},
		{"--acme-email", "a@example.com"},
	} {
		code, stdout, stderr := Run(t, dir, 10*time.Second, args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("ferry %v: exit %d, stderr %q, stdout %q; want 2 and one line", args, code, stderr, stdout)
		}
	}
}
