// Package autotls gets and renews certificates from an ACME CA (Let's
// Encrypt by default) for --acme, with golang.org/x/crypto/acme/autocert:
// TLS-ALPN-01 challenges answered on the HTTPS port itself, certificates
// and the account key cached on disk, renewal a third of the lifetime (at
// most 30 days) before expiry.
package autotls

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// DefaultCA is Let's Encrypt's production directory.
const DefaultCA = acme.LetsEncryptURL

// Options configure a Manager.
type Options struct {
	Domains []string
	Email   string // contact for the CA's expiry notices; optional
	CA      string // the directory URL; DefaultCA when empty
	Cache   string // folder for keys and certificates; DefaultCache when empty
}

// DefaultCache is the folder certificates are kept in without --acme-cache:
// the user's cache folder (~/.cache/ferry/acme on Linux).
func DefaultCache() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder for certificates (%v); give one with --acme-cache", err)
	}
	return filepath.Join(dir, "ferry", "acme"), nil
}

// CheckDomain accepts a DNS name a public CA can certify: no address, no
// port, no wildcard (TLS-ALPN-01 cannot prove one).
func CheckDomain(d string) error {
	switch {
	case d == "":
		return errors.New("empty domain")
	case strings.HasPrefix(d, "*"):
		return fmt.Errorf("%q: wildcard certificates need a DNS challenge, which ferry does not do", d)
	}
	if _, err := netip.ParseAddr(strings.Trim(d, "[]")); err == nil {
		return fmt.Errorf("%q is an address; ACME certifies domain names", d)
	}
	if len(d) > 253 || strings.HasSuffix(d, ".") || !strings.Contains(d, ".") {
		// autocert refuses a name without a dot at every handshake
		// ("server name component count invalid"), and no CA certifies
		// one: fail at startup, not with a warning and a server no
		// client can reach.
		return fmt.Errorf("%q is not a fully qualified domain name (like files.example.com); for a certificate on this machine alone, use --tls", d)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return fmt.Errorf("%q is not a domain name", d)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("%q is not a domain name (IDNs go in their xn-- form)", d)
			}
		}
	}
	return nil
}

// CheckCA accepts an https directory URL.
func CheckCA(u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "https" || p.Host == "" {
		return fmt.Errorf("%q is not an https URL of an ACME directory", u)
	}
	return nil
}

// Manager gets certificates for the domains.
type Manager struct {
	m       *autocert.Manager
	domains []string
	CA      string
	Cache   string
}

// New makes a Manager; nothing is fetched until Prefetch or a handshake.
func New(o Options) (*Manager, error) {
	if o.CA == "" {
		o.CA = DefaultCA
	}
	if o.Cache == "" {
		dir, err := DefaultCache()
		if err != nil {
			return nil, err
		}
		o.Cache = dir
	}
	domains := make([]string, len(o.Domains))
	for i, d := range o.Domains {
		domains[i] = strings.ToLower(d)
	}
	return &Manager{
		m: &autocert.Manager{
			// Running with --acme is agreeing to the CA's terms.
			Prompt:     autocert.AcceptTOS,
			Cache:      autocert.DirCache(o.Cache),
			HostPolicy: autocert.HostWhitelist(domains...),
			Email:      o.Email,
			Client:     &acme.Client{DirectoryURL: o.CA, UserAgent: "ferry"},
		},
		domains: domains,
		CA:      o.CA,
		Cache:   o.Cache,
	}, nil
}

// TLSConfig is base with certificates from the CA and the TLS-ALPN-01
// protocol offered, so that the CA's validation reaches the manager.
func (m *Manager) TLSConfig(base *tls.Config) *tls.Config {
	c := base.Clone()
	c.Certificates = nil
	c.GetCertificate = m.m.GetCertificate
	c.NextProtos = append(append([]string(nil), c.NextProtos...), acme.ALPNProto)
	return c
}

// GetCertificate answers a handshake (for listeners set up elsewhere, such
// as HTTP/3's).
func (m *Manager) GetCertificate(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return m.m.GetCertificate(h)
}

// Prefetch gets (or loads from the cache) each domain's certificate now,
// rather than on the first visitor's handshake, and reports each result:
// a wrong domain or an unreachable CA shows at startup. The listener must
// already accept connections, for the CA's validation. autocert bounds
// each exchange (5 minutes).
func (m *Manager) Prefetch(report func(domain string, cert *tls.Certificate, err error)) {
	for _, d := range m.domains {
		// A hello as a current browser sends it, so that the ECDSA
		// certificate browsers will get is the one fetched.
		cert, err := m.m.GetCertificate(&tls.ClientHelloInfo{
			ServerName:        d,
			CipherSuites:      []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
			SignatureSchemes:  []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
			SupportedCurves:   []tls.CurveID{tls.CurveP256},
			SupportedVersions: []uint16{tls.VersionTLS13, tls.VersionTLS12},
		})
		report(d, cert, err)
	}
}
