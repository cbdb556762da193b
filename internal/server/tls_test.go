package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSelfSigned(t *testing.T) {
	now := time.Now()
	cert, err := SelfSigned([]string{"localhost", "127.0.0.1", "::1", "192.0.2.7", "fe80::1%eth0", "box.lan", "localhost"}, now)
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	for _, h := range []string{"localhost", "127.0.0.1", "::1", "192.0.2.7", "box.lan"} {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Errorf("certificate does not cover %s: %v", h, err)
		}
	}
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("key is %T, want ECDSA", leaf.PublicKey)
	}
	if !leaf.NotBefore.Before(now) || !leaf.NotAfter.After(now.Add(24*time.Hour)) {
		t.Errorf("validity %s .. %s", leaf.NotBefore, leaf.NotAfter)
	}
	fp := Fingerprint(cert)
	if !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(fp) {
		t.Errorf("fingerprint %q", fp)
	}
	other, _ := SelfSigned([]string{"localhost"}, now)
	if Fingerprint(other) == fp {
		t.Error("two certificates share a fingerprint")
	}
}

func TestCertHostsCoversListeners(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	hosts := CertHosts(&Listeners{List: []net.Listener{ln}}, []string{"127.0.0.1", "files.example"})
	for _, want := range []string{"localhost", "127.0.0.1", "::1", "files.example"} {
		found := false
		for _, h := range hosts {
			found = found || h == want
		}
		if !found {
			t.Errorf("CertHosts = %v, missing %s", hosts, want)
		}
	}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadKeyPair(t *testing.T) {
	dir := t.TempDir()
	cert, _ := SelfSigned([]string{"localhost"}, time.Now())
	keyDER, _ := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherDER, _ := x509.MarshalECPrivateKey(other)
	p := func(n string) string { return filepath.Join(dir, n) }
	writePEM(t, p("cert.pem"), "CERTIFICATE", cert.Certificate[0])
	writePEM(t, p("key.pem"), "EC PRIVATE KEY", keyDER)
	writePEM(t, p("other.pem"), "EC PRIVATE KEY", otherDER)
	os.WriteFile(p("junk.pem"), []byte("hello\n"), 0o600)

	got, err := LoadKeyPair(p("cert.pem"), p("key.pem"))
	if err != nil || Fingerprint(got) != Fingerprint(cert) {
		t.Fatalf("good pair: %v", err)
	}
	tests := []struct{ cert, key, want string }{
		{"missing.pem", "key.pem", "--tls-cert " + p("missing.pem") + ": no such file"},
		{"cert.pem", "missing.pem", "--tls-key " + p("missing.pem") + ": no such file"},
		{"junk.pem", "key.pem", "holds no PEM certificate"},
		{"cert.pem", "junk.pem", "holds no PEM private key"},
		{"key.pem", "key.pem", "holds no PEM certificate"},
		{"cert.pem", "other.pem", "does not match"},
		{".", "key.pem", "cannot read"},
	}
	for _, tt := range tests {
		_, err := LoadKeyPair(p(tt.cert), p(tt.key))
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("LoadKeyPair(%s, %s) = %v, want %q", tt.cert, tt.key, err, tt.want)
		}
	}
	if os.Geteuid() != 0 {
		os.Chmod(p("key.pem"), 0)
		if _, err := LoadKeyPair(p("cert.pem"), p("key.pem")); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("unreadable key: %v", err)
		}
	}
	if c := TLSConfig(cert); c.MinVersion != tls.VersionTLS12 || c.NextProtos[0] != "h2" {
		t.Errorf("TLSConfig = min %x protos %v", c.MinVersion, c.NextProtos)
	}
}
