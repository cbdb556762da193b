// Package accesslog records every request: the figures in a transfer.Tracker
// and one log line per request through a *slog.Logger, in the formats ferry
// offers (text, json, combined).
package accesslog

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ferry-sh/ferry/internal/transfer"
)

// MsgRequest is the message of per-request records; a Handler formats those
// as access-log lines.
const MsgRequest = "request"

// Observer hears about transfers as they start and end (the terminal view).
type Observer = transfer.Observer

// Middleware counts, tracks and logs every request that reaches next.
// log may be nil (no lines); obs may be nil. A download's line is written
// once its outcome is known: when the client acknowledged its last byte,
// which may be after the handler returned (see transfer.Tracker.Finish).
func Middleware(next http.Handler, t *transfer.Tracker, log *slog.Logger, obs Observer) http.Handler {
	var done func(*transfer.Transfer)
	if log != nil {
		done = func(tr *transfer.Transfer) { logLine(log, tr) }
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr, rec := t.Start(w, r, obs)
		r = r.WithContext(transfer.WithTransfer(r.Context(), tr))
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &countingBody{ReadCloser: r.Body, t: t, tr: tr}
		}
		defer func() {
			// A handler that breaks its response off (http.ErrAbortHandler,
			// so that a client never takes a truncated body for a whole
			// one) has cut the transfer short; it is logged and counted so.
			if p := recover(); p != nil {
				rec.Abort()
				t.Finish(tr, r, rec, w.Header(), done)
				panic(p)
			}
		}()
		next.ServeHTTP(rec, r)
		t.Finish(tr, r, rec, w.Header(), done)
	})
}

// logLine writes the line of a request whose outcome is known.
func logLine(log *slog.Logger, tr *transfer.Transfer) {
	r := tr.Request()
	if !log.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	status := tr.Status()
	if status == 0 {
		status = http.StatusOK
	}
	outcome := tr.Outcome()
	// An upload is logged with its destination and the bytes it brought
	// (a tus request's URL names no file); the response's own bytes stay
	// for the combined format. A download's bytes are those delivered.
	path, bytes := RedactLinks(r.URL.Path), tr.Delivered()
	upload := tr.Kind == transfer.KindUpload && outcome != ""
	if upload {
		bytes = tr.Received()
		if tr.Files() <= 1 && tr.Path != "" {
			path = tr.Path
		}
	}
	attrs := make([]slog.Attr, 0, 18)
	attrs = append(attrs,
		slog.String("client", r.RemoteAddr),
		slog.String("method", r.Method),
		slog.String("path", path),
		slog.Int("status", status),
		slog.Int64("bytes", bytes),
		slog.Float64("duration_ms", float64(tr.Decided().Sub(tr.Start).Microseconds())/1000),
		slog.String("proto", r.Proto),
	)
	if r.URL.RawQuery != "" {
		attrs = append(attrs, slog.String("query", r.URL.RawQuery))
	}
	// The request target as sent, for the combined format's request line.
	attrs = append(attrs, slog.String("uri", RedactLinks(r.RequestURI)))
	if outcome != "" {
		attrs = append(attrs, slog.String("outcome", outcome), slog.Int64("size", tr.Size))
	}
	if upload {
		attrs = append(attrs, slog.Int64("done", tr.Done()), slog.Int64("sent", tr.Delivered()))
		if why := tr.Reason(); why != "" {
			attrs = append(attrs, slog.String("reason", why))
		}
		if n := tr.Files(); n > 1 {
			attrs = append(attrs, slog.Int("files", n))
		}
	}
	if tr.User != "" {
		attrs = append(attrs, slog.String("user", tr.User))
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		attrs = append(attrs, slog.String("referer", RedactLinks(ref)))
	}
	if ua := r.Header.Get("User-Agent"); ua != "" {
		attrs = append(attrs, slog.String("user_agent", ua))
	}
	// The record is timed when the outcome was decided, which read the
	// clock already (Logger.LogAttrs would read it again).
	rec := slog.NewRecord(tr.Decided(), slog.LevelInfo, MsgRequest, 0)
	rec.AddAttrs(attrs...)
	log.Handler().Handle(context.Background(), rec)
}

type countingBody struct {
	io.ReadCloser
	t  *transfer.Tracker
	tr *transfer.Transfer
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.t.Received(b.tr, int64(n))
	}
	return n, err
}

// linkPrefix is where share links are served (sharelink.Prefix): the path
// segment after it is a link's token, as good as a password.
const linkPrefix = "/.ferry/s/"

// keepToken is how much of a token stays in the log: its first 16
// characters encode the link's ID (the one the status page revokes), which
// tells links apart and opens nothing; the rest, with the signature, goes.
const keepToken = 16

// RedactLinks returns s (a path, request target or URL) with the secret
// part of every share link's token replaced, so that whoever reads the log
// cannot open the links it records.
func RedactLinks(s string) string {
	if !strings.Contains(s, linkPrefix) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, linkPrefix)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		// The prefix's last "/" stays in s: the segment after it may
		// itself begin the prefix again ("/.ferry/s/.ferry/s/TOKEN").
		i += len(linkPrefix) - 1
		b.WriteString(s[:i])
		s = s[i:]
		seg := s[1:]
		end := strings.IndexAny(seg, "/?#")
		if end < 0 {
			end = len(seg)
		}
		if end > keepToken {
			b.WriteByte('/')
			b.WriteString(seg[:keepToken])
			b.WriteString("-redacted")
			s = seg[end:]
		}
	}
}
