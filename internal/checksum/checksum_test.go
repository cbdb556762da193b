package checksum

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestServe(t *testing.T) {
	for _, c := range []struct {
		query, want string
		status      int
	}{
		{"hash=sha256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824  f.txt\n", 200},
		{"hash=SHA512", "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043  f.txt\n", 200},
		{"hash=md5", "", 400},
		{"hash=", "", 400},
	} {
		r := httptest.NewRequest("GET", "/f.txt?"+c.query, nil)
		w := httptest.NewRecorder()
		Serve(w, r, strings.NewReader("hello"), "dir/f.txt")
		if w.Code != c.status || (c.want != "" && w.Body.String() != c.want) {
			t.Errorf("%s: %d %q", c.query, w.Code, w.Body.String())
		}
		if c.status == http.StatusOK && w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%s: content type %q", c.query, w.Header().Get("Content-Type"))
		}
	}
}

func TestLine(t *testing.T) {
	if got := Line("ab", "a\nb\\c"); got != "\\ab  a\\nb\\\\c\n" {
		t.Errorf("escaped line %q", got)
	}
}
