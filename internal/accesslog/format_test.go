package accesslog

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ferry-sh/ferry/internal/transfer"
)

func requestRecord(path, outcome string) slog.Record {
	r := slog.NewRecord(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), slog.LevelInfo, MsgRequest, 0)
	r.AddAttrs(
		slog.String("client", "127.0.0.1:5555"),
		slog.String("method", "GET"),
		slog.String("path", path),
		slog.Int("status", 200),
		slog.Int64("bytes", 3<<20),
		slog.Float64("duration_ms", 12.5),
		slog.String("proto", "HTTP/1.1"),
		slog.String("user_agent", "curl/8.5.0"),
	)
	if outcome != "" {
		r.AddAttrs(slog.String("outcome", outcome), slog.Int64("size", 10<<20))
	}
	return r
}

func TestFormats(t *testing.T) {
	cases := []struct {
		format, path, outcome, want string
	}{
		{FormatText, "/a b.txt", "complete", "2026-01-02 03:04:05 127.0.0.1:5555 GET /a b.txt 200 3.0 MiB 12.5ms complete\n"},
		{FormatText, "/big", "cut short", "2026-01-02 03:04:05 127.0.0.1:5555 GET /big 200 3.0 MiB 12.5ms cut short: 3.0 MiB of 10.0 MiB\n"},
		{FormatText, "/\x1b[31m\nX", "", "2026-01-02 03:04:05 127.0.0.1:5555 GET /\\x1b[31m\\x0aX 200 3.0 MiB 12.5ms\n"},
		{FormatText, "/a\u202etxt.exe\u2066\u200f\u061c\u0085\xff", "", "2026-01-02 03:04:05 127.0.0.1:5555 GET /a\\u202etxt.exe\\u2066\\u200f\\u061c\\u0085\\xff 200 3.0 MiB 12.5ms\n"},
		{FormatCombined, "/\u202e", "", `127.0.0.1 - - [02/Jan/2026:03:04:05 +0000] "GET /\u202e HTTP/1.1" 200 3145728 "-" "curl/8.5.0"` + "\n"},
		{FormatJSON, "/\u202e\u0085", "", `{"time":"2026-01-02T03:04:05Z","client":"127.0.0.1:5555","method":"GET","path":"/\u202e\u0085","status":200,"bytes":3145728,"duration_ms":12.5,"proto":"HTTP/1.1"}` + "\n"},
		{FormatCombined, `/q"x`, "", `127.0.0.1 - - [02/Jan/2026:03:04:05 +0000] "GET /q\"x HTTP/1.1" 200 3145728 "-" "curl/8.5.0"` + "\n"},
		{FormatJSON, "/a", "cut short", `{"time":"2026-01-02T03:04:05Z","client":"127.0.0.1:5555","method":"GET","path":"/a","status":200,"bytes":3145728,"duration_ms":12.5,"outcome":"cut short","size":10485760,"proto":"HTTP/1.1"}` + "\n"},
	}
	for _, tc := range cases {
		var out, errOut bytes.Buffer
		h := NewHandler(&out, &errOut, tc.format, false)
		if err := h.Handle(context.Background(), requestRecord(tc.path, tc.outcome)); err != nil {
			t.Fatal(err)
		}
		if out.String() != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.format, out.String(), tc.want)
		}
		if errOut.Len() != 0 {
			t.Errorf("%s: request went to errOut", tc.format)
		}
	}
	// Warnings go to errOut; quiet drops requests only.
	var out, errOut bytes.Buffer
	log := slog.New(NewHandler(&out, &errOut, FormatText, true))
	log.Warn("disk almost full", "free", "1 GiB")
	h := log.Handler()
	h.Handle(context.Background(), requestRecord("/x", ""))
	if out.Len() != 0 || !strings.Contains(errOut.String(), "WARN disk almost full free=1 GiB") {
		t.Errorf("quiet: out %q err %q", out.String(), errOut.String())
	}
}

func TestAppendSize(t *testing.T) {
	for n, want := range map[int64]string{-1: "?", 0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 10 << 20: "10.0 MiB", 200 << 30: "200 GiB"} {
		if got := string(AppendSize(nil, n)); got != want {
			t.Errorf("AppendSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// noControl reports the first byte < 0x20 (other than the final newline) or DEL.
func noControl(t *testing.T, what string, line []byte) {
	t.Helper()
	body, ok := bytes.CutSuffix(line, []byte("\n"))
	if !ok {
		t.Fatalf("%s: no final newline: %q", what, line)
	}
	for i, c := range body {
		if c < 0x20 || c == 0x7f {
			t.Fatalf("%s: control byte %#x at %d in %q", what, c, i, line)
		}
	}
	// C1 controls (U+0080–U+009F) act as escapes on some terminals;
	// bidirectional controls make a line read other than it is.
	for _, r := range string(body) {
		if r >= 0x80 && r < 0xa0 || unicode.Is(unicode.Bidi_Control, r) {
			t.Fatalf("%s: control %U in %q", what, r, line)
		}
	}
}

// FuzzEscaping feeds hostile values through every format: no line may carry
// a raw control byte, JSON lines must parse back to the same path, and the
// text form must be exactly one line.
func FuzzEscaping(f *testing.F) {
	for _, s := range []string{"/a", "/\x1b[31mred", "/a\nb", "/\r\n", "\xff\xfe", "/\u009b31m", "/\u2028", `"\`, "/%0a", "/a\u202eb", "\u2067\u200e"} {
		f.Add(s, "curl")
	}
	f.Fuzz(func(t *testing.T, path, agent string) {
		for _, format := range []string{FormatText, FormatJSON, FormatCombined} {
			var out bytes.Buffer
			h := NewHandler(&out, &out, format, false)
			r := slog.NewRecord(time.Now(), slog.LevelInfo, MsgRequest, 0)
			r.AddAttrs(slog.String("client", agent), slog.String("method", agent), slog.String("path", path),
				slog.Int("status", 404), slog.String("user_agent", agent), slog.String("referer", path), slog.String("user", agent))
			h.Handle(context.Background(), r)
			noControl(t, format, out.Bytes())
			if format == FormatJSON {
				var m map[string]any
				if err := json.Unmarshal(out.Bytes(), &m); err != nil {
					t.Fatalf("JSON line does not parse: %v\n%q", err, out.Bytes())
				}
				if utf8.ValidString(path) && m["path"] != path {
					t.Fatalf("JSON path %q, want %q", m["path"], path)
				}
			}
		}
		b := appendEscaped(nil, path, true)
		for _, c := range b {
			if c < 0x20 || c == 0x7f {
				t.Fatalf("appendEscaped(%q) = %q", path, b)
			}
		}
	})
}

func BenchmarkFormat(b *testing.B) {
	for _, format := range []string{FormatText, FormatJSON, FormatCombined} {
		b.Run(format, func(b *testing.B) {
			h := NewHandler(discard{}, discard{}, format, false)
			r := requestRecord("/docs/reports/2024/q3 summary.pdf", "complete")
			b.ReportAllocs()
			for b.Loop() {
				h.Handle(context.Background(), r)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestMiddlewareLogsOutcome(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(NewHandler(&out, &out, FormatText, false))
	tr := transfer.NewTracker(0)
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		transfer.FromContext(r.Context()).Describe(transfer.KindFile, 5)
		w.Header().Set("Content-Length", "5")
		w.Write([]byte("hello"))
	}), tr, log, nil)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/f%0a", nil))
	if !regexp.MustCompile(`^\S+ \S+ 192\.0\.2\.1:1234 GET /f\\x0a 200 5 B \S+ complete\n$`).MatchString(out.String()) {
		t.Errorf("line %q", out.String())
	}
	if s := tr.Snapshot(); s.Requests != 1 || s.Completed != 1 || s.BytesSent != 5 {
		t.Errorf("snapshot %+v", s)
	}
}

// A handler that breaks its response off (an archive whose store went away
// mid-stream) is logged and counted cut short, and ends in the tracker; the
// abort still reaches net/http, which drops the connection.
func TestMiddlewareAbortedResponse(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(NewHandler(&out, &out, FormatText, false))
	tr := transfer.NewTracker(0)
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		transfer.FromContext(r.Context()).Describe(transfer.KindArchive, -1)
		w.Write([]byte("PK part of an archive"))
		panic(http.ErrAbortHandler)
	}), tr, log, nil)
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler passed on", p)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/?zip", nil))
	}()
	if !strings.Contains(out.String(), "GET /?zip 200") || !strings.Contains(out.String(), "cut short") {
		t.Errorf("line %q", out.String())
	}
	if s := tr.Snapshot(); s.Requests != 1 || s.Completed != 0 || s.CutShort != 1 || tr.InFlight() != 0 {
		t.Errorf("snapshot %+v, in flight %d", s, tr.InFlight())
	}
}

// uploadRecord is a request record of an upload as the middleware makes it.
func uploadRecord(method, path, outcome, reason string, status int, bytes, size, done int64, files int) slog.Record {
	r := slog.NewRecord(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), slog.LevelInfo, MsgRequest, 0)
	r.AddAttrs(
		slog.String("client", "127.0.0.1:5555"),
		slog.String("method", method),
		slog.String("path", path),
		slog.Int("status", status),
		slog.Int64("bytes", bytes),
		slog.Float64("duration_ms", 12.5),
		slog.String("proto", "HTTP/1.1"),
		slog.String("uri", "/.ferry/tus/ID"),
		slog.String("outcome", outcome), slog.Int64("size", size),
		slog.Int64("done", done), slog.Int64("sent", 0),
	)
	if reason != "" {
		r.AddAttrs(slog.String("reason", reason))
	}
	if files > 1 {
		r.AddAttrs(slog.Int("files", files))
	}
	return r
}

func TestUploadFormats(t *testing.T) {
	cases := []struct {
		format string
		rec    slog.Record
		want   string
	}{
		{FormatText, uploadRecord("PUT", "/a.txt", "complete", "", 201, 5, 5, 5, 1), "2026-01-02 03:04:05 127.0.0.1:5555 PUT /a.txt 201 5 B 12.5ms complete\n"},
		{FormatText, uploadRecord("POST", "/d/", "complete", "", 201, 9, 9, 9, 3), "2026-01-02 03:04:05 127.0.0.1:5555 POST /d/ 201 9 B 12.5ms complete (3 files)\n"},
		{FormatText, uploadRecord("PATCH", "/t.bin", "cut short", "", 204, 4<<20, 48<<20, 28<<20, 1), "2026-01-02 03:04:05 127.0.0.1:5555 PATCH /t.bin 204 4.0 MiB 12.5ms cut short: 28.0 MiB of 48.0 MiB\n"},
		{FormatText, uploadRecord("PATCH", "/t.bin", "partial", "", 204, 24<<20, 48<<20, 24<<20, 1), "2026-01-02 03:04:05 127.0.0.1:5555 PATCH /t.bin 204 24.0 MiB 12.5ms partial: 24.0 MiB of 48.0 MiB\n"},
		{FormatText, uploadRecord("PUT", "/a.txt", "refused", "already\x1b[2J exists", 409, 0, 5, 0, 1), "2026-01-02 03:04:05 127.0.0.1:5555 PUT /a.txt 409 0 B 12.5ms refused: already\\x1b[2J exists\n"},
		{FormatJSON, uploadRecord("PATCH", "/t.bin", "cut short", "", 204, 4, 48, 28, 1), `{"time":"2026-01-02T03:04:05Z","client":"127.0.0.1:5555","method":"PATCH","path":"/t.bin","status":204,"bytes":4,"duration_ms":12.5,"outcome":"cut short","size":48,"kind":"upload","done":28,"uri":"/.ferry/tus/ID","proto":"HTTP/1.1"}` + "\n"},
		{FormatJSON, uploadRecord("PUT", "/a", "refused", "too \"big\"", 413, 0, 9, 0, 1), `{"time":"2026-01-02T03:04:05Z","client":"127.0.0.1:5555","method":"PUT","path":"/a","status":413,"bytes":0,"duration_ms":12.5,"outcome":"refused","size":9,"kind":"upload","done":0,"reason":"too \"big\"","uri":"/.ferry/tus/ID","proto":"HTTP/1.1"}` + "\n"},
		// Apache's %b stays the response's size, and the request line the one sent.
		{FormatCombined, uploadRecord("PATCH", "/t.bin", "complete", "", 204, 4, 48, 48, 1), `127.0.0.1 - - [02/Jan/2026:03:04:05 +0000] "PATCH /.ferry/tus/ID HTTP/1.1" 204 - "-" "-"` + "\n"},
	}
	for _, tc := range cases {
		var out, errOut bytes.Buffer
		if err := NewHandler(&out, &errOut, tc.format, false).Handle(context.Background(), tc.rec); err != nil {
			t.Fatal(err)
		}
		if out.String() != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.format, out.String(), tc.want)
		}
		if tc.format == FormatJSON && !json.Valid(out.Bytes()) {
			t.Errorf("invalid JSON: %s", out.String())
		}
	}
}
