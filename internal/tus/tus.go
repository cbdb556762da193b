// Package tus stores resumable uploads with the tus 1.0 protocol (core,
// creation, termination and expiration; https://tus.io/protocols/resumable-upload),
// so that an upload cut by a dropped link goes on from where it stopped
// instead of starting over.
//
// An upload is created by POST with Upload-Length and Upload-Metadata
// (filename, and the folder it is meant for); its bytes arrive in PATCH
// requests at the offset HEAD reports. The data lives in a hidden temporary
// file (rootfs.TempPrefix) in the target's folder, or the nearest folder of
// it that exists, and is given its name, with the same rules as every other
// upload, only once the last byte has arrived: nothing is visible before.
// A small description of each upload is kept beside the data in the served
// root (hidden as well), so uploads survive a restart of the server. Both
// files are made with the first bytes: an upload that was only created
// costs a little memory and nothing on disk (and does not outlive a
// restart, which a client notices as a 404 and answers by starting over).
// Uploads left unfinished for longer than Options.TTL are removed.
//
// What a client may hold is bounded: an upload longer than Options.MaxSize
// or than the free space of its filesystem is refused at creation, and so
// is one beyond Options.MaxPerClient unfinished uploads of one client
// address (429) or Options.MaxUnfinished in all (503). A PATCH that runs
// out of space discards the upload, so that its bytes do not keep the
// disk full.
package tus

import (
	"crypto/rand"
	"encoding/json"
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
	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/transfer"
)

// Protocol constants (tus 1.0 §5.2 headers).
const (
	Version    = "1.0.0"
	Extensions = "creation,termination,expiration"
	// ContentType is the only body type PATCH accepts.
	ContentType = "application/offset+octet-stream"
)

// DefaultTTL is how long an unfinished upload is kept without activity.
const DefaultTTL = 24 * time.Hour

// namePrefix starts the names of tus data and description files, after
// rootfs.TempPrefix, so that the startup scan finds them among other
// partial uploads.
const namePrefix = rootfs.TempPrefix + "tus-"

// infoSuffix ends a description file's name.
const infoSuffix = ".json"

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
	// Logger hears about failures that are the server's (a full disk).
	Logger *slog.Logger
	// MaxPerClient caps the unfinished uploads of one client address
	// (429 beyond); 0 = DefaultMaxPerClient.
	MaxPerClient int
	// MaxUnfinished caps the unfinished uploads of all clients (503
	// beyond); 0 = DefaultMaxUnfinished.
	MaxUnfinished int
}

// Handler answers tus requests for one served tree.
type Handler struct {
	fs     *rootfs.FS
	opts   Options
	hidden bool
	now    func() time.Time

	mu         sync.Mutex
	uploads    map[string]*upload
	unfinished int            // uploads counted against the caps
	perClient  map[string]int // unfinished uploads by client address
	finished   int            // finished uploads still remembered
	closed     bool

	stop chan struct{}
	wg   sync.WaitGroup
}

// upload is one resumable upload. The exported fields are its description
// file's content.
type upload struct {
	ID       string    `json:"id"`
	Target   string    `json:"target"` // clean relative name it will get
	Dir      string    `json:"dir"`    // folder that holds the data
	Length   int64     `json:"length"`
	Metadata string    `json:"metadata,omitempty"` // Upload-Metadata as received
	Created  time.Time `json:"created"`
	Client   string    `json:"client,omitempty"` // address that created it, for the cap

	// lock is held by the one request working on the upload.
	lock chan struct{}
	// stored: its files exist (from the first bytes on). Read and
	// written by the request holding lock.
	stored bool
	// counted: it counts against the caps (unfinished). Guarded by the
	// Handler's mu.
	counted bool

	mu       sync.Mutex
	offset   int64
	touched  time.Time // last activity, for expiry
	finished bool      // published: kept only to answer a client that missed the reply
	release  func()    // interrupts the request holding lock
}

func (u *upload) dataName() string { return path.Join(u.Dir, namePrefix+u.ID) }
func infoName(id string) string    { return namePrefix + id + infoSuffix }

// New returns a Handler. It loads the unfinished uploads a previous run left
// (removing the expired ones) and starts removing expired uploads in the
// background until Close.
func New(fsys *rootfs.FS, opts Options) *Handler {
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
		fs:        fsys,
		opts:      opts,
		hidden:    fsys.Policy().Hidden,
		now:       time.Now,
		uploads:   map[string]*upload{},
		perClient: map[string]int{},
		stop:      make(chan struct{}),
	}
	h.load()
	h.wg.Add(1)
	go h.janitor()
	return h
}

// Close stops the cleanup and refuses further requests. Unfinished uploads
// stay on disk so that they can be resumed when the server runs again.
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

// validID accepts only the IDs New makes (base32 from rand.Text), so that an
// ID can never form a path.
func validID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
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
	target, err := TargetName(meta["folder"], meta["filename"], h.hidden)
	if err != nil {
		reject(w, r, http.StatusBadRequest, "invalid name: "+err.Error())
		return
	}
	tr := transfer.FromContext(r.Context())
	tr.Upload("/"+target, 0, length)
	if h.opts.MaxSize > 0 && length > h.opts.MaxSize {
		reject(w, r, http.StatusRequestEntityTooLarge, "upload larger than the limit of "+strconv.FormatInt(h.opts.MaxSize, 10)+" bytes")
		return
	}
	dir, err := h.checkTarget(target)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if free, ok := h.fs.Available(dir); ok && length > free {
		reject(w, r, http.StatusInsufficientStorage, "upload larger than the free space on the server ("+
			string(accesslog.AppendSize(nil, free))+")")
		return
	}
	now := h.now()
	u := &upload{
		ID: rand.Text(), Target: target, Dir: dir, Length: length, Metadata: raw,
		Created: now.UTC(), Client: clientAddr(r.RemoteAddr), lock: make(chan struct{}, 1), touched: now,
	}
	if err := h.admit(u); err != nil {
		h.fail(w, r, err)
		return
	}
	if length == 0 {
		// Nothing will be sent: the upload is complete as created.
		u.lock <- struct{}{}
		err := h.store(u)
		if err == nil {
			err = h.finish(u)
		}
		<-u.lock
		if err != nil {
			h.drop(u)
			h.fail(w, r, err)
			return
		}
		tr.Stored("/" + target)
	} else {
		tr.Piece()
	}
	// Relative to the request, so that it holds under any mount prefix.
	loc := u.ID
	if !strings.HasSuffix(r.URL.Path, "/") {
		loc = path.Base(r.URL.Path) + "/" + u.ID
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Upload-Offset", "0")
	h.setExpires(w, u)
	w.WriteHeader(http.StatusCreated)
}

// admit registers a new upload unless a cap forbids it.
func (h *Handler) admit(u *upload) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.unfinished >= h.opts.MaxUnfinished {
		return refuse(http.StatusServiceUnavailable, "too many unfinished uploads on this server ("+
			strconv.Itoa(h.opts.MaxUnfinished)+"); try again once some are finished")
	}
	if h.perClient[u.Client] >= h.opts.MaxPerClient {
		return refuse(http.StatusTooManyRequests, "too many unfinished uploads from your address ("+
			strconv.Itoa(h.opts.MaxPerClient)+"); finish or cancel some first")
	}
	h.add(u)
	return nil
}

// add registers an unfinished upload; h.mu is held.
func (h *Handler) add(u *upload) {
	h.uploads[u.ID] = u
	u.counted = true
	h.unfinished++
	h.perClient[u.Client]++
}

// uncount takes an upload off the caps (finished or gone); h.mu is held.
func (h *Handler) uncount(u *upload) {
	if !u.counted {
		return
	}
	u.counted = false
	h.unfinished--
	if h.perClient[u.Client]--; h.perClient[u.Client] <= 0 {
		delete(h.perClient, u.Client)
	}
}

// clientAddr is the address part of a RemoteAddr.
func clientAddr(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}

// store creates the empty data file and the description file, once the
// first bytes (or the end of an empty upload) arrive. The caller holds the
// upload's lock.
func (h *Handler) store(u *upload) error {
	if u.stored {
		return nil
	}
	f, err := h.fs.CreateTemp(u.dataName())
	if err != nil {
		return err
	}
	f.Close()
	desc, _ := json.Marshal(u)
	info, err := h.fs.CreateTemp(infoName(u.ID))
	if err == nil {
		_, err = info.Write(append(desc, '\n'))
		if err == nil {
			err = info.Sync()
		}
		if cerr := info.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		h.fs.RemoveTemp(u.dataName())
		h.fs.RemoveTemp(infoName(u.ID))
		return rootfs.WriteErr(err)
	}
	u.stored = true
	return nil
}

// checkTarget refuses a target name that is taken (unless Overwrite) or
// whose parent is no folder, and returns the nearest existing folder of it,
// where the data will be kept. Missing folders are made only at the end.
func (h *Handler) checkTarget(target string) (dir string, err error) {
	if info, err := h.fs.LstatRaw(target); err == nil {
		if info.IsDir() {
			return "", refuse(http.StatusConflict, "a folder has that name")
		}
		if !h.opts.Overwrite {
			return "", refuse(http.StatusConflict, "already exists")
		}
	} else if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, rootfs.ErrNotDir) {
		return "", err
	}
	for dir = path.Dir(target); ; dir = path.Dir(dir) {
		info, err := h.fs.LstatRaw(dir)
		switch {
		case err == nil && info.IsDir():
			return dir, nil
		case err == nil:
			return "", refuse(http.StatusConflict, "a parent is not a folder")
		case !errors.Is(err, fs.ErrNotExist):
			return "", err
		}
		if dir == "." {
			return "", errors.New("tus: the served folder is gone")
		}
	}
}

// lookup finds an upload by ID.
func (h *Handler) lookup(id string) *upload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.uploads[id]
}

var errLocked = errors.New("upload is busy")

// acquire takes the upload for one request. A request already working on it
// (typically a PATCH whose client vanished without closing the connection)
// is asked to stop first, as tusd does: a client only comes back to an
// upload when it has given up on its previous request.
func (u *upload) acquire(r *http.Request) error {
	select {
	case u.lock <- struct{}{}:
		return nil
	default:
	}
	u.mu.Lock()
	release := u.release
	u.mu.Unlock()
	if release != nil {
		release()
	}
	t := time.NewTimer(lockWait)
	defer t.Stop()
	select {
	case u.lock <- struct{}{}:
		return nil
	case <-t.C:
		return errLocked
	case <-r.Context().Done():
		return r.Context().Err()
	}
}

func (u *upload) unlock() { <-u.lock }

func (u *upload) state() (offset int64, finished bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.offset, u.finished
}

// head reports the offset (tus 1.0 §5.3.1).
func (h *Handler) head(w http.ResponseWriter, r *http.Request, id string) {
	u := h.lookup(id)
	if u == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if err := u.acquire(r); err != nil {
		w.WriteHeader(http.StatusLocked)
		return
	}
	defer u.unlock()
	off, _ := u.state()
	hd := w.Header()
	hd.Set("Upload-Offset", strconv.FormatInt(off, 10))
	hd.Set("Upload-Length", strconv.FormatInt(u.Length, 10))
	if u.Metadata != "" {
		hd.Set("Upload-Metadata", u.Metadata)
	}
	h.setExpires(w, u)
	w.WriteHeader(http.StatusOK)
}

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
	u := h.claim(w, r, id)
	if u == nil {
		return
	}
	defer u.unlock()
	off, finished := u.state()
	// Logged, shown and counted as the file it makes: the whole file,
	// not this request's piece (status page, terminal view, log).
	tr := transfer.FromContext(r.Context())
	tr.Upload("/"+u.Target, off, u.Length)
	if want != off {
		w.Header().Set("Upload-Offset", strconv.FormatInt(off, 10))
		reject(w, r, http.StatusConflict, "Upload-Offset does not match; the server has "+strconv.FormatInt(off, 10)+" bytes")
		return
	}
	remain := u.Length - off
	if r.ContentLength > remain {
		reject(w, r, http.StatusRequestEntityTooLarge, "more data than Upload-Length")
		return
	}
	if finished {
		w.Header().Set("Upload-Offset", strconv.FormatInt(off, 10))
		h.setExpires(w, u)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	tr.Describe(transfer.KindUpload, u.Length)

	rc := http.NewResponseController(w)
	u.mu.Lock()
	u.release = func() { rc.SetReadDeadline(time.Now()) }
	u.mu.Unlock()
	var n int64
	var cut bool
	err := h.store(u)
	if err == nil {
		n, cut, err = h.receive(u, r.Body, off, remain)
	}
	u.mu.Lock()
	u.release = nil
	u.offset += n
	u.touched = h.now()
	off = u.offset
	u.mu.Unlock()
	w.Header().Set("Upload-Offset", strconv.FormatInt(off, 10))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// The folder holding the data was removed or moved away.
		h.drop(u)
		w.Header().Del("Upload-Offset")
		reject(w, r, http.StatusNotFound, "the upload's data is gone")
		return
	case errors.Is(err, rootfs.ErrNoSpace), errors.Is(err, rootfs.ErrFileTooBig):
		// The upload cannot be finished on this disk: its bytes, hidden
		// from everyone, would only keep the disk full until it expired.
		h.drop(u)
		w.Header().Del("Upload-Offset")
		status, msg, _ := httperr.ForStorage(err)
		h.warn(r, err)
		reject(w, r, status, strings.TrimSuffix(msg, "; nothing was stored")+"; the upload was discarded")
		return
	case err != nil:
		h.fail(w, r, err)
		return
	case cut:
		// Whatever arrived is kept, as tus asks (§5.3.2: store as much
		// as possible): the client resumes from HEAD. It hung up, or a
		// newer request for the upload took over, so nobody reads this
		// answer; it says what is stored, as any PATCH answer does.
		tr.Cut()
		h.setExpires(w, u)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if off == u.Length {
		if err := h.finish(u); err != nil {
			h.fail(w, r, err)
			return
		}
		tr.Stored("/" + u.Target)
	} else {
		tr.Piece()
	}
	h.setExpires(w, u)
	w.WriteHeader(http.StatusNoContent)
}

// copyBufSize is the chunk size of stored data, as for other uploads.
const copyBufSize = 256 << 10

// receive appends at most remain bytes of body to the data file at off. cut
// reports a body that broke off (the bytes before stay stored); err is the
// server's own failure (or too much data).
func (h *Handler) receive(u *upload, body io.Reader, off, remain int64) (n int64, cut bool, err error) {
	f, err := h.fs.OpenTemp(u.dataName())
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil {
		return 0, false, rootfs.WriteErr(err)
	} else if info.Size() != off {
		// The file holds more than was acknowledged (a crash between a
		// write and its bookkeeping) or less (tampering): trust the
		// acknowledged offset and drop anything beyond it.
		if err := f.Truncate(off); err != nil {
			return 0, false, rootfs.WriteErr(err)
		}
	}
	dst := io.NewOffsetWriter(f, off)
	buf := make([]byte, copyBufSize)
	for n < remain {
		p := buf
		if int64(len(p)) > remain-n {
			p = p[:remain-n]
		}
		nr, rerr := body.Read(p)
		if nr > 0 {
			nw, werr := dst.Write(p[:nr])
			n += int64(nw)
			if werr != nil {
				f.Truncate(off + n)
				return n, false, rootfs.WriteErr(werr)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			cut = true
			break
		}
	}
	if !cut && n == remain {
		var one [1]byte
		if m, _ := body.Read(one[:]); m > 0 {
			err = refuse(http.StatusRequestEntityTooLarge, "more data than Upload-Length")
		}
	}
	// The offset acknowledged to the client must survive a crash.
	if serr := f.Sync(); err == nil && serr != nil {
		err = rootfs.WriteErr(serr)
	}
	return n, cut, err
}

// finish gives a complete upload its name, with the rules of every upload:
// an existing name is kept unless Overwrite (checked again now, since it may
// have appeared meanwhile), and missing folders are made now. The caller
// holds the lock.
func (h *Handler) finish(u *upload) error {
	created, err := h.fs.MkdirParents(path.Dir(u.Target))
	if err == nil {
		_, err = h.fs.Publish(u.dataName(), u.Target, h.opts.Overwrite)
	}
	if err != nil {
		for i := len(created) - 1; i >= 0; i-- {
			h.fs.RemoveIfEmpty(created[i])
		}
		if errors.Is(err, fs.ErrExist) {
			err = refuse(http.StatusConflict, path.Base(u.Target)+" already exists; the upload was discarded")
		} else if errors.Is(err, rootfs.ErrIsDir) || errors.Is(err, rootfs.ErrNotDir) {
			err = refuse(http.StatusConflict, "a folder has that name, or a parent is not a folder; the upload was discarded")
		}
		var re *refusal
		if errors.As(err, &re) {
			h.drop(u)
		}
		return err
	}
	h.fs.SyncDir(path.Dir(u.Target))
	h.fs.RemoveTemp(infoName(u.ID))
	u.mu.Lock()
	u.finished = true
	u.touched = h.now()
	u.mu.Unlock()
	h.remember(u)
	return nil
}

// remember keeps a finished upload, small, for a while: a client that
// missed the last reply asks again. The oldest go first beyond maxFinished.
func (h *Handler) remember(u *upload) {
	u.Metadata = "" // only an unfinished upload's HEAD returns it
	h.mu.Lock()
	defer h.mu.Unlock()
	h.uncount(u)
	if _, ok := h.uploads[u.ID]; !ok {
		return
	}
	h.finished++
	for h.finished > maxFinished {
		var oldest *upload
		var at time.Time
		for _, o := range h.uploads {
			o.mu.Lock()
			fin, t := o.finished, o.touched
			o.mu.Unlock()
			if fin && (oldest == nil || t.Before(at)) {
				oldest, at = o, t
			}
		}
		if oldest == nil {
			break
		}
		delete(h.uploads, oldest.ID)
		h.finished--
	}
}

// claim finds the upload and takes its lock for this request, answering
// 404 or 423 itself and returning nil when it cannot.
func (h *Handler) claim(w http.ResponseWriter, r *http.Request, id string) *upload {
	u := h.lookup(id)
	if u == nil {
		reject(w, r, http.StatusNotFound, "no such upload")
		return nil
	}
	if err := u.acquire(r); err != nil {
		reject(w, r, http.StatusLocked, "another request is sending this upload")
		return nil
	}
	return u
}

// terminate removes an upload (the termination extension, tus 1.0 §6.4).
func (h *Handler) terminate(w http.ResponseWriter, r *http.Request, id string) {
	u := h.claim(w, r, id)
	if u == nil {
		return
	}
	defer u.unlock()
	h.drop(u)
	w.WriteHeader(http.StatusNoContent)
}

// drop forgets an upload and removes its files (none once finished, nor
// before its first bytes).
func (h *Handler) drop(u *upload) {
	_, finished := u.state()
	h.mu.Lock()
	if _, ok := h.uploads[u.ID]; ok {
		delete(h.uploads, u.ID)
		if finished {
			h.finished--
		}
	}
	h.uncount(u)
	h.mu.Unlock()
	if !finished && u.stored {
		h.fs.RemoveTemp(u.dataName())
		h.fs.RemoveTemp(infoName(u.ID))
	}
}

// setExpires tells when an unfinished upload will be removed (the
// expiration extension, tus 1.0 §6.3: an RFC 9110 date).
func (h *Handler) setExpires(w http.ResponseWriter, u *upload) {
	u.mu.Lock()
	t := u.touched
	u.mu.Unlock()
	w.Header().Set("Upload-Expires", t.Add(h.opts.TTL).UTC().Format(http.TimeFormat))
}

// refusal is an answer meant for the client.
type refusal struct {
	status int
	msg    string
}

func (e *refusal) Error() string { return e.msg }

func refuse(status int, msg string) error { return &refusal{status, msg} }

// fail turns an error into a response: the one place for statuses.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var re *refusal
	status, msg, _ := httperr.ForStorage(err)
	if errors.As(err, &re) {
		status, msg = re.status, re.msg
	} else if status >= 500 {
		h.warn(r, err)
	}
	reject(w, r, status, msg)
}

// warn logs a failure that is the server's.
func (h *Handler) warn(r *http.Request, err error) {
	if h.opts.Logger != nil {
		h.opts.Logger.Warn("resumable upload failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
}
