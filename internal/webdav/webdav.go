// Package webdav is ferry's WebDAV class 1 and 2 (RFC 4918) on the storage
// interface, so it works alike on a local folder and on an object store:
// PROPFIND, PROPPATCH with dead properties kept in the backend, LOCK and
// UNLOCK with locks kept in the backend, and the If header. ferry's write
// handler keeps doing PUT, DELETE, MKCOL, MOVE and COPY; Guard puts them
// under the locks and carries dead properties along.
//
// Where RFC 4918 leaves a choice, ferry takes the bounded one: PROPFIND
// with Depth: infinity (and without Depth, which means the same) answers 403
// with the DAV:propfind-finite-depth precondition (§9.1), and a PROPFIND of
// a folder is streamed from one listing.
package webdav

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/mount"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/transfer"
)

// Options configure a Handler.
type Options struct {
	// Tree is the served tree as clients may see it (the policy applied).
	Tree storage.Tree
	// State is the backend below the policy, where ferry keeps dead
	// properties (under .ferry/props/); nil keeps none, and PROPPATCH of a
	// dead property answers 403.
	State storage.Tree
	// Locks keeps the locks; nil keeps them in memory.
	Locks LockStore
	// Create lets LOCK of an unmapped name create an empty file (RFC 4918
	// §7.3), as PUT would: the upload permission.
	Create bool
	// Hidden: names starting with "." may be created (with --hidden).
	Hidden bool
	// MaxUpload refuses a PUT whose announced size (Content-Length or
	// Finder's X-Expected-Entity-Length) is larger; 0 = no limit.
	MaxUpload int64
	// Logger hears of failures that are the server's. Nil logs nothing.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler answers WebDAV's own methods.
type Handler struct {
	opts  Options
	tree  storage.Tree
	props *propStore
	locks LockStore
	now   func() time.Time
	// chtimes sets a file's modification time where the backend can; nil
	// on an object store, where it is kept in the record instead.
	chtimes storage.Chtimes
	statfs  storage.Statfs
	// lockMu makes the check for conflicting locks and the new lock's
	// record one step within this process.
	lockMu sync.Mutex
}

// New returns a Handler.
func New(opts Options) *Handler {
	h := &Handler{opts: opts, tree: opts.Tree, locks: opts.Locks, now: opts.Now}
	if opts.State != nil {
		h.props = newPropStore(opts.State)
	}
	if h.locks == nil {
		h.locks = NewMemLocks()
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.chtimes, _ = storage.As[storage.Chtimes](opts.Tree)
	h.statfs, _ = storage.As[storage.Statfs](opts.Tree)
	return h
}

// Methods are the methods Handler answers.
var Methods = []string{"PROPFIND", "PROPPATCH", "LOCK", "UNLOCK"}

// Serve answers one of Methods for the clean name (as parsed from the
// request path); dir tells that the path ended in "/".
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, name string) {
	switch r.Method {
	case "PROPFIND":
		h.propfind(w, r, name)
	case "PROPPATCH":
		h.proppatch(w, r, name)
	case "LOCK":
		h.lock(w, r, name)
	case "UNLOCK":
		h.unlock(w, r, name)
	default:
		fail(w, r, http.StatusMethodNotAllowed, "")
	}
}

// user is the verified name of the client, "" without --auth.
func user(r *http.Request) string {
	if t := transfer.FromContext(r.Context()); t != nil {
		return t.User
	}
	return ""
}

// storageStatus maps a backend error to a status and a client's reason.
func storageStatus(err error) (int, string) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return http.StatusNotFound, ""
	case errors.Is(err, storage.ErrUnavailable):
		return http.StatusServiceUnavailable, "the storage cannot be reached; try again later"
	case errors.Is(err, storage.ErrNoSpace):
		return http.StatusInsufficientStorage, "not enough space on the server"
	case errors.Is(err, storage.ErrReadOnly), errors.Is(err, fs.ErrPermission):
		return http.StatusForbidden, "the server may not write there"
	case errors.Is(err, storage.ErrNotDir):
		return http.StatusConflict, "a parent is not a folder"
	case errors.Is(err, fs.ErrExist):
		return http.StatusConflict, "already exists"
	case errors.Is(err, context.Canceled):
		return http.StatusBadRequest, ""
	}
	return http.StatusInternalServerError, ""
}

func (h *Handler) failStorage(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := storageStatus(err)
	if status >= 500 && h.opts.Logger != nil {
		h.opts.Logger.Warn("webdav failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	httperr.NoteErr(w, err)
	fail(w, r, status, msg)
}

func (h *Handler) logErr(r *http.Request, what string, err error) {
	if err != nil && h.opts.Logger != nil && !errors.Is(err, context.Canceled) {
		h.opts.Logger.Warn("webdav: "+what, "method", r.Method, "path", r.URL.Path, "err", err)
	}
}

// href is the escaped absolute path of name as clients address it, under
// the prefix the handler is mounted at; folders end in "/".
func href(prefix, name string, dir bool) string {
	var b strings.Builder
	if prefix != "" {
		for seg := range strings.SplitSeq(strings.Trim(prefix, "/"), "/") {
			b.WriteByte('/')
			b.WriteString(url.PathEscape(seg))
		}
	}
	if name != "." && name != "" {
		for seg := range strings.SplitSeq(name, "/") {
			b.WriteByte('/')
			b.WriteString(url.PathEscape(seg))
		}
	}
	if dir || name == "." || name == "" {
		b.WriteByte('/')
	}
	return b.String()
}

// resolve reads a URL of this server (an If header's resource tag) as a
// clean name, the way a Destination is read.
func resolve(r *http.Request, raw string) (string, bool) {
	name, err := mount.Resolve(r, raw)
	return name, err == nil
}

func parent(name string) string {
	if name == "." {
		return "."
	}
	return path.Dir(name)
}
