// Package write stores what clients send: multipart POST, PUT, MKCOL, DELETE,
// MOVE and COPY, always through a temporary file renamed into place.
package write

import (
	"net/http"

	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/rootfs"
)

// Options say what writes are allowed.
type Options struct {
	Upload, Delete, Overwrite, Move bool
	MaxUpload                       int64 // 0 = no limit
}

// Handler performs writes on a rooted tree.
type Handler struct {
	fs   *rootfs.FS
	opts Options
}

// New returns a Handler.
func New(fsys *rootfs.FS, opts Options) *Handler { return &Handler{fs: fsys, opts: opts} }

// Post stores multipart file parts in the folder name, or makes a folder (mkdir=NAME).
func (h *Handler) Post(w http.ResponseWriter, r *http.Request, name string) { notYet(w, r) }

// Put stores the raw body as name.
func (h *Handler) Put(w http.ResponseWriter, r *http.Request, name string) { notYet(w, r) }

// Mkcol makes the folder name.
func (h *Handler) Mkcol(w http.ResponseWriter, r *http.Request, name string) { notYet(w, r) }

// Delete removes name (a file, or a folder with its contents).
func (h *Handler) Delete(w http.ResponseWriter, r *http.Request, name string) { notYet(w, r) }

// Move renames name to the request's Destination; keep leaves the source (COPY).
func (h *Handler) Move(w http.ResponseWriter, r *http.Request, name string, keep bool) { notYet(w, r) }

func notYet(w http.ResponseWriter, r *http.Request) {
	httperr.Write(w, r, http.StatusNotImplemented, "not yet supported")
}
