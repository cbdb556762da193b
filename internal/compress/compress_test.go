package compress

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func TestNegotiate(t *testing.T) {
	for _, c := range []struct{ accept, want string }{
		{"", ""},
		{"gzip", "gzip"},
		{"zstd, gzip", "zstd"},
		{"gzip, zstd", "zstd"}, // equal weights: the server's order
		{"gzip;q=0.9, zstd;q=0.8", "gzip"},
		{"GZIP", "gzip"},
		{"gzip; q=0.5 , zstd ;q=0.4", "gzip"},
		{"zstd;q=0", ""},
		{"zstd;q=0, *", "gzip"},
		{"*;q=0", ""},
		{"*", "zstd"},
		{"identity", ""},
		{"br, deflate", ""},
		{"gzip;q=2", ""},
		{"gzip;q=1.5", ""},
		{"gzip;q=0.0001", ""},
		{"gzip;q=1.000", "gzip"},
		{"gzip;q=.5", ""},
		{"gzip;level=9", "gzip"},
		{",,gzip,,", "gzip"},
		{"zstd;q=0.001", "zstd"},
	} {
		if got := Negotiate(c.accept, Zstd, Gzip); got != c.want {
			t.Errorf("Negotiate(%q) = %q, want %q", c.accept, got, c.want)
		}
	}
	if got := Negotiate("br;q=0.9, gzip;q=0.8", Zstd, Br, Gzip); got != "br" {
		t.Errorf("with br offered: %q", got)
	}
}

func TestCompressible(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/html; charset=utf-8":     true,
		"TEXT/CSS":                     true,
		"text/javascript":              true,
		"application/json":             true,
		"application/vnd.api+json":     true,
		"image/svg+xml":                true,
		"text/markdown; charset=utf-8": true,
		"text/csv":                     true,
		"text/event-stream":            false,
		"image/png":                    false,
		"application/zip":              false,
		"application/gzip":             false,
		"application/octet-stream":     false,
		"video/mp4":                    false,
		"":                             false,
	} {
		if got := Compressible(ct); got != want {
			t.Errorf("Compressible(%q) = %v", ct, got)
		}
	}
}

func TestStripTags(t *testing.T) {
	for _, c := range []struct {
		in, want string
		changed  bool
	}{
		{`"abc-zstd"`, `"abc"`, true},
		{`W/"abc-zstd"`, `W/"abc"`, true},
		{`"x", "abc-zstd"`, `"x", "abc"`, true},
		{`"abc-gzip"`, `"abc-gzip"`, false},
		{`"abc"`, `"abc"`, false},
		{`*`, `*`, false},
		{`"a,b-zstd"`, `"a,b"`, true},
		{`"-zstd"`, `""`, true},
		{`"abc-zstd`, `"abc-zstd`, false},
		{`abc-zstd"`, `abc-zstd"`, false},
	} {
		got, changed := stripTags(c.in, Zstd)
		if got != c.want || changed != c.changed {
			t.Errorf("stripTags(%q) = %q, %v; want %q, %v", c.in, got, changed, c.want, c.changed)
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"gzip, zstd;q=0.5", "*;q=0", "br;q=1.000, gzip;q=0.999", ";;q=;", "zstd;q=0.5;q=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Negotiate(s, Zstd, Br, Gzip)
		if got != "" && got != Zstd && got != Br && got != Gzip {
			t.Fatalf("Negotiate(%q) = %q", s, got)
		}
		if got != "" && !strings.Contains(strings.ToLower(s), got) && !strings.Contains(s, "*") {
			t.Fatalf("Negotiate(%q) = %q, which the header does not name", s, got)
		}
	})
}

func FuzzStripTags(f *testing.F) {
	for _, s := range []string{`"a-zstd", W/"b-zstd"`, `*`, `"a", "b`, `W/"-zstd"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, changed := stripTags(s, Zstd)
		if !changed && got != s {
			t.Fatalf("unchanged but %q → %q", s, got)
		}
		if changed && len(got) >= len(s)+len(", ")*strings.Count(s, `"`) {
			t.Fatalf("%q grew to %q", s, got)
		}
	})
}

// TestPassThroughKeepsReadFrom: a response that is not compressed reaches
// the writer below through ReadFrom, the path to sendfile.
func TestPassThroughKeepsReadFrom(t *testing.T) {
	var used bool
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.(io.ReaderFrom).ReadFrom(strings.NewReader(strings.Repeat("x", 5000)))
	}))
	rec := &readFromRecorder{ResponseRecorder: httptest.NewRecorder(), used: &used}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Encoding", "zstd")
	h.ServeHTTP(rec, req)
	if !used || rec.Body.Len() != 5000 || rec.Header().Get("Content-Encoding") != "" {
		t.Fatalf("ReadFrom used %v, %d bytes, %q", used, rec.Body.Len(), rec.Header().Get("Content-Encoding"))
	}
}

type readFromRecorder struct {
	*httptest.ResponseRecorder
	used *bool
}

func (r *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	*r.used = true
	return io.Copy(r.ResponseRecorder, src)
}

// TestStreamedFlush: a streamed text response flushes what the encoder
// holds, so a reader sees each part as it is flushed.
func TestStreamedFlush(t *testing.T) {
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("first part\n"))
		w.(http.Flusher).Flush()
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Encoding", "zstd")
	h.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "zstd" || !rec.Flushed {
		t.Fatalf("%q flushed %v", rec.Header().Get("Content-Encoding"), rec.Flushed)
	}
	d, _ := zstd.NewReader(bytes.NewReader(rec.Body.Bytes()))
	defer d.Close()
	out, err := io.ReadAll(d)
	if err != nil || string(out) != "first part\n" {
		t.Fatalf("%q %v", out, err)
	}
}

// BenchmarkListing10k is the cost of compressing a 10,000-entry listing
// (about 1.2 MB of HTML) with each coding.
func BenchmarkListing10k(b *testing.B) {
	var page bytes.Buffer
	for i := range 10000 {
		page.WriteString(`<tr><td class="n"><a href="file-`)
		page.WriteString(strings.Repeat("x", i%13))
		page.WriteString(`.bin" data-size="4096">file.bin</a></td><td class="s" data-v="4096">4.0 KiB</td><td class="t"><time datetime="2026-12-01T10:00:00Z">2026-12-01 10:00</time></td><td class="a"><button type="button" class="del" aria-label="Delete">×</button></td></tr>` + "\n")
	}
	body := page.Bytes()
	for _, coding := range []string{Zstd, Gzip} {
		b.Run(coding, func(b *testing.B) {
			h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Write(body)
			}))
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Accept-Encoding", coding)
			b.SetBytes(int64(len(body)))
			var out int
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				out = rec.Body.Len()
			}
			b.ReportMetric(float64(out), "wire-bytes")
		})
	}
}

// A handler that writes less than the length it announced (a file that
// failed or shrank mid-way) gets its coded stream broken off, not ended as
// if whole; one that writes it all gets it ended.
func TestShortBodyBrokenOff(t *testing.T) {
	for _, c := range []struct {
		name  string
		wrote int
		abort bool
	}{
		{"whole", 5000, false},
		{"short", 2000, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Content-Length", "5000")
				w.Write(bytes.Repeat([]byte("a"), c.wrote))
			}))
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			rec := httptest.NewRecorder()
			var got any
			func() {
				defer func() { got = recover() }()
				h.ServeHTTP(rec, req)
			}()
			if aborted := got == http.ErrAbortHandler; aborted != c.abort || got != nil && !aborted {
				t.Fatalf("wrote %d of 5000: recovered %v, want abort %v", c.wrote, got, c.abort)
			}
			if rec.Header().Get("Content-Encoding") != "gzip" {
				t.Fatalf("not compressed: %v", rec.Header())
			}
		})
	}
}
