package mount

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestPrefix(t *testing.T) {
	cases := []struct {
		name, uri, strip, want string
	}{
		{"not mounted", "/a/b.txt", "", ""},
		{"stripped", "/files/a/b.txt?x=1", "/files", "/files"},
		{"escaped prefix", "/my%20files/a", "/my files", "/my files"},
		{"nested", "/x/y/.ferry/qr.svg?u=/", "/x/y", "/x/y"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got string
			var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = Prefix(r) })
			if c.strip != "" {
				h = http.StripPrefix(c.strip, h)
			}
			r := httptest.NewRequest("GET", c.uri, nil)
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != c.want {
				t.Errorf("Prefix = %q, want %q", got, c.want)
			}
		})
	}
}
