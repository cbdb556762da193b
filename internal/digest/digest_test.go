package digest

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"strings"
	"testing"
)

func TestParseField(t *testing.T) {
	sum := sha256.Sum256([]byte("hello"))
	b := base64.StdEncoding.EncodeToString(sum[:])
	for _, c := range []struct {
		in   string
		n    int
		fail bool
	}{
		{"sha-256=:" + b + ":", 1, false},
		{" sha-256=:" + b + ":;p=1 , unixsum=:AAAA:", 1, false},
		{"md5=:AAAA:", 0, false},
		{"sha-256=" + b, 0, true},
		{"sha-256=:AAAA:", 0, true},
		{"Sha-256=:" + b + ":", 0, true},
		{"sha-256", 0, true},
		{"", 0, true},
		{"sha-256=:" + b + ":,", 0, true},
	} {
		w, err := ParseField(c.in)
		if (err != nil) != c.fail || len(w) != c.n {
			t.Errorf("ParseField(%q) = %v, %v", c.in, w, err)
		}
	}
	w, known, err := ParseUploadChecksum("sha256 " + b)
	if err != nil || !known || w.Alg != SHA256 {
		t.Fatal(w, known, err)
	}
	if _, known, err := ParseUploadChecksum("md5 AAAA"); err != nil || known {
		t.Fatal("md5", known, err)
	}
	r := NewReader(strings.NewReader("hello"), []Want{{Alg: SHA256, Sum: sum[:]}})
	io.ReadAll(r)
	if r.Check() != nil || Field(r.Sums()) != "sha-256=:"+b+":" {
		t.Fatal("reader", r.Check(), Field(r.Sums()))
	}
	r = NewReader(strings.NewReader("hellO"), []Want{{Alg: SHA256, Sum: sum[:]}})
	io.ReadAll(r)
	if r.Check() != ErrMismatch {
		t.Fatal("mismatch not seen")
	}
}

func FuzzParseField(f *testing.F) {
	for _, s := range []string{"sha-256=:AAAA:", "sha-512=:x:;a=b, sha-256=:=:", ",,", "a=:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseField(s)
		if err != nil {
			return
		}
		for _, x := range w {
			if h := newHash(x.Alg); h == nil || len(x.Sum) != h.Size() {
				t.Fatalf("ParseField(%q) gave %+v", s, x)
			}
		}
		ParseUploadChecksum(s)
	})
}
