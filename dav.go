package ferry

import (
	"net/http"

	"github.com/ferry-sh/ferry/internal/transfer"
	"github.com/ferry-sh/ferry/internal/webdav"
)

// openDAV sets up WebDAV over the served tree. Its own state (dead
// properties, locks) lives under .ferry/ of the backend, which the policy
// hides from clients: the state is the backend's tree below the policy
// (policy.Tree.Unwrap), so that on an object store every node shares it.
func (h *Handler) openDAV() {
	state := h.stateTree()
	h.dav = webdav.New(webdav.Options{
		Tree: h.tree, State: state, Locks: webdav.NewTreeLocks(state),
		Create: h.opts.Upload, Hidden: h.opts.Hidden, MaxUpload: h.opts.MaxUpload,
		Logger: h.opts.Logger,
	})
}

// canWrite reports any write permission: PROPPATCH, LOCK and UNLOCK need one.
func (h *Handler) canWrite() bool {
	return h.opts.Upload || h.opts.Delete || h.opts.Overwrite || h.opts.Move
}

// davHeaders are OPTIONS's word that WebDAV is on: class 1 and 2, and the
// header Microsoft's clients look for before they use it.
func (h *Handler) davHeaders(w http.ResponseWriter) {
	if h.dav != nil {
		w.Header().Set("DAV", "1, 2")
		w.Header().Set("MS-Author-Via", "DAV")
	}
}

// serveDAV answers WebDAV's own methods and puts the other writes under
// WebDAV's locks. It returns the writer to go on with, or false when the
// request has been answered.
func (h *Handler) serveDAV(w http.ResponseWriter, r *http.Request, name, allow string) (http.ResponseWriter, bool) {
	switch r.Method {
	case "PROPFIND":
		h.dav.Serve(w, r, name)
		return nil, false
	case "PROPPATCH", "LOCK", "UNLOCK":
		if !h.canWrite() {
			notAllowed(w, r, allow)
			return nil, false
		}
		h.dav.Serve(w, r, name)
		return nil, false
	case http.MethodPut, http.MethodPost, "MKCOL":
		if !h.opts.Upload {
			return w, true // 405 below
		}
	case http.MethodDelete:
		if !h.opts.Delete {
			return w, true
		}
	case "MOVE", "COPY":
		if !h.opts.Move {
			return w, true
		}
	default:
		return w, true
	}
	if r.Method == "MKCOL" {
		// RFC 4918 §9.3.1: MKCOL of a name that exists is not allowed on
		// it (405); ferry's 409 says the same to clients other than WebDAV's.
		if _, err := h.tree.Stat(r.Context(), name); err == nil {
			notAllowed(w, r, allow)
			return nil, false
		}
	}
	if r.Method == http.MethodPut && h.dav.FinderJunk(name) {
		h.dav.Discard(w, r)
		return nil, false
	}
	if r.Method == http.MethodPut {
		// A PUT the locks refuse is logged as an upload refused, as one
		// write refuses is.
		transfer.FromContext(r.Context()).Upload("/"+name, 0, r.ContentLength)
	}
	return h.dav.Guard(w, r, name)
}

// davLocked tells resumable uploads (the page's, under /.ferry/tus/) that a
// WebDAV lock holds their target: they are writes like any other.
func (h *Handler) davLocked(r *http.Request, name string) (int, string) {
	if h.dav == nil {
		return 0, ""
	}
	return h.dav.Locked(r, name)
}
