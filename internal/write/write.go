// Package write stores what clients send: multipart POST, PUT, MKCOL, DELETE,
// MOVE and COPY, on any storage backend.
//
// Every upload is a transaction: file data is streamed into staged writes
// (hidden temporary files beside their targets on a local folder, multipart
// uploads on an object store), and only once the whole request has been
// received and flushed are they given their names. Anything that goes wrong
// before that (a client hanging up, a body shorter than announced, a limit,
// a full disk, a refused name, a shutdown) aborts them and takes back the
// folders the request created, so no user ever sees part of an upload.
package write

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ferry-sh/ferry/internal/accesslog"
	"github.com/ferry-sh/ferry/internal/digest"
	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/policy"
	"github.com/ferry-sh/ferry/internal/transfer"
)

// Options say what writes are allowed.
type Options struct {
	Upload, Delete, Overwrite, Move bool
	// MaxUpload bounds a PUT body, and the file data of a multipart POST
	// (all its files together); 0 = no limit.
	MaxUpload int64
	// Hidden lets clients create dotfiles, as the tree shows them.
	Hidden bool
	// Withheld are the CGI folders (clean relative names): nothing moves or
	// copies into or out of them, since a script leaving one would be served
	// as its source and an executable moved into one would run.
	Withheld []string
	// Logger hears about failures that are the server's, not the client's
	// (a full disk, an I/O error). Nil logs nothing.
	Logger *slog.Logger
	// Locked, when set, is asked about each file a multipart POST stores
	// (WebDAV's locks, which hold the request's own target before it gets
	// here); a non-zero status refuses the request with msg.
	Locked func(r *http.Request, name string) (status int, msg string)
	// Stored, when set, hears of a PUT whose body matched the digests it
	// announced (Content-Digest, Repr-Digest), once the file is named: a
	// download can then carry them.
	Stored func(ctx context.Context, name string, sums map[string][]byte)
}

// Handler performs writes on a storage tree, seen through the policy layer.
type Handler struct {
	tree   storage.Tree
	statfs storage.Statfs // nil when the store cannot tell its free space
	opts   Options
	// bufs holds large copy buffers, of which big bounds how many are out
	// at once; smallBufs the small ones the other uploads use.
	bufs, smallBufs sync.Pool
	big             chan struct{}

	condMu sync.Mutex // conditional PUTs: check and publish as one

	mu     sync.Mutex
	closed bool
}

// copyBufSize is the chunk an upload is stored in: large enough that a
// multi-gigabyte body costs few system calls. Only bigBufs uploads at a
// time get one; the others, when many run at once, use smallBufSize, so
// that memory stays small per upload: a thousand uploads of 1 MiB at once
// took 290 KiB each with a large buffer apiece, 69 KiB with this
// (issue 16, target 5; e2e TestManyUploads).
const (
	copyBufSize  = 256 << 10
	smallBufSize = 32 << 10
	bigBufs      = 16
)

// New returns a Handler.
func New(tree storage.Tree, opts Options) *Handler {
	h := &Handler{tree: tree, opts: opts}
	h.statfs, _ = storage.As[storage.Statfs](tree)
	h.bufs.New = func() any { b := make([]byte, copyBufSize); return &b }
	h.smallBufs.New = func() any { b := make([]byte, smallBufSize); return &b }
	h.big = make(chan struct{}, bigBufs)
	return h
}

// Close refuses new writes. The server calls it when it stops; closing the
// tree then removes the partial uploads still in flight, so that an upload
// cut by a shutdown leaves nothing behind even if its handler never gets to
// clean up.
func (h *Handler) Close() error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	return nil
}

// errClosed refuses writes once the server is stopping.
var errClosed = errors.New("server is stopping")

func (h *Handler) open() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errClosed
	}
	return nil
}

// stage begins a write of name, unless the server is stopping.
func (h *Handler) stage(ctx context.Context, name string, size int64) (storage.Staged, error) {
	if err := h.open(); err != nil {
		return nil, err
	}
	return h.tree.Stage(ctx, name, size)
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
	httperr.NoteErr(w, err)
	if errors.Is(err, errClosed) {
		httperr.Note(w, httperr.CauseStopping)
	}
	if msg == http.StatusText(status) {
		msg = "" // the reason is already in the status line: "404 Not Found", not "404 Not Found: Not Found"
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
	case errors.Is(err, storage.ErrIsDir):
		status, msg = http.StatusConflict, "a folder has that name"
	case errors.Is(err, fs.ErrExist):
		status, msg = http.StatusConflict, "already exists"
	case errors.Is(err, fs.ErrNotExist):
		status, msg = http.StatusConflict, "the folder does not exist"
	case errors.Is(err, context.Canceled):
		// The client went away while the store was being written: nobody
		// reads this answer, and it is no failure of the server.
		status, msg = http.StatusBadRequest, "request ended early; nothing was stored"
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
	if err := (policy.Rules{Hidden: h.opts.Hidden}).ValidateRelPath(name); err != nil {
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
	if policy.Reserved(name) {
		return &rootfs.NameError{Reason: "name is reserved"}
	}
	return nil
}

// exists reports whether name is there for a client: dotfiles (without
// Hidden) and symlinks that lead out of the tree (without FollowSymlinks)
// or nowhere look absent. A failure to ask the store is an error.
func (h *Handler) exists(ctx context.Context, name string) (storage.Info, bool, error) {
	info, err := h.tree.Stat(ctx, name)
	switch {
	case err == nil:
		return info, true, nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, storage.ErrNotDir):
		return storage.Info{}, false, nil
	}
	return storage.Info{}, false, err
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
	ctx := r.Context()
	tr := transfer.FromContext(ctx)
	tr.Upload("/"+name, 0, r.ContentLength)
	if h.opts.MaxUpload > 0 && r.ContentLength > h.opts.MaxUpload {
		h.failUpload(w, r, errTooLarge)
		return
	}
	// Refuse before reading the body, so that a client sending
	// "Expect: 100-continue" never sends it in vain.
	if err := h.checkTarget(ctx, name); err != nil {
		h.failUpload(w, r, err)
		return
	}
	if err := h.checkSpace(ctx, path.Dir(name), r.ContentLength); err != nil {
		h.failUpload(w, r, err)
		return
	}
	cond := conditional(r)
	if cond {
		if err := h.checkPreconditions(r, name); err != nil {
			h.failUpload(w, r, err)
			return
		}
	}
	wants, err := digest.FromRequest(r)
	if err != nil {
		h.failUpload(w, r, refuse(http.StatusBadRequest, "malformed Content-Digest or Repr-Digest"))
		return
	}
	tr.Describe(transfer.KindUpload, r.ContentLength)

	var body io.Reader = r.Body
	var check *digest.Reader
	if len(wants) > 0 {
		// The body is hashed on its way to the staged file, and the file
		// is named only if it matches.
		check = digest.NewReader(body, wants)
		body = check
	}
	if h.opts.MaxUpload > 0 {
		body = &limitReader{r: body, n: h.opts.MaxUpload}
	}
	t := h.newTxn()
	defer t.rollback()
	if err := t.stage(ctx, name, body, r.ContentLength); err != nil {
		h.failUpload(w, r, err)
		return
	}
	if check != nil && check.Check() != nil {
		h.failUpload(w, r, refuse(http.StatusBadRequest, "the body does not match its Content-Digest or Repr-Digest: nothing was stored"))
		return
	}
	if cond {
		// Checked again once the body is in, and held until the file is
		// named: of two editors saving over one version, one wins and the
		// other gets 412, never a silent overwrite.
		h.condMu.Lock()
		defer h.condMu.Unlock()
		if err := h.checkPreconditions(r, name); err != nil {
			h.failUpload(w, r, err)
			return
		}
	}
	replaced, err := t.publish(ctx)
	if err != nil {
		h.failUpload(w, r, err)
		return
	}
	tr.Stored("/" + name)
	if check != nil && h.opts.Stored != nil {
		h.opts.Stored(ctx, name, check.Sums())
	}
	if info, err := h.tree.Stat(ctx, name); err == nil {
		// The new version's validator, for the next If-Match.
		w.Header().Set("ETag", etagOf(info))
	}
	if replaced {
		reply(w, http.StatusNoContent, nil)
		return
	}
	reply(w, http.StatusCreated, []string{"created " + name})
}

// checkTarget refuses a file name that is taken (unless Overwrite) or that
// is a folder.
func (h *Handler) checkTarget(ctx context.Context, final string) error {
	info, ok, err := h.exists(ctx, final)
	switch {
	case err != nil:
		return err
	case ok && info.IsDir:
		return refuse(http.StatusConflict, "a folder has that name")
	case ok && !h.opts.Overwrite:
		return refuse(http.StatusConflict, "already exists")
	}
	return nil
}

// checkSpace refuses (507), before anything is stored, size bytes that the
// folder dir's store says it has no room for. Stores that cannot tell are
// trusted, and a size of -1 (not known yet) is checked by the store itself.
func (h *Handler) checkSpace(ctx context.Context, dir string, size int64) error {
	if h.statfs == nil || size <= 0 {
		return nil
	}
	free, ok := storage.FreeNear(ctx, h.statfs, dir)
	if ok && size > free {
		return refuse(http.StatusInsufficientStorage, "upload larger than the free space on the server ("+
			string(accesslog.AppendSize(nil, free))+"); nothing was stored")
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
	ctx := r.Context()
	if err := h.needFolder(ctx, path.Dir(name), "the parent folder does not exist"); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.mkdir(ctx, name); err != nil {
		h.fail(w, r, err)
		return
	}
	reply(w, http.StatusCreated, []string{"created " + name + "/"})
}

// needFolder refuses (409, with why) a name that is not an existing folder.
func (h *Handler) needFolder(ctx context.Context, name, why string) error {
	info, ok, err := h.exists(ctx, name)
	switch {
	case err != nil:
		return err
	case !ok || !info.IsDir:
		return refuse(http.StatusConflict, why)
	}
	return nil
}

func (h *Handler) mkdir(ctx context.Context, name string) error {
	if err := h.open(); err != nil {
		return err
	}
	err := h.tree.Mkdir(ctx, name)
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
	ctx := r.Context()
	if _, ok, err := h.exists(ctx, name); err != nil || !ok {
		if err == nil {
			err = refuse(http.StatusNotFound, "")
		}
		h.fail(w, r, err)
		return
	}
	if err := h.open(); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.tree.Remove(ctx, name); err != nil {
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
	staged    []stagedFile // written, not yet committed
	published []string     // names created (not replaced), to take back
	folders   []string     // folders the request made (mkdir fields), to take back
	parents   []string     // folders staging the files made, to take back
	overwrite bool         // staged files may replace existing ones
	done      bool
}

type stagedFile struct {
	st   storage.Staged
	name string
}

func (h *Handler) newTxn() *txn { return &txn{h: h, overwrite: h.opts.Overwrite} }

// parentMaker is offered by a Staged that created missing parent folders
// of its name (a local folder; an object store has none to make). Abort
// takes them back, but once it is committed a failed request must.
type parentMaker interface {
	Parents() []string
}

func (t *txn) mkdir(ctx context.Context, name string) error {
	if err := t.h.mkdir(ctx, name); err != nil {
		return err
	}
	t.folders = append(t.folders, name)
	return nil
}

// stage streams src into a staged write of final. want is the expected
// size (-1 unknown): a body that ends before it is cut.
func (t *txn) stage(ctx context.Context, final string, src io.Reader, want int64) error {
	st, err := t.h.stage(ctx, final, want)
	if err != nil {
		return err
	}
	t.staged = append(t.staged, stagedFile{st, final})
	if pm, ok := st.(parentMaker); ok {
		t.parents = append(t.parents, pm.Parents()...)
	}
	n, err := t.h.copyData(st, src)
	if err == nil && want >= 0 && n != want {
		err = errBodyCut
	}
	return err
}

// seal tells the last staged file that its data is complete, so that a
// store holding a file's last part in memory until it is committed sends it
// now: a request of many files then holds none of them in memory.
func (t *txn) seal(ctx context.Context) error {
	if len(t.staged) == 0 {
		return nil
	}
	if sl, ok := t.staged[len(t.staged)-1].st.(storage.Sealer); ok {
		return sl.Seal(ctx)
	}
	return nil
}

// publish names every staged file; if one cannot be named, those already
// named are taken back. replaced reports that a file was replaced.
func (t *txn) publish(ctx context.Context) (replaced bool, err error) {
	for len(t.staged) > 0 {
		s := t.staged[0]
		rep, err := s.st.Commit(ctx, t.overwrite)
		t.staged = t.staged[1:]
		if err != nil {
			if errors.Is(err, fs.ErrExist) {
				err = refuse(http.StatusConflict, path.Base(s.name)+" already exists")
			}
			return false, err
		}
		if !rep {
			t.published = append(t.published, s.name)
		}
		replaced = replaced || rep
	}
	t.done = true
	return replaced, nil
}

// rollback removes what an unfinished transaction left.
func (t *txn) rollback() {
	if t.done {
		return
	}
	// The client may be gone; what it left must go all the same.
	ctx := context.Background()
	for _, s := range slices.Backward(t.staged) {
		s.st.Abort()
	}
	t.staged = nil
	for _, n := range slices.Backward(t.published) {
		t.h.tree.Remove(ctx, n)
	}
	t.published = nil
	// Only empty folders go: a concurrent upload into a folder this
	// request created keeps it.
	for _, d := range slices.Backward(t.folders) {
		t.h.removeEmpty(ctx, d)
	}
	t.folders = nil
	slices.SortFunc(t.parents, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, d := range t.parents {
		t.h.removeEmpty(ctx, d)
	}
	t.parents = nil
}

// emptyRemover is offered by backends that can remove a folder only if it
// is empty, atomically (a local folder's rmdir).
type emptyRemover interface {
	RemoveEmpty(ctx context.Context, name string) error
}

// removeEmpty removes the folder name if it holds nothing.
func (h *Handler) removeEmpty(ctx context.Context, name string) {
	if er, ok := storage.As[emptyRemover](h.tree); ok {
		er.RemoveEmpty(ctx, name)
		return
	}
	for _, err := range h.tree.List(ctx, name) {
		if err == nil {
			return // not empty
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return
		}
	}
	h.tree.Remove(ctx, name)
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

// copyData copies an upload into a staged write. Read errors come back as
// errTooLarge or errBodyCut, write errors as the store reports them.
func (h *Handler) copyData(dst io.Writer, src io.Reader) (int64, error) {
	bp, done := h.buffer()
	defer done()
	buf := *bp
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
				return total, werr
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

// takeBig takes one of the bigBufs slots for a large buffer, if one is
// free; releaseBig gives it back.
func (h *Handler) takeBig() bool {
	select {
	case h.big <- struct{}{}:
		return true
	default:
		return false
	}
}

func (h *Handler) releaseBig() { <-h.big }

// buffer lends a copy buffer, a large one while few uploads run; done
// gives it back.
func (h *Handler) buffer() (bp *[]byte, done func()) {
	if h.takeBig() {
		bp = h.bufs.Get().(*[]byte)
		return bp, func() { h.bufs.Put(bp); h.releaseBig() }
	}
	bp = h.smallBufs.Get().(*[]byte)
	return bp, func() { h.smallBufs.Put(bp) }
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
