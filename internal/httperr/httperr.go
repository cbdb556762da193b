// Package httperr writes ferry's error responses: the numeric status and its
// reason, as HTML for browsers and plain text otherwise, with an optional
// detail written for clients. It never carries host paths or Go errors.
package httperr

import (
	"errors"
	"html"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/ferry-sh/ferry/internal/rootfs"
)

// Write answers with status and an optional client-facing detail.
func Write(w http.ResponseWriter, r *http.Request, status int, detail string) {
	h := w.Header()
	// A handler may have prepared headers for a success that did not happen.
	for _, k := range []string{"Content-Length", "Content-Encoding", "Etag", "Last-Modified", "Content-Range", "Content-Disposition"} {
		h.Del(k)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	text := strconv.Itoa(status) + " " + http.StatusText(status)
	if detail != "" {
		text += ": " + detail
	}
	if WantsHTML(r) {
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
		body := "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
			html.EscapeString(strconv.Itoa(status)+" "+http.StatusText(status)) +
			"</title></head><body><h1>" + html.EscapeString(strconv.Itoa(status)+" "+http.StatusText(status)) + "</h1>"
		if detail != "" {
			body += "<p>" + html.EscapeString(detail) + "</p>"
		}
		body += "<hr><p>ferry</p></body></html>\n"
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			w.Write([]byte(body))
		}
		return
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(text)+1))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write([]byte(text + "\n"))
	}
}

// WantsHTML reports whether the client asked for HTML (a browser).
func WantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// FromFS answers for a filesystem error: the one place errors become statuses.
func FromFS(w http.ResponseWriter, r *http.Request, err error) {
	switch {
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

// ForStorage maps an error from storing data in the tree to a status and a
// client-facing reason; ok is false for errors it does not know (a 500).
func ForStorage(err error) (status int, msg string, ok bool) {
	switch {
	case errors.Is(err, rootfs.ErrNoSpace):
		return http.StatusInsufficientStorage, "not enough space on the server; nothing was stored", true
	case errors.Is(err, rootfs.ErrFileTooBig):
		return http.StatusRequestEntityTooLarge, "file too large for the server's filesystem", true
	case errors.Is(err, rootfs.ErrNameTooLong):
		return http.StatusBadRequest, "name too long", true
	case errors.Is(err, rootfs.ErrReadOnly), errors.Is(err, fs.ErrPermission):
		return http.StatusForbidden, "the server may not write there", true
	case errors.Is(err, rootfs.ErrNotDir):
		return http.StatusConflict, "a parent is not a folder", true
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
