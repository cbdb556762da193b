package webdav

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-sh/ferry/internal/mount"
)

// Guard puts one of ferry's other writes (PUT, POST, MKCOL, DELETE, MOVE,
// COPY), which the write handler performs, under WebDAV's rules. When the
// write may not go on (412: the If header does not hold; 423: a lock guards
// what it touches and its token was not submitted) Guard answers and
// returns false. Otherwise it returns the writer to hand the write handler:
// once the write has succeeded, and before its status goes out, dead
// properties follow a MOVE or COPY, a deleted resource loses its
// properties and locks, and a PUT's X-OC-Mtime (rclone) sets the file's
// time.
func (h *Handler) Guard(w http.ResponseWriter, r *http.Request, name string) (http.ResponseWriter, bool) {
	ctx := r.Context()
	dest, hasDest := "", false
	if r.Method == "MOVE" || r.Method == "COPY" {
		if d, err := mount.Destination(r); err == nil {
			dest, hasDest = d, true
		}
	}
	if r.Method == http.MethodPut && !h.expect(w, r) {
		return nil, false
	}
	locks, err := h.activeLocks(ctx)
	if err != nil {
		h.failStorage(w, r, err)
		return nil, false
	}
	if len(locks) > 0 || r.Header.Get("If") != "" {
		exists := func(n string) bool {
			if len(locks) == 0 {
				return true // membership matters only under a lock
			}
			_, err := h.tree.Stat(ctx, n)
			return !errors.Is(err, fs.ErrNotExist)
		}
		var touches []touch
		switch r.Method {
		case http.MethodPut:
			touches = []touch{{name: name, member: !exists(name)}}
		case "MKCOL":
			touches = []touch{{name: name, member: true}}
		case http.MethodPost:
			touches = []touch{{name: name}}
		case http.MethodDelete:
			touches = []touch{{name: name, deep: true, member: true}}
		case "MOVE", "COPY":
			if r.Method == "MOVE" {
				touches = append(touches, touch{name: name, deep: true, member: true})
			}
			if hasDest {
				touches = append(touches, touch{name: dest, deep: true, member: !exists(dest)})
			}
		}
		if _, err := h.check(r, name, locks, touches...); err != nil {
			h.failCheck(w, r, err)
			return nil, false
		}
	}
	return &afterWrite{ResponseWriter: w, h: h, r: r, name: name, dest: dest, hasDest: hasDest}, true
}

// Locked tells a write ferry does elsewhere (a resumable upload finishing
// as name) whether the locks let it through, with the status and reason to
// refuse it with (0 when they do).
func (h *Handler) Locked(r *http.Request, name string) (int, string) {
	ctx := r.Context()
	locks, err := h.activeLocks(ctx)
	if err != nil {
		status, msg := storageStatus(err)
		return status, msg
	}
	if len(locks) == 0 && r.Header.Get("If") == "" {
		return 0, ""
	}
	_, serr := h.tree.Stat(ctx, name)
	if _, err := h.check(r, name, locks, touch{name: name, member: errors.Is(serr, fs.ErrNotExist)}); err != nil {
		var p *precondition
		if errors.As(err, &p) {
			if p.status == http.StatusLocked {
				return p.status, "the file is locked (WebDAV); nothing was stored"
			}
			return p.status, p.msg
		}
		status, msg := storageStatus(err)
		return status, msg
	}
	return 0, ""
}

// expect checks Finder's announced size: a chunked PUT with
// X-Expected-Entity-Length is refused (413) when it is past the upload
// limit, and the file is stored only if the body has that many bytes.
func (h *Handler) expect(w http.ResponseWriter, r *http.Request) bool {
	v := r.Header.Get("X-Expected-Entity-Length")
	if v == "" || r.ContentLength >= 0 {
		return true
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		fail(w, r, http.StatusBadRequest, "invalid X-Expected-Entity-Length")
		return false
	}
	if h.opts.MaxUpload > 0 && n > h.opts.MaxUpload {
		fail(w, r, http.StatusRequestEntityTooLarge, "upload larger than the limit of "+strconv.FormatInt(h.opts.MaxUpload, 10)+" bytes")
		return false
	}
	r.Body = &expectBody{ReadCloser: r.Body, left: n}
	return true
}

// expectBody fails a body that ends before, or goes past, its announced
// length, so that the write handler stores nothing of it.
type expectBody struct {
	io.ReadCloser
	left int64
}

var errExpected = errors.New("body length differs from X-Expected-Entity-Length")

func (b *expectBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 || err == io.EOF && b.left != 0 {
		return n, errExpected
	}
	return n, err
}

// FinderJunk reports a name macOS Finder writes beside the files it copies
// (AppleDouble "._NAME" files holding extended attributes, ".DS_Store"
// folder settings). Without --hidden ferry accepts and discards them: they
// are dotfiles, which ferry neither stores nor serves then, and refusing
// them makes Finder abandon the copy of the file they belong to.
func (h *Handler) FinderJunk(name string) bool {
	if h.opts.Hidden {
		return false
	}
	base := path.Base(name)
	return strings.HasPrefix(base, "._") || base == ".DS_Store"
}

// Discard answers a PUT of Finder's junk: the body is read (within the
// upload limit) and dropped, and the client told it was stored.
func (h *Handler) Discard(w http.ResponseWriter, r *http.Request) {
	limit := h.opts.MaxUpload
	if limit <= 0 {
		limit = 64 << 20
	}
	n, err := io.Copy(io.Discard, io.LimitReader(r.Body, limit+1))
	if n > limit {
		fail(w, r, http.StatusRequestEntityTooLarge, "")
		return
	}
	if err != nil {
		fail(w, r, http.StatusBadRequest, "request body ended early")
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// afterWrite does the WebDAV bookkeeping of a successful write as its
// status is written.
type afterWrite struct {
	http.ResponseWriter
	h       *Handler
	r       *http.Request
	name    string
	dest    string
	hasDest bool
	wrote   bool
}

func (a *afterWrite) Unwrap() http.ResponseWriter { return a.ResponseWriter }

func (a *afterWrite) WriteHeader(code int) {
	if !a.wrote {
		a.wrote = true
		if code >= 200 && code < 300 {
			a.h.after(a.ResponseWriter, a.r, a.name, a.dest, a.hasDest, code)
		}
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *afterWrite) Write(p []byte) (int, error) {
	if !a.wrote {
		a.WriteHeader(http.StatusOK)
	}
	return a.ResponseWriter.Write(p)
}

func (a *afterWrite) ReadFrom(src io.Reader) (int64, error) {
	if !a.wrote {
		a.WriteHeader(http.StatusOK)
	}
	return io.Copy(a.ResponseWriter, src)
}

func (a *afterWrite) Flush() {
	if f, ok := a.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// after is the bookkeeping of a write that succeeded with status code.
// Failures are logged: the write itself is done and stays so.
func (h *Handler) after(w http.ResponseWriter, r *http.Request, name, dest string, hasDest bool, code int) {
	ctx := r.Context()
	switch r.Method {
	case http.MethodDelete:
		h.logErr(r, "removing properties", h.props.remove(ctx, name))
		h.dropLocks(r, name)
	case "MOVE":
		if hasDest {
			h.logErr(r, "moving properties", h.props.transfer(ctx, name, dest, false))
		}
		h.dropLocks(r, name)
	case "COPY":
		if hasDest {
			h.logErr(r, "copying properties", h.props.transfer(ctx, name, dest, true))
		}
	case "MKCOL":
		if code == http.StatusCreated {
			h.logErr(r, "removing stale properties", h.props.remove(ctx, name))
		}
	case http.MethodPut:
		var mtime *time.Time
		if v := r.Header.Get("X-OC-Mtime"); v != "" {
			if sec, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && sec >= 0 {
				t := time.Unix(sec, 0)
				mtime = &t
			}
		}
		if code == http.StatusCreated {
			h.logErr(r, "removing stale properties", h.props.remove(ctx, name))
		}
		if mtime != nil && h.chtimes != nil {
			err := h.chtimes.Chtimes(ctx, name, *mtime)
			h.logErr(r, "setting the time", err)
			if err == nil {
				w.Header().Set("X-OC-Mtime", "accepted")
			}
			return
		}
		if h.props != nil && h.chtimes == nil && (mtime != nil || code != http.StatusCreated) {
			// New content: a time kept for the old one no longer holds.
			err := h.props.update(ctx, name, func(rec *record) error { rec.Mtime = mtime; return nil })
			h.logErr(r, "keeping the time", err)
			if err == nil && mtime != nil {
				w.Header().Set("X-OC-Mtime", "accepted")
			}
		}
	}
}

// dropLocks forgets the locks of a resource that is gone, and of what was
// under it.
func (h *Handler) dropLocks(r *http.Request, name string) {
	ctx := r.Context()
	locks, err := h.activeLocks(ctx)
	if err != nil {
		h.logErr(r, "reading locks", err)
		return
	}
	for _, l := range locks {
		if l.Root == name || under(l.Root, name) {
			h.logErr(r, "removing a lock", h.forget(ctx, l))
		}
	}
}
