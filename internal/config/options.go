package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-sh/ferry/internal/accesslog"
	"github.com/ferry-sh/ferry/internal/auth"
	"github.com/ferry-sh/ferry/internal/autotls"
	"github.com/ferry-sh/ferry/internal/cgi"
	"github.com/ferry-sh/ferry/internal/headers"
	"github.com/ferry-sh/ferry/internal/hostcheck"
	"github.com/ferry-sh/ferry/internal/proxy"
	"github.com/ferry-sh/ferry/internal/server"
)

// Default ports: the file server's and echo's is Python's http.server's;
// the time service's is its own.
const (
	DefaultPort     = 8000
	DefaultTimePort = 8765
)

// Listen holds what every network command shares: where to listen and how
// to log.
type Listen struct {
	Port  int
	Binds []string
	Log   string // accesslog.FormatText, FormatJSON or FormatCombined
	Quiet bool
	// LogFile, when set, receives the request (or connection) log; the
	// terminal keeps only what it shows live.
	LogFile string
}

// TLS says whether and how to speak HTTPS.
type TLS struct {
	On   bool   // --tls: a fresh self-signed certificate unless Cert is set
	Cert string // PEM certificate file, with Key
	Key  string
}

// Enabled reports whether the server speaks HTTPS.
func (t TLS) Enabled() bool { return t.On || t.Cert != "" }

// Serve holds the options of the file server (ferry [flags] [DIR]).
type Serve struct {
	Listen
	TLS
	Directory      string
	S3Endpoint     string
	S3ListCache    time.Duration
	S3Timeout      time.Duration
	Upload         bool
	Delete         bool
	Overwrite      bool
	Write          bool
	WebDAV         bool
	CGI            bool
	CGIDirs        []string
	CGITimeout     time.Duration
	Auth           []string
	AuthAnonRead   bool
	Hidden         bool
	FollowSymlinks bool
	NoListing      bool
	NoThumbnails   bool
	ShareSecret    string // file holding the share links' key; "" = the user's config folder
	NoCompress     bool
	Headers        []string
	CORS           bool
	SPA            bool
	ExitAfter      int64
	IdleExit       time.Duration
	Once           bool
	Hosts          []string
	BasePath       string
	TrustedProxies []string
	ACME           []string
	HTTP3          bool
	ACMEEmail      string
	ACMECA         string
	ACMECache      string
	MaxConnsPerIP  int
	MaxUpload      Size
	PartialTTL     time.Duration
	LimitRate      Size
	LimitTotal     Size
	QR             bool
}

// Echo holds the options of the request inspector (ferry echo).
type Echo struct {
	Listen
	TLS
	MaxBody Size
}

// Time holds the options of the time service (ferry time).
type Time struct {
	Listen
	IdleTimeout time.Duration
}

// HashPassword holds the options of ferry hash-password.
type HashPassword struct {
	Cost int
}

// bcrypt's bounds and default cost (golang.org/x/crypto/bcrypt), here so
// that validation needs no crypto import.
const (
	MinCost     = 4
	MaxCost     = 31
	DefaultCost = 10
)

// DefaultServe is the file server's options when nothing is set.
func DefaultServe() Serve {
	return Serve{
		Listen:        Listen{Port: DefaultPort, Log: accesslog.FormatText},
		CGITimeout:    60 * time.Second,
		S3Timeout:     15 * time.Second,
		MaxConnsPerIP: server.DefaultMaxConnsPerIP,
		PartialTTL:    24 * time.Hour,
		ACMECA:        autotls.DefaultCA,
	}
}

// DefaultEcho is the request inspector's options when nothing is set.
func DefaultEcho() Echo {
	return Echo{Listen: Listen{Port: DefaultPort, Log: accesslog.FormatText}}
}

// DefaultTime is the time service's options when nothing is set.
func DefaultTime() Time {
	return Time{Listen: Listen{Port: DefaultTimePort, Log: accesslog.FormatText}, IdleTimeout: 60 * time.Second}
}

// DefaultHashPassword is hash-password's options when nothing is set.
func DefaultHashPassword() HashPassword { return HashPassword{Cost: DefaultCost} }

// Error is a bad option value: Key names the option (the flag's long name,
// which is also its config file key), Msg says what is wrong in one line.
type Error struct {
	Key string
	Msg string
}

func (e *Error) Error() string { return e.Msg }

func errorf(key, format string, args ...any) error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks the listening options.
func (l *Listen) Validate() error {
	if l.Port < 0 || l.Port > 65535 {
		return errorf("port", "invalid port %d: use 0 to 65535", l.Port)
	}
	for _, b := range l.Binds {
		if err := CheckBind(b); err != nil {
			return err
		}
	}
	switch l.Log {
	case accesslog.FormatText, accesslog.FormatJSON, accesslog.FormatCombined:
	default:
		return errorf("log", "invalid --log %q: use text, json or combined", l.Log)
	}
	return nil
}

// Validate checks that a certificate and its key come together.
func (t *TLS) Validate() error {
	if (t.Cert == "") != (t.Key == "") {
		// The one given is named, so that its source can be told.
		key := "tls-key"
		if t.Cert != "" {
			key = "tls-cert"
		}
		return errorf(key, "--tls-cert and --tls-key go together")
	}
	return nil
}

// Validate checks the file server's options, in the order of its flags.
func (s *Serve) Validate() error {
	if err := s.Listen.Validate(); err != nil {
		return err
	}
	if s.ExitAfter < 0 {
		return errorf("exit-after", "invalid --exit-after %d: use a positive count", s.ExitAfter)
	}
	if s.IdleExit < 0 {
		return errorf("idle-exit", "invalid --idle-exit %s: use a positive duration", s.IdleExit)
	}
	if s.CGITimeout <= 0 {
		return errorf("cgi-timeout", "invalid --cgi-timeout %s: use a positive duration", s.CGITimeout)
	}
	for _, d := range s.CGIDirs {
		if _, err := cgi.CleanDir(d); err != nil {
			return errorf("cgi-dir", "invalid --cgi-dir %q: %v", d, err)
		}
	}
	if s.S3Endpoint != "" {
		// The SDK would take any string and fail at startup in its own
		// words, as a store that cannot be reached (exit 1).
		u, err := url.Parse(s.S3Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errorf("s3-endpoint", "invalid --s3-endpoint %q: use an http:// or https:// URL such as http://127.0.0.1:8333", s.S3Endpoint)
		}
	}
	if s.S3ListCache < 0 {
		return errorf("s3-list-cache", "invalid --s3-list-cache %s: use 0 (list the store every time) or a positive duration", s.S3ListCache)
	}
	if s.S3Timeout <= 0 {
		return errorf("s3-timeout", "invalid --s3-timeout %s: use a positive duration", s.S3Timeout)
	}
	if s.PartialTTL <= 0 {
		return errorf("partial-ttl", "invalid --partial-ttl %s: use a positive duration", s.PartialTTL)
	}
	for _, r := range []struct {
		key  string
		rate Size
	}{{"limit-rate", s.LimitRate}, {"limit-total", s.LimitTotal}} {
		if r.rate.IsSet() && r.rate.Bytes < 1 {
			return errorf(r.key, "invalid --%s %q: use a positive rate such as 2M", r.key, r.rate.String())
		}
	}
	for _, spec := range s.Auth {
		if _, err := auth.ParseRule(spec); err != nil {
			return errorf("auth", "invalid --auth: %v", err)
		}
	}
	if s.AuthAnonRead && len(s.Auth) == 0 {
		return errorf("auth-anon-read", "--auth-anon-read needs at least one --auth")
	}
	if s.MaxConnsPerIP < 0 {
		return errorf("max-conns-per-ip", "invalid --max-conns-per-ip %d: use 0 (no limit) or more", s.MaxConnsPerIP)
	}
	if _, err := headers.ParseAll(s.Headers); err != nil {
		return errorf("header", "invalid --header %v", err)
	}
	for _, h := range s.Hosts {
		if err := hostcheck.Valid(h); err != nil {
			return errorf("host", "invalid --host: %v", err)
		}
	}
	if _, err := proxy.CleanBasePath(s.BasePath); err != nil {
		return errorf("base-path", "invalid --base-path: %v", err)
	}
	if _, err := proxy.ParseTrusted(s.TrustedProxies); err != nil {
		return errorf("trusted-proxy", "invalid --trusted-proxy: %v", err)
	}
	if err := s.TLS.Validate(); err != nil {
		return err
	}
	if s.HTTP3 && !s.TLS.Enabled() && len(s.ACME) == 0 {
		return errorf("http3", "--http3 needs TLS: add --tls, --tls-cert/--tls-key or --acme")
	}
	if len(s.ACME) > 0 && s.TLS.Enabled() {
		return errorf("acme", "--acme gets its own certificates: leave out --tls, --tls-cert and --tls-key")
	}
	for _, d := range s.ACME {
		if err := autotls.CheckDomain(d); err != nil {
			return errorf("acme", "invalid --acme: %v", err)
		}
	}
	if err := autotls.CheckCA(s.ACMECA); err != nil {
		return errorf("acme-ca", "invalid --acme-ca: %v", err)
	}
	if len(s.ACME) == 0 {
		set := []struct {
			key string
			on  bool
		}{{"acme-email", s.ACMEEmail != ""}, {"acme-ca", s.ACMECA != autotls.DefaultCA}, {"acme-cache", s.ACMECache != ""}}
		for _, o := range set {
			if o.on {
				return errorf(o.key, "--acme-email, --acme-ca and --acme-cache go with --acme DOMAIN")
			}
		}
	}
	return nil
}

// Validate checks the request inspector's options.
func (e *Echo) Validate() error {
	if err := e.Listen.Validate(); err != nil {
		return err
	}
	return e.TLS.Validate()
}

// Validate checks the time service's options.
func (t *Time) Validate() error {
	if err := t.Listen.Validate(); err != nil {
		return err
	}
	if t.IdleTimeout <= 0 {
		return errorf("idle-timeout", "invalid --idle-timeout %s: use a positive duration", t.IdleTimeout)
	}
	return nil
}

// Validate checks hash-password's options.
func (h *HashPassword) Validate() error {
	if h.Cost < MinCost || h.Cost > MaxCost {
		return errorf("cost", "invalid --cost %d: use %d to %d", h.Cost, MinCost, MaxCost)
	}
	return nil
}

// Writes names the write features the options turn on, in the banner's
// words.
func (s *Serve) Writes() []string {
	var can []string
	if s.Upload || s.Write {
		can = append(can, "upload")
	}
	if s.Overwrite && s.Upload || s.Write {
		// --overwrite only widens uploads: alone it writes nothing.
		can = append(can, "overwrite")
	}
	if s.Delete || s.Write {
		can = append(can, "delete")
	}
	if s.Write {
		can = append(can, "move/copy")
	}
	return can
}

// RunsCGI reports whether scripts run: --cgi, or any --cgi-dir.
func (s *Serve) RunsCGI() bool { return s.CGI || len(s.CGIDirs) > 0 }

// PortArg reports whether arg is what someone would type as a port number.
func PortArg(arg string) bool {
	n, err := strconv.Atoi(arg)
	return err == nil && n > 0 && n <= 65535 && strconv.Itoa(n) == arg
}

// CheckBind refuses a --bind value that cannot be an address, suggesting -p
// when it carries a port ("127.0.0.1:9000", "[::1]:9000", ":9000"), a habit
// from servers that take host:port. Whether a name resolves is for the
// listener to find out.
func CheckBind(b string) error {
	if host, port, err := net.SplitHostPort(b); err == nil && PortArg(port) {
		if host == "" {
			return errorf("bind", "invalid --bind %q: the port goes in -p: use -p %s", b, port)
		}
		return errorf("bind", "invalid --bind %q: the port goes in -p: use -b %s -p %s", b, host, port)
	}
	if strings.TrimSpace(b) == "" {
		return errorf("bind", "invalid --bind: empty address")
	}
	return nil
}
