package fileserver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestNormalizeRange(t *testing.T) {
	cases := []struct {
		in   string
		want string
		keep bool
	}{
		{"bytes=0-9", "bytes=0-9", true},
		{"Bytes=0-9", "bytes=0-9", true},
		{"bytes=0-9, 20-", "bytes=0-9,20-", true},
		{"bytes=-5", "bytes=-5", true},
		{"bytes=-0", "bytes=100-", true},
		{"bytes=-0,0-1", "bytes=0-1", true},
		{"bytes=500-", "bytes=500-", true}, // unsatisfiable, ServeContent says 416
		{"items=0-9", "", false},
		{"bytes=abc", "", false},
		{"bytes=9-5", "", false},
		{"bytes 0-9", "", false},
		{"bytes=--1", "", false},
		{"bytes=", "", false},
		{"bytes=,", "", false},
		{"bytes=-", "", false},
		{"bytes=0-9-10", "", false},
		{"bytes=+1-2", "", false},
		{"bytes=99999999999999999999-", "", false},
	}
	for _, tc := range cases {
		got, keep := normalizeRange(tc.in, 100)
		if got != tc.want || keep != tc.keep {
			t.Errorf("normalizeRange(%q) = %q, %v; want %q, %v", tc.in, got, keep, tc.want, tc.keep)
		}
	}
}

// FuzzNormalizeRange checks that whatever a client sends, the rewritten
// header never makes ServeContent answer a 206 with an impossible range, and
// that a header it drops is one ServeContent would have refused or we chose
// to ignore (never a panic).
func FuzzNormalizeRange(f *testing.F) {
	for _, s := range []string{"bytes=0-9", "bytes=-0", "bytes=-5,3-", "items=1-2", "bytes=9-5", "bytes=,,1-1"} {
		f.Add(s)
	}
	content := strings.Repeat("x", 100)
	f.Fuzz(func(t *testing.T, v string) {
		nv, keep := normalizeRange(v, int64(len(content)))
		if !keep {
			return
		}
		if !strings.HasPrefix(nv, "bytes=") {
			t.Fatalf("%q → %q", v, nv)
		}
		r := httptest.NewRequest("GET", "/f", nil)
		r.Header.Set("Range", nv)
		w := httptest.NewRecorder()
		http.ServeContent(w, r, "f", time.Time{}, strings.NewReader(content))
		switch w.Code {
		case 200, 206, 416:
		default:
			t.Fatalf("%q → %q → %d", v, nv, w.Code)
		}
		if w.Code == 206 && w.Header().Get("Content-Range") != "" {
			var s, e, size int64
			if _, err := fmt.Sscanf(w.Header().Get("Content-Range"), "bytes %d-%d/%d", &s, &e, &size); err != nil || s > e || e >= size {
				t.Fatalf("%q → %q → Content-Range %q", v, nv, w.Header().Get("Content-Range"))
			}
			// The cache of open files trusts rangeLength to bound the body.
			if n, ok := rangeLength(v, int64(len(content))); !ok || n < e-s+1 {
				t.Fatalf("%q: rangeLength %d, %v; ServeContent sent %d bytes", v, n, ok, e-s+1)
			}
		}
	})
}

func TestRangeLength(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"bytes=0-9", 10, true},
		{"bytes=10-", 90, true},
		{"bytes=-5", 5, true},
		{"bytes=-500", 100, true},
		{"bytes=90-500", 10, true},
		{"bytes=0-9, 20-29", 20, true},
		{"bytes=0-9,0-9", 20, true},
		{"bytes=100-", 0, true},
		{"bytes=-0", 0, true},
		{"items=0-9", 0, false},
		{"bytes=9-5", 0, false},
	}
	for _, tc := range cases {
		got, ok := rangeLength(tc.in, 100)
		if got != tc.want || ok != tc.ok {
			t.Errorf("rangeLength(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func BenchmarkNormalizeRange(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		normalizeRange("bytes=1000-1999", 65536)
	}
}
