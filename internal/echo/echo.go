// Package echo implements ferry echo: an HTTP handler that answers every
// request, whatever its method or path, with a report of what it received.
//
// Bodies are read as streams. Form values and the lists of fields and files
// kept for the report are capped, so a request of any size is inspected in
// constant memory; the bytes that are not kept still count in the size.
package echo

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on what a report keeps in memory.
const (
	// MaxValue is the longest form value (or field name) kept; longer ones
	// are cut, with a note.
	MaxValue = 64 << 10
	// MaxFormBytes bounds the names and values kept for one request.
	MaxFormBytes = 1 << 20
	// MaxFields and MaxFiles bound the number of entries kept.
	MaxFields = 1000
	MaxFiles  = 1000
	// MaxText is the largest body shown as text; a larger one, or one that
	// is not text, is reported by its size and SHA-256 only.
	MaxText = 64 << 10
	// maxNotes keeps the notes themselves bounded.
	maxNotes = 100
)

// Options configures the handler. The zero value is ready to use.
type Options struct {
	MaxBody int64 // 0 = unlimited; over it → 413 with a plain-text reason
}

// NewHandler returns the echo handler.
func NewHandler(opts Options) http.Handler {
	return &handler{opts: opts}
}

type handler struct {
	opts Options
}

// Report is what the handler answers, in the JSON shape of the spec.
type Report struct {
	Client   string              `json:"client"`
	Method   string              `json:"method"`
	Path     string              `json:"path"`
	Query    map[string][]string `json:"query"`
	RawQuery string              `json:"raw_query"`
	Protocol string              `json:"protocol"`
	Headers  map[string][]string `json:"headers"`
	Trailers map[string][]string `json:"trailers,omitempty"`
	Body     Body                `json:"body"`
}

// Body describes the request body.
type Body struct {
	Size int64 `json:"size"`
	// SHA256 is the hash of the whole body as received (after any chunked
	// framing is removed), shown or not.
	SHA256 string `json:"sha256"`
	// Text is the body itself when it is text of at most MaxText bytes;
	// absent otherwise, with a note saying why.
	Text  *string             `json:"text,omitempty"`
	Form  map[string][]string `json:"form"`
	Files []File              `json:"files"`
	// Notes say what the report left out or shows differently from what
	// was received, such as values cut to MaxValue.
	Notes []string `json:"notes,omitempty"`
}

// File is one multipart file part.
type File struct {
	Field       string `json:"field"`
	Filename    string `json:"filename"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"`
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Refuse a declared oversize body before reading any of it, so that a
	// client waiting on "Expect: 100-continue" never sends it.
	if h.opts.MaxBody > 0 && r.ContentLength > h.opts.MaxBody {
		tooLarge(w, h.opts.MaxBody)
		return
	}
	var body io.Reader = r.Body
	if r.Body == nil { // only a hand-built request, but that must not panic
		body = http.NoBody
	}
	if h.opts.MaxBody > 0 && r.Body != nil {
		body = http.MaxBytesReader(w, r.Body, h.opts.MaxBody)
	}
	counted := &countingReader{r: body, hash: sha256.New()}

	rep := Report{
		Client:   r.RemoteAddr,
		Method:   r.Method,
		Path:     r.URL.Path,
		Query:    parseQuery(r.URL.RawQuery),
		RawQuery: r.URL.RawQuery,
		Protocol: r.Proto,
		Headers:  receivedHeaders(r),
		Body:     Body{Form: map[string][]string{}, Files: []File{}},
	}
	if err := readBody(r.Header.Get("Content-Type"), counted, &rep.Body); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			tooLarge(w, tooBig.Limit)
			return
		}
		// The spec has echo answer every request with 200: a body that is
		// not the form it claims to be is reported as far as it parsed, its
		// bytes still counted, with a note saying why the rest is missing.
		if _, cerr := io.Copy(io.Discard, counted); errors.As(cerr, &tooBig) {
			tooLarge(w, tooBig.Limit)
			return
		}
		rep.Body.Notes = append(rep.Body.Notes, reason(err)+": the fields and files before the fault are shown")
	}
	rep.Body.Size = counted.n
	rep.Body.SHA256 = hex.EncodeToString(counted.hash.Sum(nil))
	switch {
	case counted.n > MaxText:
		rep.Body.Notes = append(rep.Body.Notes, fmt.Sprintf("body not shown: larger than %d bytes (see its sha256)", MaxText))
	case !isText(counted.head):
		rep.Body.Notes = append(rep.Body.Notes, "body not shown: binary, not UTF-8 text (see its sha256)")
	default:
		text := string(counted.head)
		rep.Body.Text = &text
	}
	// Trailer values are known only once the body has been read to its end.
	if len(r.Trailer) > 0 {
		rep.Trailers = map[string][]string(r.Trailer.Clone())
	}

	var buf bytes.Buffer
	if wantsJSON(r) {
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		// Values appear as sent: "<a&b>", not "\u003ca\u0026b\u003e".
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&rep); err != nil {
			http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
	} else {
		writeText(&buf, &rep)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	// net/http drops a HEAD body anyway; not writing it keeps the log's
	// byte count honest (0 B, as for the file server).
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

func tooLarge(w http.ResponseWriter, limit int64) {
	http.Error(w, fmt.Sprintf("413 Request Entity Too Large: body exceeds %d bytes", limit),
		http.StatusRequestEntityTooLarge)
}

// receivedHeaders rebuilds the header as the client sent it. net/http moves
// Host to r.Host and Transfer-Encoding and Trailer out of r.Header into
// fields of their own; the spec wants all but Host.
func receivedHeaders(r *http.Request) map[string][]string {
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Del("Host")
	if len(r.TransferEncoding) > 0 && h.Get("Transfer-Encoding") == "" {
		h["Transfer-Encoding"] = slices.Clone(r.TransferEncoding)
	}
	if len(r.Trailer) > 0 && h.Get("Trailer") == "" {
		names := make([]string, 0, len(r.Trailer))
		for name := range r.Trailer {
			names = append(names, name)
		}
		slices.Sort(names)
		h["Trailer"] = []string{strings.Join(names, ", ")}
	}
	return h
}

// wantsJSON reports whether the client asked for JSON, by ?format=json or
// by naming application/json anywhere in Accept.
func wantsJSON(r *http.Request) bool {
	if slices.Contains(r.URL.Query()["format"], "json") {
		return true
	}
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(mt), "application/json") {
				return true
			}
		}
	}
	return false
}

// countingReader counts what is read through it; with a hash it also
// hashes it and keeps the first MaxText bytes, for the report's text.
type countingReader struct {
	r    io.Reader
	n    int64
	hash hash.Hash
	head []byte
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.hash != nil {
		c.hash.Write(p[:n])
		if room := MaxText - len(c.head); room > 0 {
			c.head = append(c.head, p[:min(n, room)]...)
		}
	}
	return n, err
}

// isText reports whether b reads as text: valid UTF-8 without the control
// bytes that only binary data holds (NUL and most of C0; tabs, line and
// page breaks, BEL, BS and ESC occur in text), as file(1) judges.
func isText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 && !strings.ContainsRune("\a\b\t\n\v\f\r\x1b", rune(c)) {
			return false
		}
	}
	return true
}

// badBody is a body that could not be understood; its text goes to the
// client, so it never carries more than a fixed reason.
type badBody struct{ reason string }

func (e *badBody) Error() string { return e.reason }

func reason(err error) string {
	var bad *badBody
	if errors.As(err, &bad) {
		return bad.reason
	}
	return "could not read the request body"
}

// readBody reads the whole body, filling b's form and files when the
// content type is a form, and always consuming it to the end so that the
// caller's count is the full size.
func readBody(contentType string, body io.Reader, b *Body) error {
	mt, params, err := mime.ParseMediaType(contentType)
	form := &formCollector{body: b}
	switch {
	case err == nil && mt == "multipart/form-data":
		boundary := params["boundary"]
		if boundary == "" {
			return &badBody{"multipart/form-data without a boundary"}
		}
		if err := readMultipart(multipart.NewReader(body, boundary), form); err != nil {
			return err
		}
	case err == nil && mt == "application/x-www-form-urlencoded":
		if err := readURLEncoded(body, form); err != nil {
			return err
		}
	}
	// Whatever follows a form (a multipart epilogue) or a body of any other
	// type is only counted.
	_, err = io.Copy(io.Discard, body)
	form.finish()
	return err
}

func readMultipart(mr *multipart.Reader, form *formCollector) error {
	buf := make([]byte, 32<<10)
	for {
		p, err := mr.NextPart()
		if err == io.EOF { // exactly io.EOF: a wrapped one is a truncated body
			return nil
		}
		if err != nil {
			return multipartError(err)
		}
		// Part.FormName and Part.FileName are not used: FileName keeps only
		// the base name, and an inspector shows what was sent.
		_, disp, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		name := disp["name"]
		if filename, ok := disp["filename"]; ok {
			hash := sha256.New()
			n, err := io.CopyBuffer(hash, p, buf)
			if err != nil {
				return multipartError(err)
			}
			form.addFile(File{
				Field:       name,
				Filename:    filename,
				Size:        n,
				ContentType: p.Header.Get("Content-Type"),
				SHA256:      hex.EncodeToString(hash.Sum(nil)),
			})
			continue
		}
		var value bytes.Buffer
		if _, err := io.CopyBuffer(&value, io.LimitReader(p, MaxValue), buf); err != nil {
			return multipartError(err)
		}
		rest, err := io.CopyBuffer(io.Discard, p, buf)
		if err != nil {
			return multipartError(err)
		}
		form.addValue(name, value.String(), rest > 0)
	}
}

// multipartError keeps the size limit recognisable and turns the rest into
// a reason fit for the client.
func multipartError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return &badBody{"malformed multipart body"}
}

// readURLEncoded parses an application/x-www-form-urlencoded body pair by
// pair, unlike url.ParseQuery, which needs all of it in memory.
func readURLEncoded(body io.Reader, form *formCollector) error {
	// A value of MaxValue bytes may take three times as many encoded, plus
	// its name.
	const maxPair = 4 * MaxValue
	br := bufio.NewReaderSize(body, 4<<10)
	var pair []byte
	cut := false
	for {
		chunk, err := br.ReadSlice('&')
		switch {
		case err == nil:
			chunk = chunk[:len(chunk)-1]
		case errors.Is(err, bufio.ErrBufferFull), err == io.EOF:
		default:
			return err
		}
		if room := maxPair - len(pair); len(chunk) > room {
			chunk, cut = chunk[:room], true
		}
		pair = append(pair, chunk...)
		if err == nil || err == io.EOF {
			form.addPair(pair, cut)
			pair, cut = pair[:0], false
		}
		if err == io.EOF {
			return nil
		}
	}
}

// formCollector keeps form fields and files within the package's limits and
// notes what it leaves out.
type formCollector struct {
	body          *Body
	kept          int // bytes of names and values kept
	fields        int
	droppedFields int
	droppedFiles  int
}

func (f *formCollector) note(format string, args ...any) {
	if len(f.body.Notes) < maxNotes {
		f.body.Notes = append(f.body.Notes, fmt.Sprintf(format, args...))
	}
}

func (f *formCollector) addValue(name, value string, cut bool) {
	if len(name) > MaxValue {
		name, cut = name[:MaxValue], true
	}
	if len(value) > MaxValue {
		value, cut = value[:MaxValue], true
	}
	if f.fields >= MaxFields || f.kept+len(name)+len(value) > MaxFormBytes {
		f.droppedFields++
		return
	}
	f.fields++
	f.kept += len(name) + len(value)
	f.body.Form[name] = append(f.body.Form[name], value)
	if cut {
		f.note("form field %q: cut to its first %d bytes", name, MaxValue)
	}
}

// addPair adds one name=value pair of a urlencoded body. A pair that does
// not decode is kept as it was received rather than refused: showing what
// arrived is the point of an inspector.
func (f *formCollector) addPair(pair []byte, cut bool) {
	if len(pair) == 0 {
		return
	}
	if cut {
		// Drop an escape that the cut split in two.
		if i := bytes.LastIndexByte(pair, '%'); i >= 0 && i >= len(pair)-2 {
			pair = pair[:i]
		}
	}
	name, value, ok := decodePair(string(pair))
	if !ok {
		f.note("form field %q: invalid percent-encoding, shown as received", name)
	}
	f.addValue(name, value, cut)
}

// decodePair decodes one name=value pair of a query or urlencoded form. A
// pair that does not decode comes back as it was received, with ok false.
func decodePair(pair string) (name, value string, ok bool) {
	rawName, rawValue, _ := strings.Cut(pair, "=")
	name, err1 := url.QueryUnescape(rawName)
	value, err2 := url.QueryUnescape(rawValue)
	if err1 != nil || err2 != nil {
		return rawName, rawValue, false
	}
	return name, value, true
}

// parseQuery is url.ParseQuery without its refusals: that drops pairs with
// a semicolon or a bad escape, but an inspector shows every pair it got.
func parseQuery(raw string) map[string][]string {
	q := map[string][]string{}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair != "" {
			name, value, _ := decodePair(pair)
			q[name] = append(q[name], value)
		}
	}
	return q
}

func (f *formCollector) addFile(file File) {
	if len(f.body.Files) >= MaxFiles {
		f.droppedFiles++
		return
	}
	if len(file.Field) > MaxValue {
		file.Field = file.Field[:MaxValue]
	}
	if len(file.Filename) > MaxValue {
		file.Filename = file.Filename[:MaxValue]
	}
	f.body.Files = append(f.body.Files, file)
}

func (f *formCollector) finish() {
	// These may go past maxNotes: a report must never leave fields or
	// files out without saying so.
	if f.droppedFields > 0 {
		f.body.Notes = append(f.body.Notes, fmt.Sprintf("%d more form fields not shown", f.droppedFields))
	}
	if f.droppedFiles > 0 {
		f.body.Notes = append(f.body.Notes, fmt.Sprintf("%d more files not shown", f.droppedFiles))
	}
}
