// Package write stores what clients send: multipart POST, PUT, MKCOL, DELETE,
// MOVE and COPY, always through a temporary file renamed into place.
//
// Every upload is a transaction: file data is streamed into temporary files
// (hidden by rootfs) inside the folders it is meant for, and only once the
// whole request has been received and flushed are they given their names.
// Anything that goes wrong before that (a client hanging up, a body shorter
// than announced, a limit, a full disk, a refused name, a shutdown) removes
// the temporary files and the folders the request created, so no user ever
// sees part of an upload.
package write

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/transfer"
)

// Options say what writes are allowed.
type Options struct {
	Upload, Delete, Overwrite, Move bool
	// MaxUpload bounds a PUT body, and the file data of a multipart POST
	// (all its files together); 0 = no limit.
	MaxUpload int64
	// Logger hears about failures that are the server's, not the client's
	// (a full disk, an I/O error). Nil logs nothing.
	Logger *slog.Logger
}

// Handler performs writes on a rooted tree.
type Handler struct {
	fs   *rootfs.FS
	opts Options
	bufs sync.Pool

	// sink wraps the file an upload or copy is written to; tests use it to
	// inject write errors such as a full disk.
	sink func(io.Writer) io.Writer

	mu     sync.Mutex
	closed bool
	temps  map[string]struct{} // temporary names in use, removed by Close
	swept  map[string]bool     // folders already cleared of a crash's leftovers
}

// copyBufSize is the chunk an upload is stored in: large enough that a
// multi-gigabyte body costs few system calls, small enough that many
// parallel uploads stay cheap.
const copyBufSize = 256 << 10

// New returns a Handler.
func New(fsys *rootfs.FS, opts Options) *Handler {
	h := &Handler{fs: fsys, opts: opts, temps: map[string]struct{}{}, swept: map[string]bool{}}
	h.bufs.New = func() any { b := make([]byte, copyBufSize); return &b }
	return h
}

// Close removes the temporary files of uploads still in flight and refuses
// new ones. The server calls it when it stops, so that an upload cut by a
// shutdown leaves nothing behind even if its handler never gets to clean up.
func (h *Handler) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for name := range h.temps {
		h.fs.RemoveTemp(name)
		delete(h.temps, name)
	}
	return nil
}

// errClosed refuses writes once the server is stopping.
var errClosed = errors.New("server is stopping")

// newTemp creates a registered temporary file in the folder dir.
func (h *Handler) newTemp(dir string) (*os.File, string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, "", errClosed
	}
	name := rootfs.TempName(dir)
	f, err := h.fs.CreateTemp(name)
	if err != nil {
		return nil, "", err
	}
	h.temps[name] = struct{}{}
	if !h.swept[dir] {
		h.swept[dir] = true
		go h.sweep(dir, time.Now().Add(-staleAfter))
	}
	return f, name, nil
}

// newTempDir creates a registered temporary folder in the folder dir.
func (h *Handler) newTempDir(dir string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return "", errClosed
	}
	name := rootfs.TempName(dir)
	if err := h.fs.MkdirTemp(name); err != nil {
		return "", err
	}
	h.temps[name] = struct{}{}
	return name, nil
}

// dropTemp forgets a temporary name and removes whatever is left under it
// (nothing once it has been published).
func (h *Handler) dropTemp(name string) {
	h.mu.Lock()
	delete(h.temps, name)
	h.mu.Unlock()
	h.fs.RemoveTemp(name)
}

// clientError is a refusal whose status and text are meant for the client.
type clientError struct {
	status int
	msg    string
}

func (e *clientError) Error() string { return e.msg }

func refuse(status int, msg string) error { return &clientError{status, msg} }

var (
	// errTooLarge: the body went past MaxUpload.
	errTooLarge = errors.New("upload larger than the limit")
	// errBodyCut: reading the request body failed (the client hung up,
	// or the body ended before its Content-Length).
	errBodyCut = errors.New("request body ended early")
)

// fail answers for err: the one place where write errors become statuses.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := h.status(err)
	if status >= 500 && h.opts.Logger != nil {
		h.opts.Logger.Warn("write failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	httperr.Write(w, r, status, msg)
}

// failUpload answers for an upload that was not stored, and tells the
// request's transfer whether it was cut short or refused (and why), for
// the log, the status page and the summary.
func (h *Handler) failUpload(w http.ResponseWriter, r *http.Request, err error) {
	tr := transfer.FromContext(r.Context())
	if errors.Is(err, errBodyCut) {
		tr.Cut()
	} else {
		_, msg := h.status(err)
		tr.Refuse(msg)
	}
	h.fail(w, r, err)
}

// status maps err to a status and a reason for the client.
func (h *Handler) status(err error) (int, string) {
	var ce *clientError
	var ne *rootfs.NameError
	status, msg, known := httperr.ForStorage(err)
	switch {
	case errors.As(err, &ce):
		status, msg = ce.status, ce.msg
	case errors.As(err, &ne):
		status, msg = http.StatusBadRequest, "invalid name: "+ne.Reason
	case errors.Is(err, errTooLarge):
		status, msg = http.StatusRequestEntityTooLarge, "upload larger than the limit of "+strconv.FormatInt(h.opts.MaxUpload, 10)+" bytes"
	case errors.Is(err, errBodyCut):
		status, msg = http.StatusBadRequest, "request body ended early; nothing was stored"
	case errors.Is(err, errClosed):
		status, msg = http.StatusServiceUnavailable, "server is stopping; nothing was stored"
	case known:
	case errors.Is(err, rootfs.ErrIsDir):
		status, msg = http.StatusConflict, "a folder has that name"
	case errors.Is(err, fs.ErrExist):
		status, msg = http.StatusConflict, "already exists"
	case errors.Is(err, fs.ErrNotExist):
		status, msg = http.StatusConflict, "the folder does not exist"
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return status, msg
}

// reply answers a successful write with a short text for API clients.
func reply(w http.ResponseWriter, status int, lines []string) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	body := strings.Join(lines, "\n")
	if body != "" {
		body += "\n"
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// checkNew validates a name a client asks to create.
func (h *Handler) checkNew(name string) error {
	if err := rootfs.ValidateRelPath(name, h.fs.Policy().Hidden); err != nil {
		return err
	}
	return reserved(name)
}

// spelledAsSent checks the request path of a PUT or MKCOL as the client
// sent it, which the name handed to the handler no longer shows: an empty or
// "." component ("/a//b.txt", "/./x.txt") is refused, not dropped, and a PUT,
// which stores a file, may not end in a slash ("/newdir/").
func spelledAsSent(r *http.Request, folder bool) error {
	_, dir, err := rootfs.ParseNewURLPath(r.URL.EscapedPath())
	switch {
	case errors.Is(err, rootfs.ErrBadPath):
		return refuse(http.StatusBadRequest, "invalid path")
	case err != nil:
		return err
	case dir && !folder:
		return &rootfs.NameError{Reason: "a file name cannot end in /"}
	}
	return nil
}

// reserved refuses names under /.ferry/, which is ferry's own: a file there
// could never be fetched.
func reserved(name string) error {
	if name == ".ferry" || strings.HasPrefix(name, ".ferry/") {
		return &rootfs.NameError{Reason: "name is reserved"}
	}
	return nil
}

// visible reports whether name exists for a client under the policy:
// dotfiles (without Hidden) and symlinks that lead out of the tree (without
// FollowSymlinks) or nowhere look absent.
func (h *Handler) visible(name string) (fs.FileInfo, bool) {
	info, err := h.fs.Lstat(name)
	if err != nil {
		return nil, false
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		if _, err := h.fs.Stat(name); err != nil {
			return nil, false
		}
	}
	return info, true
}

// Put stores the raw body as name.
func (h *Handler) Put(w http.ResponseWriter, r *http.Request, name string) {
	if name == "." {
		h.failUpload(w, r, refuse(http.StatusConflict, "the served folder is a folder"))
		return
	}
	if err := spelledAsSent(r, false); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.checkNew(name); err != nil {
		h.failUpload(w, r, err)
		return
	}
	tr := transfer.FromContext(r.Context())
	tr.Upload("/"+name, 0, r.ContentLength)
	if h.opts.MaxUpload > 0 && r.ContentLength > h.opts.MaxUpload {
		h.failUpload(w, r, errTooLarge)
		return
	}
	// Refuse before reading the body, so that a client sending
	// "Expect: 100-continue" never sends it in vain.
	if err := h.checkTarget(name); err != nil {
		h.failUpload(w, r, err)
		return
	}
	tr.Describe(transfer.KindUpload, r.ContentLength)

	t := h.newTxn()
	defer t.rollback()
	if err := t.mkdirParents(path.Dir(name)); err != nil {
		h.failUpload(w, r, err)
		return
	}
	var body io.Reader = r.Body
	if h.opts.MaxUpload > 0 {
		body = &limitReader{r: body, n: h.opts.MaxUpload}
	}
	if err := t.stage(name, body, r.ContentLength); err != nil {
		h.failUpload(w, r, err)
		return
	}
	replaced, err := t.publish()
	if err != nil {
		h.failUpload(w, r, err)
		return
	}
	tr.Stored("/" + name)
	if replaced {
		reply(w, http.StatusNoContent, nil)
		return
	}
	reply(w, http.StatusCreated, []string{"created " + name})
}

// checkTarget refuses a file name that is taken (unless Overwrite) or that
// is a folder.
func (h *Handler) checkTarget(final string) error {
	info, err := h.fs.LstatRaw(final)
	switch {
	case err == nil && info.IsDir():
		return refuse(http.StatusConflict, "a folder has that name")
	case err == nil && !h.opts.Overwrite:
		return refuse(http.StatusConflict, "already exists")
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return nil
}

// Mkcol makes the folder name. As in WebDAV (RFC 4918 §9.3.1) the parent
// must exist; an existing name answers 409, as the mkdir form does.
func (h *Handler) Mkcol(w http.ResponseWriter, r *http.Request, name string) {
	if name == "." {
		h.fail(w, r, refuse(http.StatusConflict, "already exists"))
		return
	}
	if err := spelledAsSent(r, true); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.checkNew(name); err != nil {
		h.fail(w, r, err)
		return
	}
	if r.ContentLength > 0 || len(r.TransferEncoding) > 0 {
		h.fail(w, r, refuse(http.StatusUnsupportedMediaType, "MKCOL takes no body"))
		return
	}
	if info, err := h.fs.Stat(path.Dir(name)); err != nil || !info.IsDir() {
		h.fail(w, r, refuse(http.StatusConflict, "the parent folder does not exist"))
		return
	}
	if err := h.mkdir(name); err != nil {
		h.fail(w, r, err)
		return
	}
	reply(w, http.StatusCreated, []string{"created " + name + "/"})
}

func (h *Handler) mkdir(name string) error {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return errClosed
	}
	err := h.fs.Mkdir(name)
	if errors.Is(err, fs.ErrExist) {
		return refuse(http.StatusConflict, "already exists")
	}
	return err
}

// Delete removes name (a file, or a folder with its contents).
func (h *Handler) Delete(w http.ResponseWriter, r *http.Request, name string) {
	if name == "." {
		h.fail(w, r, refuse(http.StatusForbidden, "the served folder itself cannot be deleted"))
		return
	}
	if _, ok := h.visible(name); !ok {
		h.fail(w, r, refuse(http.StatusNotFound, ""))
		return
	}
	if err := h.fs.Remove(name); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = refuse(http.StatusNotFound, "")
		}
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// txn is one request's writes, undone unless committed.
type txn struct {
	h         *Handler
	created   []string // folders made, outermost first
	staged    []staged
	published []string // names created (not replaced), to take back
	overwrite bool     // staged files may replace existing ones
	done      bool
}

func (h *Handler) newTxn() *txn { return &txn{h: h, overwrite: h.opts.Overwrite} }

type staged struct{ tmp, final string }

func (t *txn) mkdirParents(dir string) error {
	created, err := t.h.fs.MkdirParents(dir)
	t.created = append(t.created, created...)
	return err
}

func (t *txn) mkdir(name string) error {
	if err := t.h.mkdir(name); err != nil {
		return err
	}
	t.created = append(t.created, name)
	return nil
}

// stage streams src into a temporary file in final's folder and flushes it.
// want is the expected size (-1 unknown): a body that ends before it is cut.
func (t *txn) stage(final string, src io.Reader, want int64) error {
	f, tmp, err := t.h.newTemp(path.Dir(final))
	if err != nil {
		return err
	}
	t.staged = append(t.staged, staged{tmp, final})
	n, err := t.h.copyData(f, src)
	if err == nil && want >= 0 && n != want {
		err = errBodyCut
	}
	if err == nil {
		err = rootfs.WriteErr(f.Sync())
	}
	if cerr := f.Close(); err == nil {
		err = rootfs.WriteErr(cerr)
	}
	return err
}

// publish names every staged file; if one cannot be named, those already
// named are taken back. replaced reports that a file was replaced.
func (t *txn) publish() (replaced bool, err error) {
	synced := map[string]bool{}
	for _, s := range t.staged {
		rep, err := t.h.fs.Publish(s.tmp, s.final, t.overwrite)
		if err != nil {
			if errors.Is(err, fs.ErrExist) {
				err = refuse(http.StatusConflict, path.Base(s.final)+" already exists")
			}
			return false, err
		}
		if !rep {
			t.published = append(t.published, s.final)
		}
		replaced = replaced || rep
	}
	for _, s := range t.staged {
		if dir := path.Dir(s.final); !synced[dir] {
			synced[dir] = true
			t.h.fs.SyncDir(dir)
		}
	}
	t.done = true
	t.rollback()
	return replaced, nil
}

// rollback removes what an unfinished transaction left; after a commit it
// only forgets the temporary names.
func (t *txn) rollback() {
	for _, s := range t.staged {
		t.h.dropTemp(s.tmp)
	}
	t.staged = nil
	if t.done {
		return
	}
	for i := len(t.published) - 1; i >= 0; i-- {
		t.h.fs.Remove(t.published[i])
	}
	t.published = nil
	// Only empty folders go: a concurrent upload into a folder this
	// request created keeps it.
	for i := len(t.created) - 1; i >= 0; i-- {
		t.h.fs.RemoveIfEmpty(t.created[i])
	}
	t.created = nil
}

// limitReader fails with errTooLarge once more than n bytes were read. n
// may be shared by several readers (the parts of one multipart body).
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		return n, errTooLarge
	}
	return n, err
}

// readErr tells a failed body read from a stored file's write error.
type readErr struct{ err error }

func (e *readErr) Error() string { return "reading request: " + e.err.Error() }
func (e *readErr) Unwrap() error {
	if errors.Is(e.err, errTooLarge) {
		return errTooLarge
	}
	return errBodyCut
}

// copyData copies an upload into a stored file. Read errors come back as
// errTooLarge or errBodyCut, write errors classified by rootfs.
func (h *Handler) copyData(dst io.Writer, src io.Reader) (int64, error) {
	bp := h.bufs.Get().(*[]byte)
	defer h.bufs.Put(bp)
	buf := *bp
	if h.sink != nil {
		dst = h.sink(dst)
	}
	var total int64
	for {
		// A multipart part hands out at most 4 KiB per Read; filling the
		// whole buffer first turns 64 write syscalls into one.
		nr, rerr := fill(src, buf)
		if nr > 0 {
			nw, werr := dst.Write(buf[:nr])
			total += int64(nw)
			if werr == nil && nw != nr {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return total, rootfs.WriteErr(werr)
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, &readErr{rerr}
		}
	}
}

// fill reads into buf until it is full or the reader reports an error
// (io.EOF included), which it returns as the reader gave it.
func fill(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := src.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// copyFile copies a stored file (COPY), where both sides are the server's:
// a read error is no client's fault.
func (h *Handler) copyFile(dst io.Writer, src io.Reader) error {
	if h.sink == nil {
		// Let os.File use copy_file_range where it can.
		_, err := io.Copy(dst, src)
		return rootfs.WriteErr(err)
	}
	_, err := h.copyData(dst, src)
	var re *readErr
	if errors.As(err, &re) {
		return fmt.Errorf("copy: %w", re.err)
	}
	return err
}
