package ferry_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-sh/ferry"
	"github.com/ferry-sh/ferry/internal/accesslog"
)

// benchHandler serves a folder with a 1 KiB and a 64 KiB file through the
// handler `ferry -q` builds: logging, counters, tracking and policy all run.
func benchHandler(b testing.TB) http.Handler {
	b.Helper()
	dir := b.TempDir()
	for name, size := range map[string]int{"1k.bin": 1 << 10, "64k.bin": 64 << 10} {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	logger := slog.New(accesslog.NewHandler(io.Discard, io.Discard, accesslog.FormatText, true))
	h, err := ferry.New(dir, ferry.Options{Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	return h
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the handler and not a recorder's buffer.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// ReadFrom stands for net/http's, which the Recorder hands large bodies to.
func (w *discardWriter) ReadFrom(src io.Reader) (int64, error) {
	return io.Copy(io.Discard, src)
}

func benchServe(b *testing.B, h http.Handler, target string, hdr map[string]string, want int) {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := &discardWriter{}
	b.ReportAllocs()
	for b.Loop() {
		w.h, w.status = http.Header{}, 0
		h.ServeHTTP(w, r)
		if w.status != want {
			b.Fatalf("status %d, want %d", w.status, want)
		}
	}
}

func BenchmarkServeSmallFile(b *testing.B) {
	benchServe(b, benchHandler(b), "/1k.bin", nil, http.StatusOK)
}

func BenchmarkServeRange(b *testing.B) {
	benchServe(b, benchHandler(b), "/64k.bin", map[string]string{"Range": "bytes=1000-1999"}, http.StatusPartialContent)
}

func BenchmarkServeNotModified(b *testing.B) {
	h := benchHandler(b)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/1k.bin", nil))
	benchServe(b, h, "/1k.bin", map[string]string{"If-None-Match": w.Header().Get("Etag")}, http.StatusNotModified)
}

// BenchmarkServeListing renders a folder of 10,000 files as bench/run's (d)
// does: a listing is one getdents walk and a stat per entry, then the page.
func BenchmarkServeListing(b *testing.B) {
	dir := b.TempDir()
	sub := filepath.Join(dir, "dir10k")
	if err := os.Mkdir(sub, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range 10_000 {
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("file-%05d.txt", i)), []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	h, err := ferry.New(dir, ferry.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	benchServe(b, h, "/dir10k/", nil, http.StatusOK)
}

// BenchmarkServeLargeFile serves a 1 MiB file, too large for the cache of
// open descriptors: an open, a stat and a close per request.
func BenchmarkServeLargeFile(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "1m.bin"), make([]byte, 1<<20), 0o644); err != nil {
		b.Fatal(err)
	}
	h, err := ferry.New(dir, ferry.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	benchServe(b, h, "/1m.bin", nil, http.StatusOK)
}
