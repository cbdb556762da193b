// Package httperr writes ferry's error responses: the numeric status and its
// reason, as HTML for browsers and plain text otherwise, with an optional
// detail written for clients. It never carries host paths or Go errors.
package httperr

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ferry-sh/ferry/internal/storage"
)

// Write answers with status and an optional client-facing detail: as a
// page in the listing's look when the client accepts HTML, else one line of
// plain text. Headers a handler prepared for a success that did not happen
// are removed, except those named in keep (a 416's Content-Range).
func Write(w http.ResponseWriter, r *http.Request, status int, detail string, keep ...string) {
	h := w.Header()
	for _, k := range []string{"Content-Length", "Content-Encoding", "Etag", "Last-Modified", "Content-Range", "Content-Disposition"} {
		if !slices.Contains(keep, k) {
			h.Del(k)
		}
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	reason := strconv.Itoa(status) + " " + http.StatusText(status)
	var body []byte
	if WantsHTML(r) {
		h.Set("Content-Type", "text/html; charset=utf-8")
		// The page's one inline style is allowed by its hash; nothing else
		// may load or run.
		h.Set("Content-Security-Policy", pageCSP)
		body = appendPage(make([]byte, 0, len(pageHead)+len(reason)*2+len(detail)+256), reason, detail, homeHref(r))
	} else {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		body = append(make([]byte, 0, len(reason)+len(detail)+3), reason...)
		if detail != "" {
			body = append(append(body, ": "...), detail...)
		}
		body = append(body, '\n')
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// pageStyle gives error pages the listing's colours, type and dark mode
// without loading its stylesheet, which a 401 or 421 would refuse as well.
const pageStyle = `:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#656d76;--line:#e4e7eb;--accent:#2563eb}` +
	`@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--line:#262c36;--accent:#4493f8}}` +
	`body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}` +
	`main{max-width:40rem;margin:0 auto;padding:2rem 1rem}h1{font-size:1.5rem;margin:0 0 .75rem}` +
	`p{margin:0 0 1rem;overflow-wrap:anywhere}a{color:var(--accent)}` +
	`footer{max-width:40rem;margin:0 auto;padding:1rem;border-top:1px solid var(--line);color:var(--muted);font-size:.875rem}`

const pageHead = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<style>` + pageStyle + `</style>
<title>`

var pageCSP = func() string {
	sum := sha256.Sum256([]byte(pageStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}()

func appendPage(b []byte, reason, detail, home string) []byte {
	b = append(b, pageHead...)
	b = append(b, html.EscapeString(reason)...)
	b = append(b, "</title></head>\n<body><main><h1>"...)
	b = append(b, html.EscapeString(reason)...)
	b = append(b, "</h1>\n"...)
	if detail != "" {
		b = append(b, "<p>"...)
		b = append(b, html.EscapeString(detail)...)
		b = append(b, "</p>\n"...)
	}
	b = append(b, `<p><a href="`...)
	b = append(b, html.EscapeString(home)...)
	b = append(b, "\">Back to the top folder</a></p></main>\n<footer>ferry</footer></body></html>\n"...)
	return b
}

// homeHref is a relative link from the request's page to the top of the
// share, one "../" per folder, so that it stays right under any prefix the
// handler is mounted at (as the listing's breadcrumbs do).
func homeHref(r *http.Request) string {
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p, "/") {
		return "/"
	}
	depth := strings.Count(p, "/") - 1
	switch {
	case depth == 0:
		return "./"
	case depth > 64:
		return "/" // a path that long is no browser's; keep the page small
	}
	return strings.Repeat("../", depth)
}

// WantsHTML reports whether the client asked for HTML (a browser).
func WantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// FromFS answers for a filesystem error: the one place errors become statuses.
func FromFS(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, storage.ErrUnavailable):
		Unavailable(w, r)
	case errors.Is(err, fs.ErrNotExist):
		Write(w, r, http.StatusNotFound, "")
	case errors.Is(err, fs.ErrPermission):
		Write(w, r, http.StatusForbidden, "")
	case errors.Is(err, fs.ErrExist):
		Write(w, r, http.StatusConflict, "already exists")
	default:
		Write(w, r, http.StatusInternalServerError, "")
	}
}

// UnavailableMessage is what a client is told when the store behind the
// tree (an object store) cannot be reached or does not answer in time.
const UnavailableMessage = "the storage cannot be reached; try again later"

// Unavailable answers 503 for a store that cannot be reached: the request
// may succeed later, and a client that retries is told when.
func Unavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	Note(w, CauseStorage)
	Write(w, r, http.StatusServiceUnavailable, UnavailableMessage)
}

// Causes of a refusal (a 503) that the metrics count apart: a 503 is no
// sign of overload when the store behind the tree is down or the server is
// stopping. A 503 with no cause noted was refused for want of room.
const (
	CauseStorage  = "storage"  // the store cannot be reached or did not answer in time
	CauseStopping = "stopping" // the server is shutting down
)

// causeNoter is the access recorder's side of Note.
type causeNoter interface{ NoteCause(string) }

// Note tells the request's access recorder, found through w's Unwrap
// chain, why the request is being refused; without one it does nothing.
func Note(w http.ResponseWriter, cause string) {
	for w != nil {
		if n, ok := w.(causeNoter); ok {
			n.NoteCause(cause)
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// NoteErr notes the cause err implies: storage for a store that cannot be
// reached, nothing otherwise.
func NoteErr(w http.ResponseWriter, err error) {
	if errors.Is(err, storage.ErrUnavailable) {
		Note(w, CauseStorage)
	}
}

// ForStorage maps an error from storing data in the tree to a status and a
// client-facing reason; ok is false for errors it does not know (a 500).
func ForStorage(err error) (status int, msg string, ok bool) {
	switch {
	case errors.Is(err, storage.ErrNoSpace):
		return http.StatusInsufficientStorage, "not enough space on the server; nothing was stored", true
	case errors.Is(err, storage.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "file too large for the server's storage", true
	case errors.Is(err, storage.ErrNameTooLong):
		return http.StatusBadRequest, "name too long", true
	case errors.Is(err, storage.ErrReadOnly), errors.Is(err, fs.ErrPermission):
		return http.StatusForbidden, "the server may not write there", true
	case errors.Is(err, storage.ErrNotDir):
		return http.StatusConflict, "a parent is not a folder", true
	case errors.Is(err, storage.ErrUnavailable):
		return http.StatusServiceUnavailable, "the storage cannot be reached; nothing was stored; try again later", true
	}
	return http.StatusInternalServerError, "", false
}

// WantsJSON reports whether the client asks for JSON more than for HTML:
// application/json in Accept with a quality at least that of text/html, so a
// browser's Accept never gets JSON and "Accept: application/json" always does.
func WantsJSON(r *http.Request) bool {
	accept := strings.ToLower(r.Header.Get("Accept"))
	if !strings.Contains(accept, "application/json") {
		return false
	}
	var jsonQ, htmlQ float64
	for part := range strings.SplitSeq(accept, ",") {
		media, params, _ := strings.Cut(part, ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		switch strings.TrimSpace(media) {
		case "application/json":
			jsonQ = max(jsonQ, q)
		case "text/html":
			htmlQ = max(htmlQ, q)
		}
	}
	return jsonQ > 0 && jsonQ >= htmlQ
}
