package httperr

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/storage"
)

func TestWantsJSON(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                            false,
		"application/json":            true,
		"application/json, text/html": true,
		"text/html;q=0.9, application/json;q=0.1":                         false,
		"text/html, application/json;q=0.5":                               false,
		"application/json;q=0.9, text/html;q=0.5":                         true,
		"application/json;q=0":                                            false,
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8": false,
		"Application/JSON":                                                true,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		if got := WantsJSON(r); got != want {
			t.Errorf("Accept %q: WantsJSON = %v, want %v", accept, got, want)
		}
	}
}

func TestServeContentErrors(t *testing.T) {
	content := strings.Repeat("x", 100)
	for _, tc := range []struct {
		name, rng, accept string
		status            int
		html              bool
	}{
		{"416 html", "bytes=500-", "text/html", 416, true},
		{"416 plain", "bytes=500-", "", 416, false},
		{"206 untouched", "bytes=0-9", "text/html", 206, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/dir/f.bin", nil)
			r.Header.Set("Range", tc.rng)
			r.Header.Set("Accept", tc.accept)
			rec := httptest.NewRecorder()
			w := ServeContent(rec, r, int64(len(content)))
			if _, ok := w.(io.ReaderFrom); !ok {
				t.Error("the wrapper hides io.ReaderFrom (sendfile)")
			}
			if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); !ok || u.Unwrap() != rec {
				t.Error("the wrapper does not unwrap to the writer below")
			}
			http.ServeContent(w, r, "f.bin", time.Time{}, strings.NewReader(content))
			body := rec.Body.String()
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if tc.status == 206 {
				if body != content[:10] {
					t.Errorf("body %q", body)
				}
				return
			}
			if got := rec.Header().Get("Content-Range"); got != "bytes */100" {
				t.Errorf("Content-Range %q", got)
			}
			if strings.Contains(body, "failed to overlap") || !strings.Contains(body, "416 Requested Range Not Satisfiable") {
				t.Errorf("body %q", body)
			}
			if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length %q for %d bytes", cl, len(body))
			}
			isHTML := strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html")
			if isHTML != tc.html || tc.html && !strings.Contains(body, `<meta name="viewport"`) || tc.html && !strings.Contains(body, `href="../"`) {
				t.Errorf("html %v: %q %q", tc.html, rec.Header().Get("Content-Type"), body)
			}
		})
	}
	plain := httptest.NewRequest("GET", "/f.bin", nil)
	rec := httptest.NewRecorder()
	if w := ServeContent(rec, plain, 1); w != http.ResponseWriter(rec) {
		t.Error("a request without ranges or preconditions gets a wrapper")
	}
}

func TestPageCSPAllowsItsStyle(t *testing.T) {
	sum := sha256.Sum256([]byte(pageStyle))
	if !strings.Contains(pageCSP, base64.StdEncoding.EncodeToString(sum[:])) || !strings.Contains(pageHead, "<style>"+pageStyle+"</style>") {
		t.Error("the CSP's style hash does not match the page's inline style")
	}
}

// TestUnavailable: a store that cannot be reached is a 503 that says so and
// when to retry, never a 500 with the backend's error text.
func TestUnavailable(t *testing.T) {
	err := fmt.Errorf("s3 get: %w: dial tcp 127.0.0.1:9: connect: connection refused", storage.ErrUnavailable)
	w := httptest.NewRecorder()
	FromFS(w, httptest.NewRequest("GET", "/x", nil), err)
	body := w.Body.String()
	if w.Code != 503 || w.Header().Get("Retry-After") == "" || !strings.Contains(body, UnavailableMessage) || strings.Contains(body, "127.0.0.1") {
		t.Errorf("%d %q %q", w.Code, w.Header().Get("Retry-After"), body)
	}
}
