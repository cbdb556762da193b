// Package headers adds the operator's response headers (-H 'Name: value')
// to every response and, with --cors, lets pages of other origins read
// what anyone may read: GET, HEAD and OPTIONS carry
// "Access-Control-Allow-Origin: *", and preflights are answered. Writes
// are not opened: their preflight never allows them, and the cross-site
// check refuses them as before. Credentials are never allowed
// cross-origin (no Access-Control-Allow-Credentials, no Authorization in a
// preflight's allowed headers).
package headers

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Header is one operator header. An empty Value removes the header of
// that name from every response (-H 'Server:').
type Header struct {
	Name  string // canonical form
	Value string
}

// framing are headers that describe the message itself: set by hand they
// would make responses unreadable, so -H refuses them.
var framing = map[string]bool{
	"Content-Length":    true,
	"Transfer-Encoding": true,
	"Content-Encoding":  true,
	"Content-Range":     true,
	"Connection":        true,
	"Keep-Alive":        true,
	"Upgrade":           true,
	"Trailer":           true,
	"Te":                true,
}

// Parse reads "Name: value" as -H takes it: one line, a valid field name,
// a value without control characters (tabs aside), surrounding space
// trimmed.
func Parse(s string) (Header, error) {
	if strings.ContainsAny(s, "\r\n") {
		return Header{}, errors.New("a header is one line")
	}
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return Header{}, errors.New(`expected "Name: value"`)
	}
	if !httpguts.ValidHeaderFieldName(name) {
		if strings.TrimSpace(name) != name {
			return Header{}, errors.New("no space before the colon")
		}
		return Header{}, errors.New("not a valid header name")
	}
	value = strings.Trim(value, " \t")
	if !httpguts.ValidHeaderFieldValue(value) {
		return Header{}, errors.New("the value has a control character")
	}
	name = http.CanonicalHeaderKey(name)
	if framing[name] {
		return Header{}, errors.New(name + " is ferry's to set")
	}
	return Header{Name: name, Value: value}, nil
}

// ParseAll parses every -H value.
func ParseAll(specs []string) ([]Header, error) {
	out := make([]Header, 0, len(specs))
	for _, s := range specs {
		h, err := Parse(s)
		if err != nil {
			return nil, errors.New(quote(s) + ": " + err.Error())
		}
		out = append(out, h)
	}
	return out, nil
}

// quote shows a flag value in an error, its control characters escaped.
func quote(s string) string {
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return strconv.Quote(s)
}

// Options say what the middleware adds.
type Options struct {
	Add  []Header
	CORS bool
	// Private reports whether a request path is ferry's own business
	// (status, metrics under /.ferry/), which other origins must not read
	// even with CORS: the page would learn who else is connected.
	Private func(escapedPath string) bool
}

// Middleware adds the headers to every response of next, replacing
// ferry's own of the same name: the operator's word is final. A name
// given several times gets every value. With CORS, reads are marked
// readable by any origin.
func Middleware(next http.Handler, opts Options) http.Handler {
	if len(opts.Add) == 0 && !opts.CORS {
		return next
	}
	// Several -H of one name keep every value, in order.
	set := map[string][]string{}
	var order []string
	for _, h := range opts.Add {
		if _, ok := set[h.Name]; !ok {
			order = append(order, h.Name)
		}
		if h.Value != "" {
			set[h.Name] = append(set[h.Name], h.Value)
		} else if set[h.Name] == nil {
			set[h.Name] = []string{}
		}
	}
	for name, v := range set {
		// Full slices: a handler's Header.Add then copies instead of
		// appending into the array every response shares.
		set[name] = slices.Clip(v)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opts.CORS && readMethod(r.Method) && (opts.Private == nil || !opts.Private(r.URL.EscapedPath())) {
			h := w.Header()
			h["Access-Control-Allow-Origin"] = anyOrigin
			h["Access-Control-Expose-Headers"] = exposed
		}
		if len(order) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&writer{ResponseWriter: w, set: set, order: order}, r)
	})
}

func readMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// Shared read-only header values.
var (
	anyOrigin = []string{"*"}
	// Beyond the CORS-safelisted response headers, what a page reading a
	// file may want: validators, ranges, the digest, the download name.
	exposed      = []string{"Accept-Ranges, Content-Disposition, Content-Encoding, Content-Range, ETag, Repr-Digest"}
	allowMethods = []string{"GET, HEAD, OPTIONS"}
	// What a reading page may send: preconditions, ranges, content
	// negotiation. Not Authorization: credentials stay same-origin.
	allowHeaders = []string{"Accept, Accept-Language, Cache-Control, Content-Language, Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Range, If-Unmodified-Since, Range"}
	// Chromium caps a preflight's cache at two hours.
	maxAge = []string{"7200"}
)

// IsPreflight reports whether r is a CORS preflight: OPTIONS with Origin
// and Access-Control-Request-Method.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header["Origin"] != nil && r.Header["Access-Control-Request-Method"] != nil
}

// Preflight answers a preflight with 204: reads allowed from any origin,
// with the headers a reading page may send, never credentials. A
// preflight for a write gets the same answer, which does not list its
// method, so the browser does not send it.
func Preflight(w http.ResponseWriter, allow string) {
	h := w.Header()
	h["Access-Control-Allow-Origin"] = anyOrigin
	h["Access-Control-Allow-Methods"] = allowMethods
	h["Access-Control-Allow-Headers"] = allowHeaders
	h["Access-Control-Max-Age"] = maxAge
	h.Set("Allow", allow)
	w.WriteHeader(http.StatusNoContent)
}

// writer applies the operator's headers when the response's head is
// written.
type writer struct {
	http.ResponseWriter
	set     map[string][]string
	order   []string
	applied bool
}

func (w *writer) apply() {
	if w.applied {
		return
	}
	w.applied = true
	h := w.ResponseWriter.Header()
	for _, name := range w.order {
		if v := w.set[name]; len(v) > 0 {
			h[name] = v
		} else {
			delete(h, name)
		}
	}
}

func (w *writer) WriteHeader(code int) {
	if code >= 200 {
		w.apply()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *writer) Write(p []byte) (int, error) {
	w.apply()
	return w.ResponseWriter.Write(p)
}

// ReadFrom keeps sendfile: the writer below takes the file itself.
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	w.apply()
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{w.ResponseWriter}, src)
}

func (w *writer) Flush() {
	w.apply()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the writer below (hijacking,
// deadlines).
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type writerOnly struct{ io.Writer }
