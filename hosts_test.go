package ferry_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-sh/ferry"
)

// The library offers the DNS-rebinding guard as Options.Hosts, off unless
// asked for; mounted under a prefix, its error page links to the mount's top.
func TestLibraryHosts(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644)
	for _, tc := range []struct {
		hosts []string
		host  string
		want  int
	}{
		{nil, "evil.example", 200},
		{[]string{"files.example"}, "evil.example", 421},
		{[]string{"files.example"}, "FILES.example.:8080", 200},
		{[]string{"files.example"}, "localhost:1", 200},
		{[]string{"files.example"}, "127.0.0.1", 200},
		{[]string{"*"}, "evil.example", 200},
	} {
		h, err := ferry.New(dir, ferry.Options{Hosts: tc.hosts})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/files/", http.StripPrefix("/files", h))
		r := httptest.NewRequest("GET", "/files/sub/a.txt", nil)
		r.Host = tc.host
		r.Header.Set("Accept", "text/html")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		got := rec.Code
		if got == 404 {
			got = 200 // reached the file server
		}
		if got != tc.want {
			t.Errorf("Hosts %v, Host %q: %d, want %d", tc.hosts, tc.host, rec.Code, tc.want)
		}
		if rec.Code == 404 && !strings.Contains(rec.Body.String(), `href="../"`) {
			t.Errorf("404 under /files/sub/: the page's link does not lead to /files/:\n%s", rec.Body.String())
		}
		h.Close()
	}
	if _, err := ferry.New(dir, ferry.Options{Hosts: []string{"http://x/"}}); err == nil {
		t.Error("a URL as a host name was accepted")
	}
}
