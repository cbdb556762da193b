package auth

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestParseRule(t *testing.T) {
	hash := "$2a$10$" + strings.Repeat("a", 53)
	tests := []struct {
		spec  string
		want  Rule
		fails string
	}{
		{spec: "alice:s3cret", want: Rule{User: "alice", Secret: "s3cret", Path: ".", Write: true}},
		{spec: "alice:pa:ss@word", want: Rule{User: "alice", Secret: "pa:ss@word", Path: ".", Write: true}},
		{spec: "bob:pw@/docs", want: Rule{User: "bob", Secret: "pw", Path: "docs", Write: true}},
		{spec: "bob:pw@/docs/sub/:ro", want: Rule{User: "bob", Secret: "pw", Path: "docs/sub", Write: false}},
		{spec: "bob:pw@/drop:rw", want: Rule{User: "bob", Secret: "pw", Path: "drop", Write: true}},
		{spec: "bob:pw@/:ro", want: Rule{User: "bob", Secret: "pw", Path: ".", Write: false}},
		{spec: "bob:a@/b@/c", want: Rule{User: "bob", Secret: "a@/b", Path: "c", Write: true}},
		{spec: "carol:" + hash + "@/x:ro", want: Rule{User: "carol", Secret: hash, Hashed: true, Path: "x"}},
		{spec: "carol:" + strings.Replace(hash, "2a", "2y", 1), want: Rule{User: "carol", Secret: strings.Replace(hash, "2a", "2y", 1), Hashed: true, Path: ".", Write: true}},
		{spec: "alice", fails: "expected USER:PASS"},
		{spec: ":pw", fails: "empty user"},
		{spec: "alice:", fails: "empty password"},
		{spec: "alice:@/x", fails: "empty password"},
		{spec: "alice:pw@/../etc", fails: "may not contain .."},
		{spec: "alice:pw@/a\\b", fails: "invalid path"},
		{spec: "alice:pw@/docs:r", fails: "unknown access mode"},
		{spec: "alice:$2a$10$short", fails: "bcrypt"},
		{spec: "al\nice:pw", fails: "control character"},
		{spec: "alice:pw@/docs:rx", fails: "unknown access mode"},
		{spec: "alice:pw@/docs:RO", fails: "unknown access mode"},
		{spec: "alice:pw@/docs:rx:ro", want: Rule{User: "alice", Secret: "pw", Path: "docs:rx"}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseRule(tt.spec)
			if tt.fails != "" {
				if err == nil || !strings.Contains(err.Error(), tt.fails) {
					t.Fatalf("ParseRule(%q) error = %v, want one containing %q", tt.spec, err, tt.fails)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error repeats the password: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRule(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
			}
		})
	}
}

func TestParseBasic(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		hdr        string
		user, pass string
		ok         bool
	}{
		{"Basic " + enc("alice:s3cret"), "alice", "s3cret", true},
		{"basic " + enc("alice:s3:cret"), "alice", "s3:cret", true},
		{"BASIC  " + enc(":"), "", "", true},
		{"Basic " + enc("nocolon"), "", "", false},
		{"Bearer " + enc("a:b"), "", "", false},
		{"Basic !!!", "", "", false},
		{"Basic", "", "", false},
		{"", "", "", false},
		{"Basic " + strings.Repeat("QUFB", 2000), "", "", false},
	}
	for _, tt := range tests {
		u, p, ok := ParseBasic(tt.hdr)
		if u != tt.user || p != tt.pass || ok != tt.ok {
			t.Errorf("ParseBasic(%.40q) = %q, %q, %v; want %q, %q, %v", tt.hdr, u, p, ok, tt.user, tt.pass, tt.ok)
		}
	}
}

func FuzzParseBasic(f *testing.F) {
	f.Add("Basic YWxpY2U6czNjcmV0")
	f.Add("basic Og==")
	f.Add("Basic !!")
	f.Add("Digest x")
	f.Fuzz(func(t *testing.T, h string) {
		u, p, ok := ParseBasic(h)
		if !ok {
			if u != "" || p != "" {
				t.Fatalf("refused header returned %q, %q", u, p)
			}
			return
		}
		if strings.Contains(u, ":") {
			t.Fatalf("user %q contains a colon", u)
		}
		// What was parsed must survive a round trip through a header.
		u2, p2, ok2 := ParseBasic("Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)))
		if !ok2 || u2 != u || p2 != p {
			t.Fatalf("round trip of %q:%q gave %q:%q %v", u, p, u2, p2, ok2)
		}
	})
}

func FuzzParseRule(f *testing.F) {
	f.Add("alice:s3cret")
	f.Add("bob:pw@/docs/sub/:ro")
	f.Add("bob:a@/b@/c:rw")
	f.Add("x:$2a$10$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	f.Add("x:y@/../../etc")
	f.Fuzz(func(t *testing.T, spec string) {
		r, err := ParseRule(spec)
		if err != nil {
			return
		}
		if r.User == "" || r.Secret == "" || strings.Contains(r.User, ":") {
			t.Fatalf("ParseRule(%q) accepted %+v", spec, r)
		}
		if r.Path != "." {
			if strings.HasPrefix(r.Path, "/") || strings.HasSuffix(r.Path, "/") {
				t.Fatalf("ParseRule(%q) path %q is not clean", spec, r.Path)
			}
			for seg := range strings.SplitSeq(r.Path, "/") {
				if seg == "" || seg == "." || seg == ".." {
					t.Fatalf("ParseRule(%q) path %q has segment %q", spec, r.Path, seg)
				}
			}
		}
		if r.Hashed != IsBcrypt(r.Secret) {
			t.Fatalf("ParseRule(%q) Hashed = %v for %q", spec, r.Hashed, r.Secret)
		}
	})
}
