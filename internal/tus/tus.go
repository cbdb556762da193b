// Package tus stores resumable uploads with the tus 1.0 protocol (core,
// creation, termination and expiration; https://tus.io/protocols/resumable-upload),
// so that an upload cut by a dropped link goes on from where it stopped
// instead of starting over.
//
// An upload is created by POST with Upload-Length and Upload-Metadata
// (filename, and the folder it is meant for); its bytes arrive in PATCH
// requests at the offset HEAD reports. The bytes are kept by the storage
// backend's resumable staging (storage.Resumable: hidden files in a local
// folder, a multipart upload on an object store), which outlives a restart
// and, on a shared store, lets any node resume what another began. The file
// is given its name, with the same rules as every other upload, only once
// the last byte has arrived: nothing is visible before. Uploads left
// unfinished for longer than Options.TTL are removed.
//
// What a client may hold is bounded: an upload longer than Options.MaxSize
// or than the free space of the store (where it can tell) is refused at
// creation, and so is one beyond Options.MaxPerClient unfinished uploads of
// one client address (429) or Options.MaxUnfinished in all (503), counted by
// this node. A PATCH that runs out of space discards the upload, so that its
// bytes do not keep the disk full.
package tus

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ferry-sh/ferry/internal/accesslog"
	"github.com/ferry-sh/ferry/internal/digest"
	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/transfer"
)

// Protocol constants (tus 1.0 §5.2 headers).
const (
	Version    = "1.0.0"
	Extensions = "creation,termination,expiration,checksum"
	// ChecksumAlgorithms are those Upload-Checksum may name.
	ChecksumAlgorithms = "sha256,sha512"
	// MaxChecksummed bounds a PATCH that carries Upload-Checksum: its
	// bytes are held until they are checked, so that a corrupted piece
	// is never appended (the page sends 32 MiB pieces).
	MaxChecksummed = 64 << 20
	// StatusChecksumMismatch is tus's answer to a piece whose checksum
	// differs (checksum extension).
	StatusChecksumMismatch = 460
	// ContentType is the only body type PATCH accepts.
	ContentType = "application/offset+octet-stream"
)

// DefaultTTL is how long an unfinished upload is kept without activity.
const DefaultTTL = 24 * time.Hour

// maxMetadata bounds Upload-Metadata: it is stored with the upload.
const maxMetadata = 8 << 10

// lockWait is how long a request waits for the one before it on the same
// upload to let go, after asking it to.
const lockWait = 5 * time.Second

// Defaults of the caps on unfinished uploads: far more than a person drops
// on a page at once (the page sends a few at a time), far less than what
// would cost the server.
const (
	DefaultMaxPerClient  = 64
	DefaultMaxUnfinished = 1024
)

// finishedKeep is how long a finished upload is remembered, to answer a
// client that missed the last reply; maxFinished bounds how many are.
const (
	finishedKeep = 10 * time.Minute
	maxFinished  = 1024
)

// Options say how uploads are stored.
type Options struct {
	// Overwrite lets a finished upload replace an existing file.
	Overwrite bool
	// MaxSize refuses uploads longer than this (413); 0 = no limit.
	MaxSize int64
	// TTL removes uploads without activity for that long; 0 = DefaultTTL.
	TTL time.Duration
	// Hidden lets uploads create dotfiles, as the tree shows them.
	Hidden bool
	// Logger hears about failures that are the server's (a full disk).
	Logger *slog.Logger
	// MaxPerClient caps the unfinished uploads of one client address
	// (429 beyond); 0 = DefaultMaxPerClient.
	MaxPerClient int
	// MaxUnfinished caps the unfinished uploads of all clients (503
	// beyond); 0 = DefaultMaxUnfinished.
	MaxUnfinished int
	// Locked, when set, is asked before an upload is created and before
	// a finished one is given its name (WebDAV's locks); a non-zero
	// status refuses it with msg.
	Locked func(r *http.Request, name string) (status int, msg string)
}

// Handler answers tus requests for one served tree.
type Handler struct {
	tree   storage.Tree
	res    storage.Resumable
	statfs storage.Statfs // nil when the store cannot tell its free space
	opts   Options
	now    func() time.Time

	mu         sync.Mutex
	sessions   map[string]*session
	unfinished int            // uploads counted against the caps
	perClient  map[string]int // unfinished uploads by client address
	finished   int            // finished uploads still remembered
	closed     bool

	stop chan struct{}
	wg   sync.WaitGroup
}

// session is what this node knows of one upload beyond what the store
// keeps: the lock of the one request working on it, its place under the
// caps when this node created it, and, once finished, that it is (so that a
// client that missed the last reply learns it). Sessions of uploads no
// request is using, that are neither counted nor finished, are dropped.
type session struct {
	id   string
	lock chan struct{}
	// Guarded by the Handler's mu.
	refs    int    // requests using the session
	client  string // address that created the upload, for the caps
	counted bool   // it counts against the caps (created here, unfinished)

	mu       sync.Mutex
	touched  time.Time // last activity, for expiry and Upload-Expires
	finished bool      // published: kept only to answer a client that missed the reply
	name     string    // once finished
	length   int64     // once finished
	release  func()    // interrupts the request holding lock
}

// New returns a Handler for tree, whose backend must offer resumable
// staging. It removes the uploads a previous run left to expire, and goes on
// removing expired uploads in the background until Close.
func New(tree storage.Tree, opts Options) (*Handler, error) {
	res, ok := storage.As[storage.Resumable](tree)
	if !ok {
		return nil, errors.New("tus: the storage offers no resumable uploads")
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.MaxPerClient <= 0 {
		opts.MaxPerClient = DefaultMaxPerClient
	}
	if opts.MaxUnfinished <= 0 {
		opts.MaxUnfinished = DefaultMaxUnfinished
	}
	h := &Handler{
		tree:      tree,
		res:       res,
		opts:      opts,
		now:       time.Now,
		sessions:  map[string]*session{},
		perClient: map[string]int{},
		stop:      make(chan struct{}),
	}
	h.statfs, _ = storage.As[storage.Statfs](tree)
	h.expire()
	h.wg.Add(1)
	go h.janitor()
	return h, nil
}

// Close stops the cleanup and refuses further requests. Unfinished uploads
// stay in the store so that they can be resumed when the server runs again.
func (h *Handler) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	h.mu.Unlock()
	close(h.stop)
	h.wg.Wait()
	return nil
}

// ServeHTTP answers a request for the upload collection (id == "") or one
// upload. The caller has checked credentials and cross-origin rules.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, id string) {
	hd := w.Header()
	hd.Set("Tus-Resumable", Version)
	hd.Set("Cache-Control", "no-store")
	if r.Method == http.MethodOptions {
		hd.Set("Tus-Version", Version)
		hd.Set("Tus-Extension", Extensions)
		hd.Set("Tus-Checksum-Algorithm", ChecksumAlgorithms)
		if h.opts.MaxSize > 0 {
			hd.Set("Tus-Max-Size", strconv.FormatInt(h.opts.MaxSize, 10))
		}
		if id == "" {
			hd.Set("Allow", "OPTIONS, POST")
		} else {
			hd.Set("Allow", "OPTIONS, HEAD, PATCH, DELETE")
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	switch {
	case id == "" && r.Method != http.MethodPost:
		hd.Set("Allow", "OPTIONS, POST")
		httperr.Write(w, r, http.StatusMethodNotAllowed, "")
		return
	case id != "" && !validID(id):
		reject(w, r, http.StatusNotFound, "no such upload")
		return
	}
	// tus 1.0 §5.2: every request but OPTIONS names the version it speaks.
	if v := r.Header.Get("Tus-Resumable"); v != Version {
		hd.Set("Tus-Version", Version)
		reject(w, r, http.StatusPreconditionFailed, "unsupported or missing Tus-Resumable version; this server speaks "+Version)
		return
	}
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		httperr.Note(w, httperr.CauseStopping)
		reject(w, r, http.StatusServiceUnavailable, "server is stopping")
		return
	}
	if id == "" {
		h.create(w, r)
		return
	}
	switch r.Method {
	case http.MethodHead:
		h.head(w, r, id)
	case http.MethodPatch:
		h.patch(w, r, id)
	case http.MethodDelete:
		h.terminate(w, r, id)
	default:
		hd.Set("Allow", "OPTIONS, HEAD, PATCH, DELETE")
		httperr.Write(w, r, http.StatusMethodNotAllowed, "")
	}
}

// reject answers a request with an error; a creation or a PATCH is then
// logged as an upload refused, with the reason.
func reject(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if r.Method == http.MethodPost || r.Method == http.MethodPatch {
		why := msg
		if why == "" {
			why = http.StatusText(status)
		}
		transfer.FromContext(r.Context()).Refuse(why)
	}
	httperr.Write(w, r, status, msg)
}

// validID accepts the ids backends make (letters and digits, as rand.Text
// gives them), so that an id can never form a path or a key of its own.
func validID(id string) bool {
	if len(id) < 16 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// create makes a new upload (the creation extension, tus 1.0 §6.1).
func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Upload-Defer-Length") != "" {
		reject(w, r, http.StatusBadRequest, "Upload-Defer-Length is not supported; send Upload-Length")
		return
	}
	length, ok := ParseOffset(r.Header.Get("Upload-Length"))
	if !ok {
		reject(w, r, http.StatusBadRequest, "missing or invalid Upload-Length")
		return
	}
	raw := r.Header.Get("Upload-Metadata")
	if len(raw) > maxMetadata {
		reject(w, r, http.StatusBadRequest, "Upload-Metadata too long")
		return
	}
	meta, err := ParseMetadata(raw)
	if err != nil {
		reject(w, r, http.StatusBadRequest, "invalid Upload-Metadata: "+err.Error())
		return
	}
	target, err := TargetName(meta["folder"], meta["filename"], h.opts.Hidden)
	if err != nil {
		reject(w, r, http.StatusBadRequest, "invalid name: "+err.Error())
		return
	}
	ctx := r.Context()
	tr := transfer.FromContext(ctx)
	tr.Upload("/"+target, 0, length)
	if h.opts.MaxSize > 0 && length > h.opts.MaxSize {
		reject(w, r, http.StatusRequestEntityTooLarge, "upload larger than the limit of "+strconv.FormatInt(h.opts.MaxSize, 10)+" bytes")
		return
	}
	if err := h.checkTarget(ctx, target); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.locked(r, target); err != nil {
		h.fail(w, r, err)
		return
	}
	if free, ok := storage.FreeNear(ctx, h.statfs, path.Dir(target)); ok && length > free {
		reject(w, r, http.StatusInsufficientStorage, "upload larger than the free space on the server ("+
			string(accesslog.AppendSize(nil, free))+")")
		return
	}
	client := clientAddr(r.RemoteAddr)
	if err := h.admit(client); err != nil {
		h.fail(w, r, err)
		return
	}
	id, err := h.res.Begin(ctx, target, length, raw)
	if err != nil {
		h.unadmit(client)
		h.fail(w, r, err)
		return
	}
	s := h.register(id, client)
	if length == 0 {
		// Nothing will be sent: the upload is complete as created.
		s.lock <- struct{}{}
		u, err := h.res.Resume(ctx, id)
		if err == nil {
			err = h.finish(r, s, u)
		}
		<-s.lock
		h.put(s)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		tr.Stored("/" + target)
	} else {
		h.put(s)
		tr.Piece()
	}
	// Relative to the request, so that it holds under any mount prefix.
	loc := id
	if !strings.HasSuffix(r.URL.Path, "/") {
		loc = path.Base(r.URL.Path) + "/" + id
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Upload-Offset", "0")
	h.setExpires(w, h.now())
	w.WriteHeader(http.StatusCreated)
}

// checkTarget refuses a target name that is a folder, or taken (unless
// Overwrite). The backend's Begin refuses a parent that is no folder.
func (h *Handler) checkTarget(ctx context.Context, target string) error {
	info, err := h.tree.Stat(ctx, target)
	switch {
	case err == nil && info.IsDir:
		return refuse(http.StatusConflict, "a folder has that name")
	case err == nil && !h.opts.Overwrite:
		return refuse(http.StatusConflict, "already exists")
	case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, storage.ErrNotDir):
		return err
	}
	return nil
}

// admit takes a place under the caps for a new upload of client.
func (h *Handler) admit(client string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.unfinished >= h.opts.MaxUnfinished {
		return refuse(http.StatusServiceUnavailable, "too many unfinished uploads on this server ("+
			strconv.Itoa(h.opts.MaxUnfinished)+"); try again once some are finished")
	}
	if h.perClient[client] >= h.opts.MaxPerClient {
		return refuse(http.StatusTooManyRequests, "too many unfinished uploads from your address ("+
			strconv.Itoa(h.opts.MaxPerClient)+"); finish or cancel some first")
	}
	h.unfinished++
	h.perClient[client]++
	return nil
}

// unadmit gives back a place admit took; h.mu is not held.
func (h *Handler) unadmit(client string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.uncountClient(client)
}

func (h *Handler) uncountClient(client string) {
	h.unfinished--
	if h.perClient[client]--; h.perClient[client] <= 0 {
		delete(h.perClient, client)
	}
}

// register notes a new upload, counted under the caps (admit took its
// place), and returns its session with a reference the caller puts back.
func (h *Handler) register(id, client string) *session {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &session{id: id, lock: make(chan struct{}, 1), refs: 1, client: client, counted: true, touched: h.now()}
	h.sessions[id] = s
	return s
}

// get returns the session of id, made if this node has none, with a
// reference the caller puts back.
func (h *Handler) get(id string) *session {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[id]
	if s == nil {
		s = &session{id: id, lock: make(chan struct{}, 1), touched: h.now()}
		h.sessions[id] = s
	}
	s.refs++
	return s
}

// put gives back a reference; a session nobody uses and that holds nothing
// to remember is dropped.
func (h *Handler) put(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s.refs--
	s.mu.Lock()
	finished := s.finished
	s.mu.Unlock()
	if s.refs <= 0 && !s.counted && !finished && h.sessions[s.id] == s {
		delete(h.sessions, s.id)
	}
}

// uncount takes an upload off the caps (finished or gone); h.mu is held.
func (h *Handler) uncount(s *session) {
	if !s.counted {
		return
	}
	s.counted = false
	h.uncountClient(s.client)
}

// clientAddr is the address part of a RemoteAddr.
func clientAddr(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}

var errLocked = errors.New("upload is busy")

// acquire takes the upload for one request. A request already working on it
// (typically a PATCH whose client vanished without closing the connection)
// is asked to stop first, as tusd does: a client only comes back to an
// upload when it has given up on its previous request.
func (s *session) acquire(r *http.Request) error {
	select {
	case s.lock <- struct{}{}:
		return nil
	default:
	}
	s.mu.Lock()
	release := s.release
	s.mu.Unlock()
	if release != nil {
		release()
	}
	t := time.NewTimer(lockWait)
	defer t.Stop()
	select {
	case s.lock <- struct{}{}:
		return nil
	case <-t.C:
		return errLocked
	case <-r.Context().Done():
		return r.Context().Err()
	}
}

func (s *session) unlock() { <-s.lock }

func (s *session) done() (finished bool, name string, length int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finished, s.name, s.length
}

func (s *session) lastTouched() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.touched
}

func (s *session) touch(t time.Time) {
	s.mu.Lock()
	s.touched = t
	s.mu.Unlock()
}

// claim finds the upload's session and takes its lock for this request,
// answering 423 itself and returning nil when it cannot. The caller calls
// h.leave when done.
func (h *Handler) claim(w http.ResponseWriter, r *http.Request, id string) *session {
	s := h.get(id)
	if err := s.acquire(r); err != nil {
		h.put(s)
		reject(w, r, http.StatusLocked, "another request is sending this upload")
		return nil
	}
	return s
}

func (h *Handler) leave(s *session) {
	s.unlock()
	h.put(s)
}

// resume loads an upload from the store; one that is unknown, gone or
// expired is forgotten and nil is returned, with a nil error.
func (h *Handler) resume(ctx context.Context, s *session) (storage.Upload, error) {
	u, err := h.res.Resume(ctx, s.id)
	if errors.Is(err, fs.ErrNotExist) {
		h.forget(s)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if h.now().Sub(u.Modified()) > h.opts.TTL {
		// Expired, and not yet removed by the janitor (of this node or
		// another's): it is gone for clients all the same.
		u.Abort(ctx)
		h.forget(s)
		return nil, nil
	}
	return u, nil
}

// head reports the offset (tus 1.0 §5.3.1).
func (h *Handler) head(w http.ResponseWriter, r *http.Request, id string) {
	s := h.get(id)
	defer h.put(s)
	if err := s.acquire(r); err != nil {
		w.WriteHeader(http.StatusLocked)
		return
	}
	defer s.unlock()
	hd := w.Header()
	if finished, _, length := s.done(); finished {
		hd.Set("Upload-Offset", strconv.FormatInt(length, 10))
		hd.Set("Upload-Length", strconv.FormatInt(length, 10))
		h.setExpires(w, s.lastTouched())
		w.WriteHeader(http.StatusOK)
		return
	}
	ctx := r.Context()
	u, err := h.resume(ctx, s)
	if err != nil {
		status, _ := h.status(err)
		h.warnStatus(r, status, err)
		w.WriteHeader(status)
		return
	}
	if u == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if u.Offset() == u.Length() {
		// All bytes had arrived but the name was not given (the server
		// stopped first): give it now, or a client seeing the whole
		// offset would take the upload for done.
		if err := h.finish(r, s, u); err != nil {
			status, _ := h.status(err)
			h.warnStatus(r, status, err)
			w.WriteHeader(status)
			return
		}
		transfer.FromContext(ctx).Stored("/" + u.Name())
	}
	hd.Set("Upload-Offset", strconv.FormatInt(u.Offset(), 10))
	hd.Set("Upload-Length", strconv.FormatInt(u.Length(), 10))
	if m := u.Meta(); m != "" && u.Offset() < u.Length() {
		hd.Set("Upload-Metadata", m)
	}
	h.setExpires(w, u.Modified())
	w.WriteHeader(http.StatusOK)
}

// body is a PATCH's body; its read errors are the client's (a hang-up, a
// newer request taking over), not the store's.
type body struct {
	r   io.Reader
	err error
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
		return n, &bodyErr{err}
	}
	return n, err
}

type bodyErr struct{ err error }

func (e *bodyErr) Error() string { return "reading the request: " + e.err.Error() }
func (e *bodyErr) Unwrap() error { return e.err }

// patch stores bytes at the upload's offset (tus 1.0 §5.3.2) and, with the
// last of them, gives the file its name.
func (h *Handler) patch(w http.ResponseWriter, r *http.Request, id string) {
	if ct := r.Header.Get("Content-Type"); ct != ContentType {
		reject(w, r, http.StatusUnsupportedMediaType, "PATCH needs Content-Type "+ContentType)
		return
	}
	want, ok := ParseOffset(r.Header.Get("Upload-Offset"))
	if !ok {
		reject(w, r, http.StatusBadRequest, "missing or invalid Upload-Offset")
		return
	}
	var sum *digest.Want
	if v := r.Header.Get("Upload-Checksum"); v != "" {
		cs, known, err := digest.ParseUploadChecksum(v)
		switch {
		case err != nil:
			reject(w, r, http.StatusBadRequest, "malformed Upload-Checksum")
			return
		case !known:
			reject(w, r, http.StatusBadRequest, "Upload-Checksum: use sha256 or sha512")
			return
		case r.ContentLength > MaxChecksummed:
			reject(w, r, http.StatusRequestEntityTooLarge, "a PATCH with Upload-Checksum carries at most 64 MiB")
			return
		}
		sum = &cs
	}
	s := h.claim(w, r, id)
	if s == nil {
		return
	}
	defer h.leave(s)
	ctx := r.Context()
	// Logged, shown and counted as the file it makes: the whole file,
	// not this request's piece (status page, terminal view, log).
	tr := transfer.FromContext(ctx)
	if finished, name, length := s.done(); finished {
		tr.Upload("/"+name, length, length)
		w.Header().Set("Upload-Offset", strconv.FormatInt(length, 10))
		if want != length {
			reject(w, r, http.StatusConflict, "Upload-Offset does not match; the server has "+strconv.FormatInt(length, 10)+" bytes")
			return
		}
		h.setExpires(w, s.lastTouched())
		w.WriteHeader(http.StatusNoContent)
		return
	}
	u, err := h.resume(ctx, s)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if u == nil {
		reject(w, r, http.StatusNotFound, "no such upload")
		return
	}
	off := u.Offset()
	tr.Upload("/"+u.Name(), off, u.Length())
	if want != off {
		w.Header().Set("Upload-Offset", strconv.FormatInt(off, 10))
		reject(w, r, http.StatusConflict, "Upload-Offset does not match; the server has "+strconv.FormatInt(off, 10)+" bytes")
		return
	}
	remain := u.Length() - off
	if r.ContentLength > remain {
		reject(w, r, http.StatusRequestEntityTooLarge, "more data than Upload-Length")
		return
	}
	tr.Describe(transfer.KindUpload, u.Length())

	rc := http.NewResponseController(w)
	s.mu.Lock()
	s.release = func() { rc.SetReadDeadline(time.Now()) }
	s.mu.Unlock()
	b := &body{r: r.Body}
	var src io.Reader = b
	if sum != nil {
		// The piece is held and checked before any of it is appended:
		// a corrupted piece leaves the upload as it was.
		piece, err := io.ReadAll(io.LimitReader(b, min(remain, MaxChecksummed)+1))
		s.mu.Lock()
		s.release = nil
		s.mu.Unlock()
		switch {
		case err != nil:
			// Cut before its end: nothing of it can be checked, so nothing
			// is kept; the client resumes from the same offset.
			tr.Cut()
			w.Header().Set("Upload-Offset", strconv.FormatInt(off, 10))
			h.setExpires(w, h.now())
			w.WriteHeader(http.StatusNoContent)
			return
		case int64(len(piece)) > remain:
			reject(w, r, http.StatusRequestEntityTooLarge, "more data than Upload-Length")
			return
		case int64(len(piece)) > MaxChecksummed:
			reject(w, r, http.StatusRequestEntityTooLarge, "a PATCH with Upload-Checksum carries at most 64 MiB")
			return
		}
		check := digest.NewReader(bytes.NewReader(piece), []digest.Want{*sum})
		io.Copy(io.Discard, check)
		if check.Check() != nil {
			w.Header().Set("Upload-Offset", strconv.FormatInt(off, 10))
			reject(w, r, StatusChecksumMismatch, "Checksum Mismatch: the piece does not match its Upload-Checksum; nothing of it was stored")
			return
		}
		src = bytes.NewReader(piece)
	}
	off, err = u.Append(ctx, src)
	if err == nil && off == u.Length() {
		var one [1]byte
		if m, _ := b.Read(one[:]); m > 0 {
			err = refuse(http.StatusRequestEntityTooLarge, "more data than Upload-Length")
		}
	}
	s.mu.Lock()
	s.release = nil
	s.mu.Unlock()
	s.touch(h.now())
	w.Header().Set("Upload-Offset", strconv.FormatInt(off, 10))
	var be *bodyErr
	switch {
	case errors.As(err, &be):
		// Whatever arrived is kept, as tus asks (§5.3.2: store as much
		// as possible): the client resumes from HEAD. It hung up, or a
		// newer request for the upload took over, so nobody reads this
		// answer; it says what is stored, as any PATCH answer does.
		tr.Cut()
		h.setExpires(w, h.now())
		w.WriteHeader(http.StatusNoContent)
		return
	case errors.Is(err, fs.ErrNotExist):
		// What held the data was removed or moved away.
		u.Abort(ctx)
		h.forget(s)
		w.Header().Del("Upload-Offset")
		reject(w, r, http.StatusNotFound, "the upload's data is gone")
		return
	case errors.Is(err, storage.ErrNoSpace), errors.Is(err, storage.ErrTooLarge):
		// The upload cannot be finished on this store: its bytes, hidden
		// from everyone, would only keep the disk full until it expired.
		u.Abort(ctx)
		h.forget(s)
		w.Header().Del("Upload-Offset")
		status, msg, _ := httperr.ForStorage(err)
		h.warn(r, err)
		httperr.NoteErr(w, err)
		reject(w, r, status, strings.TrimSuffix(msg, "; nothing was stored")+"; the upload was discarded")
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	if off == u.Length() {
		if err := h.finish(r, s, u); err != nil {
			h.fail(w, r, err)
			return
		}
		tr.Stored("/" + u.Name())
	} else {
		tr.Piece()
	}
	h.setExpires(w, h.now())
	w.WriteHeader(http.StatusNoContent)
}

// finish gives a complete upload its name, with the rules of every upload:
// an existing name is kept unless Overwrite (checked again now, since it may
// have appeared meanwhile), and missing folders are made now. A name that
// cannot be given discards the upload. The caller holds the lock.
func (h *Handler) finish(r *http.Request, s *session, u storage.Upload) error {
	ctx := r.Context()
	if err := h.locked(r, u.Name()); err != nil {
		return err
	}
	_, err := u.Commit(ctx, h.opts.Overwrite)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrExist):
			err = refuse(http.StatusConflict, path.Base(u.Name())+" already exists; the upload was discarded")
		case errors.Is(err, storage.ErrIsDir), errors.Is(err, storage.ErrNotDir):
			err = refuse(http.StatusConflict, "a folder has that name, or a parent is not a folder; the upload was discarded")
		default:
			return err
		}
		u.Abort(ctx)
		h.forget(s)
		return err
	}
	s.mu.Lock()
	s.finished, s.name, s.length, s.touched = true, u.Name(), u.Length(), h.now()
	s.mu.Unlock()
	h.remember(s)
	return nil
}

// remember keeps a finished upload's session, small, for a while: a client
// that missed the last reply asks again. The oldest go first beyond
// maxFinished.
func (h *Handler) remember(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.uncount(s)
	h.sessions[s.id] = s
	h.finished++
	for h.finished > maxFinished {
		var oldest *session
		var at time.Time
		for _, o := range h.sessions {
			o.mu.Lock()
			fin, t := o.finished, o.touched
			o.mu.Unlock()
			if fin && o != s && (oldest == nil || t.Before(at)) {
				oldest, at = o, t
			}
		}
		if oldest == nil {
			break
		}
		h.drop(oldest)
	}
}

// forget takes an upload that is gone (aborted, expired, unknown) off the
// caps and out of memory once no request uses it.
func (h *Handler) forget(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.uncount(s)
	s.mu.Lock()
	if s.finished {
		s.finished = false
		h.finished--
	}
	s.mu.Unlock()
	if s.refs <= 0 {
		delete(h.sessions, s.id)
	}
}

// drop removes a session from memory; h.mu is held.
func (h *Handler) drop(s *session) {
	if h.sessions[s.id] == s {
		delete(h.sessions, s.id)
	}
	h.uncount(s)
	s.mu.Lock()
	if s.finished {
		s.finished = false
		h.finished--
	}
	s.mu.Unlock()
}

// terminate removes an upload (the termination extension, tus 1.0 §6.4).
func (h *Handler) terminate(w http.ResponseWriter, r *http.Request, id string) {
	s := h.claim(w, r, id)
	if s == nil {
		return
	}
	defer h.leave(s)
	if finished, _, _ := s.done(); finished {
		h.forget(s)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	ctx := r.Context()
	u, err := h.resume(ctx, s)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if u == nil {
		reject(w, r, http.StatusNotFound, "no such upload")
		return
	}
	if err := u.Abort(ctx); err != nil {
		h.fail(w, r, err)
		return
	}
	h.forget(s)
	w.WriteHeader(http.StatusNoContent)
}

// setExpires tells when an unfinished upload will be removed (the
// expiration extension, tus 1.0 §6.3: an RFC 9110 date), from its last
// activity.
func (h *Handler) setExpires(w http.ResponseWriter, touched time.Time) {
	w.Header().Set("Upload-Expires", touched.Add(h.opts.TTL).UTC().Format(http.TimeFormat))
}

// refusal is an answer meant for the client.
type refusal struct {
	status int
	msg    string
}

func (e *refusal) Error() string { return e.msg }

func refuse(status int, msg string) error { return &refusal{status, msg} }

// locked asks Options.Locked about name.
func (h *Handler) locked(r *http.Request, name string) error {
	if h.opts.Locked == nil {
		return nil
	}
	if status, msg := h.opts.Locked(r, name); status != 0 {
		return refuse(status, msg)
	}
	return nil
}

// status maps err to a status and a reason: the one place for statuses.
func (h *Handler) status(err error) (int, string) {
	var re *refusal
	status, msg, known := httperr.ForStorage(err)
	switch {
	case errors.As(err, &re):
		status, msg = re.status, re.msg
	case known:
	case errors.Is(err, storage.ErrIsDir):
		status, msg = http.StatusConflict, "a folder has that name"
	case errors.Is(err, fs.ErrExist):
		status, msg = http.StatusConflict, "changed by another request meanwhile; try again"
	case errors.Is(err, context.Canceled):
		status, msg = http.StatusBadRequest, "request ended early"
	}
	return status, msg
}

// fail turns an error into a response.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := h.status(err)
	h.warnStatus(r, status, err)
	httperr.NoteErr(w, err)
	reject(w, r, status, msg)
}

// warnStatus logs a failure that is the server's: a 5xx that is no
// refusal meant for the client (the caps' 503 is not).
func (h *Handler) warnStatus(r *http.Request, status int, err error) {
	var re *refusal
	if status >= 500 && !errors.As(err, &re) {
		h.warn(r, err)
	}
}

// warn logs a failure that is the server's.
func (h *Handler) warn(r *http.Request, err error) {
	if h.opts.Logger != nil {
		h.opts.Logger.Warn("resumable upload failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
}
