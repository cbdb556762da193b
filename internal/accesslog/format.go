package accesslog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Formats ferry writes.
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatCombined = "combined"
)

// Handler is a slog.Handler that writes request records as access-log lines
// to out and everything else (warnings, errors, notes) to errOut, in one of
// the formats. Lines are formatted into a pooled buffer and written with one
// call under a lock, so concurrent requests never interleave.
type Handler struct {
	format string
	shared *sink
	attrs  []slog.Attr
	level  slog.Level
}

type sink struct {
	mu     sync.Mutex
	out    io.Writer
	errOut io.Writer
	// quiet drops request records but keeps the rest.
	quiet bool
}

// NewHandler returns a handler writing format to out (requests) and errOut.
func NewHandler(out, errOut io.Writer, format string, quiet bool) *Handler {
	return &Handler{format: format, shared: &sink{out: out, errOut: errOut, quiet: quiet}}
}

// Enabled lets callers skip building records nobody will see: with quiet,
// everything below a warning (request and connection lines) is dropped.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	if h.shared.quiet && l < slog.LevelWarn {
		return false
	}
	return l >= h.level
}

func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &h2
}

// WithGroup flattens: ferry's records are shallow.
func (h *Handler) WithGroup(string) slog.Handler { return h }

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	isRequest := r.Message == MsgRequest && r.Level == slog.LevelInfo
	if isRequest && h.shared.quiet {
		return nil
	}
	bp := linePool.Get().(*[]byte)
	b := (*bp)[:0]
	switch {
	case isRequest && h.format == FormatJSON:
		b = appendRequestJSON(b, r)
	case isRequest && h.format == FormatCombined:
		b = appendCombined(b, r)
	case isRequest:
		b = appendRequestText(b, r)
	case h.format == FormatJSON:
		b = h.appendOtherJSON(b, r)
	default:
		b = h.appendOtherText(b, r)
	}
	b = append(b, '\n')
	w := h.shared.errOut
	if isRequest || r.Level < slog.LevelWarn {
		w = h.shared.out
	}
	h.shared.mu.Lock()
	_, err := w.Write(b)
	h.shared.mu.Unlock()
	if cap(b) <= 64<<10 {
		*bp = b
		linePool.Put(bp)
	}
	return err
}

// request holds the fields of a request record.
type request struct {
	client, method, path, query, uri, proto, outcome, user, referer, agent string
	status                                                                 int64
	bytes, size                                                            int64
	durationMS                                                             float64

	// Uploads only: the file's bytes stored so far (-1: not an upload),
	// the response's bytes, why it was refused, how many files it stored.
	done, sent, files int64
	reason            string
}

func readRequest(r slog.Record) request {
	q := request{size: -1, done: -1, sent: -1}
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "client":
			q.client = a.Value.String()
		case "method":
			q.method = a.Value.String()
		case "path":
			q.path = a.Value.String()
		case "proto":
			q.proto = a.Value.String()
		case "query":
			q.query = a.Value.String()
		case "uri":
			q.uri = a.Value.String()
		case "status":
			q.status = a.Value.Int64()
		case "bytes":
			q.bytes = a.Value.Int64()
		case "duration_ms":
			q.durationMS = a.Value.Float64()
		case "outcome":
			q.outcome = a.Value.String()
		case "size":
			q.size = a.Value.Int64()
		case "user":
			q.user = a.Value.String()
		case "referer":
			q.referer = a.Value.String()
		case "user_agent":
			q.agent = a.Value.String()
		case "done":
			q.done = a.Value.Int64()
		case "sent":
			q.sent = a.Value.Int64()
		case "files":
			q.files = a.Value.Int64()
		case "reason":
			q.reason = a.Value.String()
		}
		return true
	})
	return q
}

func appendRequestText(b []byte, r slog.Record) []byte {
	q := readRequest(r)
	b = r.Time.AppendFormat(b, "2006-01-02 15:04:05")
	b = append(b, ' ')
	b = appendEscaped(b, q.client, false)
	b = append(b, ' ')
	b = appendEscaped(b, q.method, false)
	b = append(b, ' ')
	b = appendEscaped(b, q.path, false)
	if q.query != "" {
		b = append(b, '?')
		b = appendEscaped(b, q.query, false)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, q.status, 10)
	b = append(b, ' ')
	b = AppendSize(b, q.bytes)
	b = append(b, ' ')
	b = appendDuration(b, q.durationMS)
	done := q.bytes
	if q.done >= 0 {
		done = q.done // an upload: the whole file, resumed parts included
	}
	switch q.outcome {
	case "":
	case "cut short", "partial":
		b = append(b, ' ')
		b = append(b, q.outcome...)
		b = append(b, ": "...)
		b = AppendSize(b, done)
		b = append(b, " of "...)
		b = AppendSize(b, q.size)
	case "refused":
		b = append(b, " refused"...)
		if q.reason != "" {
			b = append(b, ": "...)
			b = appendEscaped(b, q.reason, false)
		}
	default:
		b = append(b, ' ')
		b = append(b, q.outcome...)
		if q.files > 1 {
			b = append(b, " ("...)
			b = strconv.AppendInt(b, q.files, 10)
			b = append(b, " files)"...)
		}
	}
	return b
}

func appendDuration(b []byte, ms float64) []byte {
	switch {
	case ms < 1:
		b = strconv.AppendFloat(b, ms*1000, 'f', 0, 64)
		return append(b, "µs"...)
	case ms < 1000:
		b = strconv.AppendFloat(b, ms, 'f', 1, 64)
		return append(b, "ms"...)
	default:
		b = strconv.AppendFloat(b, ms/1000, 'f', 2, 64)
		return append(b, 's')
	}
}

// AppendSize appends a human size in powers of 1024.
func AppendSize(b []byte, n int64) []byte {
	if n < 0 {
		return append(b, '?')
	}
	if n < 1024 {
		b = strconv.AppendInt(b, n, 10)
		return append(b, " B"...)
	}
	f := float64(n)
	units := "KMGTPE"
	i := -1
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	prec := 1
	if f >= 100 {
		prec = 0
	}
	b = strconv.AppendFloat(b, f, 'f', prec, 64)
	b = append(b, ' ', units[i], 'i', 'B')
	return b
}

func appendCombined(b []byte, r slog.Record) []byte {
	q := readRequest(r)
	host := q.client
	if i := lastColon(host); i > 0 {
		host = host[:i]
		if len(host) > 1 && host[0] == '[' {
			host = host[1 : len(host)-1]
		}
	}
	b = appendEscaped(b, host, true)
	b = append(b, " - "...)
	if q.user == "" {
		b = append(b, '-')
	} else {
		b = appendEscaped(b, q.user, true)
	}
	b = append(b, " ["...)
	b = r.Time.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	b = appendEscaped(b, q.method, true)
	b = append(b, ' ')
	if q.uri != "" {
		// Apache logs the target as the client sent it: escaped, so a space
		// in a name cannot split the request line for log parsers.
		b = appendEscaped(b, q.uri, true)
	} else {
		b = appendEscaped(b, q.path, true)
	}
	b = append(b, ' ')
	b = appendEscaped(b, q.proto, true)
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, q.status, 10)
	b = append(b, ' ')
	sent := q.bytes
	if q.sent >= 0 {
		sent = q.sent // an upload: Apache's %b is the response's size
	}
	if sent == 0 {
		b = append(b, '-')
	} else {
		b = strconv.AppendInt(b, sent, 10)
	}
	b = append(b, " \""...)
	if q.referer == "" {
		b = append(b, '-')
	} else {
		b = appendEscaped(b, q.referer, true)
	}
	b = append(b, "\" \""...)
	if q.agent == "" {
		b = append(b, '-')
	} else {
		b = appendEscaped(b, q.agent, true)
	}
	return append(b, '"')
}

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return i
		}
	}
	return -1
}

func appendRequestJSON(b []byte, r slog.Record) []byte {
	q := readRequest(r)
	b = append(b, `{"time":"`...)
	b = r.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","client":`...)
	b = appendJSONString(b, q.client)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, q.method)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, q.path)
	if q.query != "" {
		b = append(b, `,"query":`...)
		b = appendJSONString(b, q.query)
	}
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, q.status, 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, q.bytes, 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, q.durationMS, 'f', -1, 64)
	if q.outcome != "" {
		b = append(b, `,"outcome":`...)
		b = appendJSONString(b, q.outcome)
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, q.size, 10)
	}
	if q.done >= 0 {
		b = append(b, `,"kind":"upload","done":`...)
		b = strconv.AppendInt(b, q.done, 10)
		if q.reason != "" {
			b = append(b, `,"reason":`...)
			b = appendJSONString(b, q.reason)
		}
		if q.files > 1 {
			b = append(b, `,"files":`...)
			b = strconv.AppendInt(b, q.files, 10)
		}
		if q.uri != "" {
			// The request target: the path above is the destination.
			b = append(b, `,"uri":`...)
			b = appendJSONString(b, q.uri)
		}
	}
	if q.user != "" {
		b = append(b, `,"user":`...)
		b = appendJSONString(b, q.user)
	}
	if q.proto != "" {
		b = append(b, `,"proto":`...)
		b = appendJSONString(b, q.proto)
	}
	return append(b, '}')
}

func (h *Handler) appendOtherText(b []byte, r slog.Record) []byte {
	b = r.Time.AppendFormat(b, "2006-01-02 15:04:05")
	b = append(b, ' ')
	if r.Level >= slog.LevelWarn {
		b = append(b, r.Level.String()...)
		b = append(b, ' ')
	}
	b = appendEscaped(b, r.Message, false)
	each := func(a slog.Attr) bool {
		b = append(b, ' ')
		b = append(b, a.Key...)
		b = append(b, '=')
		b = appendEscaped(b, a.Value.String(), false)
		return true
	}
	for _, a := range h.attrs {
		each(a)
	}
	r.Attrs(each)
	return b
}

func (h *Handler) appendOtherJSON(b []byte, r slog.Record) []byte {
	b = append(b, `{"time":"`...)
	b = r.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":`...)
	b = appendJSONString(b, r.Level.String())
	b = append(b, `,"msg":`...)
	b = appendJSONString(b, r.Message)
	each := func(a slog.Attr) bool {
		b = append(b, ',')
		b = appendJSONString(b, a.Key)
		b = append(b, ':')
		switch a.Value.Kind() {
		case slog.KindInt64:
			b = strconv.AppendInt(b, a.Value.Int64(), 10)
		case slog.KindBool:
			b = strconv.AppendBool(b, a.Value.Bool())
		default:
			b = appendJSONString(b, a.Value.String())
		}
		return true
	}
	for _, a := range h.attrs {
		each(a)
	}
	r.Attrs(each)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendEscaped writes s with control characters, bidirectional controls,
// invalid UTF-8 (and, when quoted, `"` and `\`) escaped, so a request cannot
// forge log lines, send escape sequences to the operator's terminal or make
// a line read other than it is.
func appendEscaped(b []byte, s string, quoted bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
			case quoted && (c == '"' || c == '\\'):
				b = append(b, '\\', c)
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		case unsafeRune(r):
			b = fmt.Appendf(b, `\u%04x`, r)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// unsafeRune reports the characters beyond ASCII that a log must not carry
// raw: C1 controls (U+0080–U+009F, escape sequences to some terminals) and
// bidirectional controls (U+202E and kin, which make the rest of a line read
// backwards, so a logged name looks like another). They are the ones
// rootfs refuses in names; a request path can still carry them.
func unsafeRune(r rune) bool {
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Bidi_Control, r)
}

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else if unsafeRune(r) || r == 0x2028 || r == 0x2029 {
			b = fmt.Appendf(b, `\u%04x`, r)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
