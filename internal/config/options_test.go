package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestServeValidate(t *testing.T) {
	size := func(s string) Size {
		var v Size
		if err := v.Set(s); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name   string
		change func(*Serve)
		key    string // "" means valid
		says   string
	}{
		{"defaults", func(*Serve) {}, "", ""},
		{"port 0", func(s *Serve) { s.Port = 0 }, "", ""},
		{"port too large", func(s *Serve) { s.Port = 70000 }, "port", "70000"},
		{"negative port", func(s *Serve) { s.Port = -1 }, "port", "0 to 65535"},
		{"bind with a port", func(s *Serve) { s.Binds = []string{"127.0.0.1:9000"} }, "bind", "use -b 127.0.0.1 -p 9000"},
		{"bind with only a port", func(s *Serve) { s.Binds = []string{":9000"} }, "bind", "use -p 9000"},
		{"bind IPv6 with a port", func(s *Serve) { s.Binds = []string{"[::1]:9000"} }, "bind", "use -b ::1 -p 9000"},
		{"empty bind", func(s *Serve) { s.Binds = []string{""} }, "bind", "empty"},
		{"bind name", func(s *Serve) { s.Binds = []string{"localhost", "::1"} }, "", ""},
		{"log json", func(s *Serve) { s.Log = "json" }, "", ""},
		{"log xml", func(s *Serve) { s.Log = "xml" }, "log", `"xml"`},
		{"negative exit-after", func(s *Serve) { s.ExitAfter = -1 }, "exit-after", "positive"},
		{"negative idle-exit", func(s *Serve) { s.IdleExit = -time.Second }, "idle-exit", "-1s"},
		{"zero cgi-timeout", func(s *Serve) { s.CGITimeout = 0 }, "cgi-timeout", "positive"},
		{"cgi-dir escaping", func(s *Serve) { s.CGIDirs = []string{"../x"} }, "cgi-dir", ".."},
		{"cgi-dir at the top", func(s *Serve) { s.CGIDirs = []string{"/"} }, "cgi-dir", "top"},
		{"cgi-dir", func(s *Serve) { s.CGIDirs = []string{"/scripts/"} }, "", ""},
		{"negative s3-list-cache", func(s *Serve) { s.S3ListCache = -time.Minute }, "s3-list-cache", "0 (list the store every time)"},
		{"s3-list-cache", func(s *Serve) { s.S3ListCache = time.Minute }, "", ""},
		{"zero s3-timeout", func(s *Serve) { s.S3Timeout = 0 }, "s3-timeout", "positive duration"},
		{"zero partial-ttl", func(s *Serve) { s.PartialTTL = 0 }, "partial-ttl", "positive"},
		{"zero rate", func(s *Serve) { s.LimitRate = size("0") }, "limit-rate", "positive rate"},
		{"zero total", func(s *Serve) { s.LimitTotal = size("0K") }, "limit-total", "positive rate"},
		{"rates", func(s *Serve) { s.LimitRate, s.LimitTotal, s.MaxUpload = size("2M"), size("1G"), size("0") }, "", ""},
		{"auth without colon", func(s *Serve) { s.Auth = []string{"alice"} }, "auth", "USER:PASS"},
		{"auth", func(s *Serve) { s.Auth = []string{"alice:pw", "bob:pw@/sub:ro"} }, "", ""},
		{"anon read alone", func(s *Serve) { s.AuthAnonRead = true }, "auth-anon-read", "--auth"},
		{"negative conns", func(s *Serve) { s.MaxConnsPerIP = -1 }, "max-conns-per-ip", "0 (no limit)"},
		{"host with a path", func(s *Serve) { s.Hosts = []string{"example.com/x"} }, "host", "not a host name"},
		{"hosts", func(s *Serve) { s.Hosts = []string{"*", "files.example.com", "*.lan"} }, "", ""},
		{"cert without key", func(s *Serve) { s.TLS.Cert = "c.pem" }, "tls-cert", "go together"},
		{"key without cert", func(s *Serve) { s.TLS.Key = "k.pem" }, "tls-key", "go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultServe()
			tc.change(&s)
			err := s.Validate()
			if tc.key == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Validate = %v, want a *config.Error for %s", err, tc.key)
			}
			if ce.Key != tc.key || !strings.Contains(ce.Msg, tc.says) || strings.Contains(ce.Msg, "\n") {
				t.Errorf("Validate = %s: %q, want %s: one line with %q", ce.Key, ce.Msg, tc.key, tc.says)
			}
		})
	}
}

func TestSiblingsValidate(t *testing.T) {
	e := DefaultEcho()
	if err := e.Validate(); err != nil || e.Port != DefaultPort {
		t.Errorf("echo defaults: %v, port %d", err, e.Port)
	}
	e.TLS.Key = "k.pem"
	if err := e.Validate(); err == nil {
		t.Errorf("echo: a key without a certificate passes")
	}
	tm := DefaultTime()
	if err := tm.Validate(); err != nil || tm.Port != DefaultTimePort || tm.IdleTimeout != time.Minute {
		t.Errorf("time defaults: %v, %+v", err, tm)
	}
	tm.IdleTimeout = 0
	if err := tm.Validate(); err == nil || err.(*Error).Key != "idle-timeout" {
		t.Errorf("time: zero idle timeout: %v", err)
	}
	tm = DefaultTime()
	tm.Binds = []string{"localhost:8765"}
	if err := tm.Validate(); err == nil || !strings.Contains(err.Error(), "-p 8765") {
		t.Errorf("time: bind with a port: %v", err)
	}
	h := DefaultHashPassword()
	if err := h.Validate(); err != nil {
		t.Errorf("hash-password defaults: %v", err)
	}
	for _, cost := range []int{3, 32} {
		h.Cost = cost
		if err := h.Validate(); err == nil {
			t.Errorf("cost %d passes", cost)
		}
	}
}

func TestSize(t *testing.T) {
	var s Size
	if s.IsSet() || s.String() != "" || s.Type() != "size" {
		t.Errorf("zero Size: %v %q", s.IsSet(), s)
	}
	if err := s.Set("1.5K"); err != nil || s.Bytes != 1536 || s.String() != "1.5K" || !s.IsSet() {
		t.Errorf("Set(1.5K): %v, %d %q", err, s.Bytes, s)
	}
	if err := s.Set("lots"); err == nil || s.Bytes != 1536 {
		t.Errorf("Set(lots): %v, and the value became %d", err, s.Bytes)
	}
	if err := s.Set(""); err != nil || s.IsSet() {
		t.Errorf(`Set(""): %v, still set`, err)
	}
}

func TestWrites(t *testing.T) {
	s := DefaultServe()
	if w := s.Writes(); len(w) != 0 {
		t.Errorf("defaults write: %v", w)
	}
	s.Write = true
	if w := strings.Join(s.Writes(), ","); w != "upload,overwrite,delete,move/copy" {
		t.Errorf("-w: %s", w)
	}
	if s.RunsCGI() {
		t.Errorf("CGI on by default")
	}
	s.CGIDirs = []string{"scripts"}
	if !s.RunsCGI() {
		t.Errorf("--cgi-dir does not imply --cgi")
	}
}
