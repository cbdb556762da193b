package headers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in, name, value string
		ok              bool
	}{
		{"X-A: b", "X-A", "b", true},
		{"cache-control:  public, max-age=60 ", "Cache-Control", "public, max-age=60", true},
		{"Server:", "Server", "", true},
		{"X-Tab: a\tb", "X-Tab", "a\tb", true},
		{"X-Utf8: café", "X-Utf8", "café", true},
		{"NoColon", "", "", false},
		{": v", "", "", false},
		{"Bad Name: v", "", "", false},
		{"X : v", "", "", false},
		{"X: a\nb", "", "", false},
		{"X: a\rb", "", "", false},
		{"X: a\x00b", "", "", false},
		{"X: a\x7fb", "", "", false},
		{"Content-Length: 3", "", "", false},
		{"transfer-encoding: chunked", "", "", false},
		{"Content-Encoding: gzip", "", "", false},
	} {
		h, err := Parse(c.in)
		if (err == nil) != c.ok || c.ok && (h.Name != c.name || h.Value != c.value) {
			t.Errorf("Parse(%q) = %+v, %v", c.in, h, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"X-A: b", "Server:", "a:b:c", "X: \x00", "Content-Length: 1", " X: y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := Parse(s)
		if err != nil {
			return
		}
		if !httpguts.ValidHeaderFieldName(h.Name) || !httpguts.ValidHeaderFieldValue(h.Value) || strings.ContainsAny(h.Value, "\r\n") {
			t.Fatalf("Parse(%q) accepted %+v", s, h)
		}
		if framing[h.Name] {
			t.Fatalf("Parse(%q) accepted framing header %q", s, h.Name)
		}
	})
}

func TestMiddlewareReplacesAndRemoves(t *testing.T) {
	add, err := ParseAll([]string{"Cache-Control: max-age=5", "X-A: 1", "X-A: 2", "Server:"})
	if err != nil {
		t.Fatal(err)
	}
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Server", "ferry")
		w.WriteHeader(404)
	}), Options{Add: add})
	for range 2 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != 404 || rec.Header().Get("Cache-Control") != "max-age=5" || len(rec.Header()["X-A"]) != 2 || rec.Header()["Server"] != nil {
			t.Fatalf("%d %v", rec.Code, rec.Header())
		}
		// A handler adding to the shared values must not change them for
		// the next response.
		rec.Header().Add("X-A", "3")
	}
}
