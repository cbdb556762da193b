package httperr

import (
	"io"
	"net/http"
	"strconv"
)

// ServeContent returns the writer to give http.ServeContent for r, a file
// of size bytes: w itself unless r can lead ServeContent to an error of its
// own, then a wrapper that answers that error with Write's page.
func ServeContent(w http.ResponseWriter, r *http.Request, size int64) http.ResponseWriter {
	h := r.Header
	// Only ranges (416) and the preconditions that fail with 412 lead
	// there, so plain requests keep their path free of the wrapper.
	if h["Range"] == nil && h["If-Match"] == nil && h["If-Unmodified-Since"] == nil {
		return w
	}
	return &errorPages{ResponseWriter: w, r: r, size: size}
}

// errorPages stands between http.ServeContent and the client to replace the
// bodies ServeContent writes for its own errors ("invalid range: failed to
// overlap" in plain text for a 416, nothing at all for a 412) with ferry's
// error page, so that those carry their code and reason, as HTML for a
// browser, like every other error. Headers ServeContent set for the error
// stay: a 416 keeps its "Content-Range: bytes */SIZE" (RFC 9110 §15.5.17).
type errorPages struct {
	http.ResponseWriter
	r        *http.Request
	size     int64
	replaced bool // the error page went out: ServeContent's body is dropped
}

func (e *errorPages) WriteHeader(code int) {
	if code < 400 || e.replaced {
		e.ResponseWriter.WriteHeader(code)
		return
	}
	e.replaced = true
	detail := ""
	switch code {
	case http.StatusRequestedRangeNotSatisfiable:
		detail = "no requested range lies within the file's " + strconv.FormatInt(e.size, 10) + " bytes"
	case http.StatusPreconditionFailed:
		detail = "the file does not match the request's If-Match or If-Unmodified-Since"
	}
	Write(e.ResponseWriter, e.r, code, detail, "Content-Range")
}

func (e *errorPages) Write(p []byte) (int, error) {
	if e.replaced {
		return len(p), nil
	}
	return e.ResponseWriter.Write(p)
}

// ReadFrom keeps sendfile: the writer below (the access log's recorder, then
// net/http's response) takes the file itself.
func (e *errorPages) ReadFrom(src io.Reader) (int64, error) {
	if e.replaced {
		return 0, nil
	}
	if rf, ok := e.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{e.ResponseWriter}, src)
}

func (e *errorPages) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// writerOnly hides a ReadFrom method so io.Copy does not call it back.
type writerOnly struct{ io.Writer }
