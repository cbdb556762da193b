package server

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
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

// TLSConfig returns ferry's TLS settings for cert: TLS 1.2 or later (Go's
// default cipher suites, all AEAD with forward secrecy), HTTP/2 offered
// first through ALPN.
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
}

// SelfSigned makes an ephemeral ECDSA P-256 certificate valid for hosts
// (IP addresses or DNS names) from an hour before now for 30 days. It lives
// only in memory: a fresh one every run, identified by its fingerprint.
func SelfSigned(hosts []string, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"ferry"}, CommonName: "ferry self-signed"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	seen := map[string]bool{}
	for _, h := range hosts {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip, err := netip.ParseAddr(h); err == nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(ip.WithZone("").AsSlice()))
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// CertHosts lists the names a self-signed certificate should cover: every
// address ferry listens on (each interface address for a listener on all
// interfaces), the names given to --bind, the host name, and localhost.
func CertHosts(ls *Listeners, binds []string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	for _, b := range binds {
		if _, err := netip.ParseAddr(b); err != nil {
			hosts = append(hosts, b)
		}
	}
	if name, err := os.Hostname(); err == nil && name != "" {
		hosts = append(hosts, name)
	}
	all := false
	for _, ln := range ls.List {
		ip, _, ok := listenAddr(ln)
		if !ok {
			continue
		}
		if ip.IsUnspecified() {
			all = true
			continue
		}
		hosts = append(hosts, ip.String())
	}
	if all {
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if pfx, ok := a.(*net.IPNet); ok {
					if ip, ok := netip.AddrFromSlice(pfx.IP); ok {
						hosts = append(hosts, ip.Unmap().String())
					}
				}
			}
		}
	}
	return hosts
}

// LoadKeyPair reads a PEM certificate (chain) and its private key, with an
// error fit for one line on the command line for each way it can go wrong.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := readPEMFile("--tls-cert", certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := readPEMFile("--tls-key", keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	if !hasBlock(certPEM, "CERTIFICATE") {
		return tls.Certificate{}, fmt.Errorf("--tls-cert %s holds no PEM certificate", certFile)
	}
	if !hasBlock(keyPEM, "PRIVATE KEY") {
		return tls.Certificate{}, fmt.Errorf("--tls-key %s holds no PEM private key", keyFile)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		if strings.Contains(err.Error(), "does not match") {
			return tls.Certificate{}, fmt.Errorf("--tls-key %s does not match the certificate in --tls-cert %s", keyFile, certFile)
		}
		return tls.Certificate{}, fmt.Errorf("cannot use --tls-cert %s with --tls-key %s: %v", certFile, keyFile, strings.TrimPrefix(err.Error(), "tls: "))
	}
	return cert, nil
}

func readPEMFile(flag, name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s %s: no such file", flag, name)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("%s %s: permission denied", flag, name)
	default:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s %s: cannot read: %v", flag, name, err)
	}
}

// hasBlock reports whether data holds a PEM block whose type ends in typ
// ("PRIVATE KEY" matches "EC PRIVATE KEY" and "RSA PRIVATE KEY").
func hasBlock(data []byte, typ string) bool {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if strings.HasSuffix(b.Type, typ) {
			return true
		}
	}
}

// Fingerprint is the SHA-256 of the leaf certificate as colon-separated
// uppercase hex, the form browsers show in their certificate viewers.
func Fingerprint(cert tls.Certificate) string {
	if len(cert.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(cert.Certificate[0])
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}
