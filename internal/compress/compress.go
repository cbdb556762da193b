package compress

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// MinSize is the smallest body worth compressing: below about 1 KiB the
// bytes saved do not pay for the coding's framing and the CPU.
const MinSize = 1024

// Middleware compresses the GET and HEAD responses of next that are worth
// it: a 200 whose Content-Type is text-like (Compressible), whose length is
// unknown or at least MinSize, that carries no Content-Encoding of its own
// (a precompressed file) and no "Cache-Control: no-transform". Such a
// response carries "Vary: Accept-Encoding" whichever coding was chosen; a
// compressed one has no Content-Length and no Accept-Ranges, and its ETag
// names the coding (SuffixETag), which If-None-Match may then name too.
//
// Range requests pass through untouched: ranges always address the
// identity bytes. So does every response of another type, through the same
// ReadFrom that lets net/http send a file with sendfile. A HEAD gets the
// headers its GET would, and no encoder is started.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead || r.Header["Range"] != nil {
			next.ServeHTTP(w, r)
			return
		}
		cw := writers.Get().(*writer)
		cw.ResponseWriter = w
		cw.head = r.Method == http.MethodHead
		cw.coding = Negotiate(headerValue(r.Header["Accept-Encoding"]), Zstd, Gzip)
		if inm := r.Header["If-None-Match"]; inm != nil && cw.coding != "" {
			if v, ok := stripTags(headerValue(inm), cw.coding); ok {
				r2 := new(http.Request)
				*r2 = *r
				r2.Header = r.Header.Clone()
				r2.Header.Set("If-None-Match", v)
				r = r2
				cw.matched = true
			}
		}
		next.ServeHTTP(cw, r)
		whole := cw.finish()
		*cw = writer{}
		writers.Put(cw)
		if !whole {
			// The handler wrote less than the length it announced (a file
			// that shrank or failed to read mid-way). Ending the coded
			// stream would hand the client a truncated body as a whole
			// one; breaking it off makes the client see the cut, as
			// net/http does for an identity body short of its
			// Content-Length, and the access log calls it cut short.
			panic(http.ErrAbortHandler)
		}
	})
}

// headerValue joins a header's field lines as one list.
func headerValue(v []string) string {
	if len(v) == 1 {
		return v[0]
	}
	return strings.Join(v, ",")
}

var writers = sync.Pool{New: func() any { return new(writer) }}

// States of a writer.
const (
	undecided = iota
	plain     // the response passes through
	encoding  // the body goes through enc
	headOnly  // a HEAD announced as compressed: no body to encode
)

type writer struct {
	http.ResponseWriter
	head    bool
	coding  string // negotiated; "" for identity
	matched bool   // If-None-Match named a tag of this coding
	state   int
	enc     encoder
	// want is the Content-Length the handler announced for the identity
	// body (-1: none), which the coding removes from the response; wrote
	// counts the identity bytes that went into the encoder.
	want  int64
	wrote int64
}

// encoder is a pooled zstd or gzip writer.
type encoder interface {
	io.WriteCloser
	Flush() error
}

func (w *writer) WriteHeader(code int) {
	if w.state == undecided {
		w.decide(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

// decide looks at the headers the handler set and chooses the coding.
func (w *writer) decide(code int) {
	w.state = plain
	h := w.Header()
	if code == http.StatusNotModified {
		// The handler matched the identity tag that stripTags made of the
		// client's compressed one: the client holds the compressed form.
		if w.matched {
			if et := h.Get("Etag"); et != "" {
				h.Set("Etag", SuffixETag(et, w.coding))
			}
			addVary(h)
		}
		return
	}
	if code != http.StatusOK || h["Content-Encoding"] != nil || !Compressible(h.Get("Content-Type")) {
		return
	}
	w.want = -1
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err == nil && n < MinSize {
			return // never compressed, so it does not vary
		}
		if err == nil {
			w.want = n
		}
	}
	if strings.Contains(h.Get("Cache-Control"), "no-transform") {
		return
	}
	addVary(h)
	if w.coding == "" {
		return
	}
	h.Set("Content-Encoding", w.coding)
	h.Del("Content-Length")
	// A digest of the identity bytes is not one of the coded
	// representation (RFC 9530 §3).
	h.Del("Repr-Digest")
	// Ranges address the identity bytes; a client must not resume a
	// compressed body with one.
	h.Del("Accept-Ranges")
	if et := h.Get("Etag"); et != "" {
		h.Set("Etag", SuffixETag(et, w.coding))
	}
	if w.head {
		w.state = headOnly
		return
	}
	w.state = encoding
	w.enc = getEncoder(w.coding, w.ResponseWriter)
}

func addVary(h http.Header) {
	for _, v := range h["Vary"] {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Accept-Encoding") {
				return
			}
		}
	}
	h.Add("Vary", "Accept-Encoding")
}

func (w *writer) Write(p []byte) (int, error) {
	if w.state == undecided {
		w.WriteHeader(http.StatusOK)
	}
	if w.state == encoding {
		n, err := w.enc.Write(p)
		w.wrote += int64(n)
		return n, err
	}
	return w.ResponseWriter.Write(p)
}

// ReadFrom hands src unchanged to the writer below when the response is not
// compressed, so that a file (or a LimitedReader over one) still leaves by
// sendfile.
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	if w.state == undecided {
		w.WriteHeader(http.StatusOK)
	}
	if w.state == encoding {
		var n int64
		var err error
		if rf, ok := w.enc.(io.ReaderFrom); ok {
			n, err = rf.ReadFrom(src)
		} else {
			bp := copyBufs.Get().(*[]byte)
			n, err = io.CopyBuffer(writerOnly{w.enc}, readerOnly{src}, *bp)
			copyBufs.Put(bp)
		}
		w.wrote += n
		return n, err
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{w.ResponseWriter}, src)
}

// Flush sends what the encoder holds, then flushes the connection: a
// streamed response stays streamed.
func (w *writer) Flush() {
	if w.state == encoding {
		w.enc.Flush()
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the writer below.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish ends the compressed stream and returns the encoder to its pool.
// It reports false, leaving the stream unended, when the handler wrote
// less than the length it announced.
func (w *writer) finish() (whole bool) {
	if w.state != encoding {
		return true
	}
	whole = w.want < 0 || w.wrote >= w.want
	if whole {
		w.enc.Close()
	}
	putEncoder(w.enc)
	w.enc = nil
	return whole
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

type writerOnly struct{ io.Writer }
type readerOnly struct{ io.Reader }

// Encoders are expensive to make (zstd's tables, gzip's window) and cheap
// to reset, so each coding keeps a pool of them.
var (
	zstdEncoders = sync.Pool{New: func() any {
		// One goroutine per encoder (the request's own), and a window that
		// every browser's decoder accepts (RFC 9659 asks for at most 8 MiB)
		// while keeping an idle pooled encoder small.
		e, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20),
			zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithLowerEncoderMem(true))
		return e
	}}
	gzipEncoders = sync.Pool{New: func() any {
		e, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
		return e
	}}
)

func getEncoder(coding string, w io.Writer) encoder {
	if coding == Zstd {
		e := zstdEncoders.Get().(*zstd.Encoder)
		e.Reset(w)
		return e
	}
	e := gzipEncoders.Get().(*gzip.Writer)
	e.Reset(w)
	return e
}

func putEncoder(e encoder) {
	switch e := e.(type) {
	case *zstd.Encoder:
		e.Reset(nil) // drop the response writer
		zstdEncoders.Put(e)
	case *gzip.Writer:
		e.Reset(io.Discard)
		gzipEncoders.Put(e)
	}
}
