// Package storage is the seam between ferry's handlers and where the files
// live. A Tree is a tree of named entries; handlers see only this interface,
// and backends (a local folder on os.Root, an S3-compatible object store)
// implement it. Names are clean, slash-separated and relative to the tree's
// root ("." is the root itself); the policy layer above a backend (dotfiles,
// the reserved name, partial uploads, name validation) has vetted them before
// they get here, so a backend never sees ".." or an empty component.
//
// What only one backend can do fast (sendfile from a local descriptor, a host
// path for CGI) is offered as an optional interface that a handler finds by
// type assertion, so that the common path stays the same for every backend.
package storage

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"iter"
	"path"
	"time"
)

// Errors a backend reports; handlers map them to status codes with
// errors.Is. fs.ErrNotExist, fs.ErrExist and fs.ErrPermission are used too.
var (
	ErrNotDir   = errors.New("not a folder")
	ErrIsDir    = errors.New("is a folder")
	ErrNoSpace  = errors.New("no space left")
	ErrTooLarge = errors.New("too large for the store")
	ErrReadOnly = errors.New("read-only store")
	// ErrNameTooLong is a name the store cannot hold, though ferry's own
	// rules let it through.
	ErrNameTooLong = errors.New("name too long")
	// ErrUnavailable means the store could not be reached or did not answer
	// in time: the request may succeed later (503), and nothing is known
	// about the name.
	ErrUnavailable = errors.New("storage unavailable")
	// ErrNotEmpty is a folder that still holds entries where it must not.
	ErrNotEmpty = errors.New("folder not empty")
)

// Info describes one entry.
type Info struct {
	Name    string // base name; "." for the root
	IsDir   bool
	Size    int64 // files only
	ModTime time.Time
	// ETag is a strong validator the store keeps for a file (quoted, as in
	// HTTP), or "" when the handler should derive one from size and time.
	ETag string
}

// Object is a file opened for reading. Seek and Read serve
// http.ServeContent; ReadAt serves archives and checksums. Backends that
// fetch over a network read lazily, starting at the offset of the first
// Read, so a Range request never fetches the whole object.
type Object interface {
	io.ReadSeeker
	io.ReaderAt
	io.Closer
	Info() Info
}

// Staged is a write in progress. Nothing of it is visible under any name a
// client sees until Commit; Abort (or a failed Commit) leaves nothing behind.
type Staged interface {
	io.Writer
	// Commit makes the data visible under the name it was staged for. With
	// replace false it fails with fs.ErrExist when the name exists, and of
	// several writers racing to create one name exactly one succeeds.
	// replaced reports that an existing file was replaced.
	Commit(ctx context.Context, replace bool) (replaced bool, err error)
	// Abort discards the data; it is safe to call after Commit.
	Abort() error
}

// Sealer is offered by a Staged that keeps data in memory until Commit (an
// object store's last part): Seal says no more data follows and sends what
// it holds to the store, so that a request staging many files before it
// commits them (a multipart POST) holds none of them in memory. Writes
// after Seal fail; Seal twice is harmless.
type Sealer interface {
	Seal(ctx context.Context) error
}

// Tree is a storage backend.
type Tree interface {
	Stat(ctx context.Context, name string) (Info, error)
	Open(ctx context.Context, name string) (Object, error)
	// List yields the entries of a folder in no particular order, streamed:
	// a backend never holds a whole large folder in memory. It ends with an
	// error (fs.ErrNotExist, ErrNotDir...) when the folder cannot be read.
	List(ctx context.Context, dir string) iter.Seq2[Info, error]
	// Stage begins a write of name; size is its length when known, -1 when
	// not (a chunked body). The parent folder must exist (fs.ErrNotExist),
	// or be creatable by Commit on backends without real folders.
	Stage(ctx context.Context, name string, size int64) (Staged, error)
	// Mkdir creates one folder; fs.ErrExist when the name is taken.
	Mkdir(ctx context.Context, name string) error
	// Remove deletes a file, or a folder with everything under it.
	Remove(ctx context.Context, name string) error
	// Move renames src to dst (file or folder); Copy duplicates it. With
	// replace false an existing dst fails with fs.ErrExist. The parent of
	// dst must exist (fs.ErrNotExist otherwise).
	Move(ctx context.Context, src, dst string, replace bool) (replaced bool, err error)
	Copy(ctx context.Context, src, dst string, replace bool) (replaced bool, err error)
	Close() error
}

// Resumable is a backend's staging for uploads that span many requests
// (tus): the state lives in the backend, so any node can resume an upload
// another node began.
type Resumable interface {
	// Begin starts an upload of length bytes for name and returns its id;
	// meta is kept with it, opaque to the store (tus's Upload-Metadata,
	// which a client asks for again when it resumes). It fails like Stage
	// for a name that is a folder (ErrIsDir) or under a file (ErrNotDir).
	Begin(ctx context.Context, name string, length int64, meta string) (id string, err error)
	// Resume finds an upload by id (fs.ErrNotExist when unknown or expired).
	Resume(ctx context.Context, id string) (Upload, error)
	// Expire aborts uploads untouched since before.
	Expire(ctx context.Context, before time.Time) (n int, err error)
}

// Upload is one resumable upload.
type Upload interface {
	ID() string
	Name() string
	Length() int64
	Offset() int64
	Meta() string
	// Modified is when the upload last received bytes (or began): it
	// expires that long after.
	Modified() time.Time
	// Append stores what r yields at the current offset, up to Length, and
	// returns the new offset; bytes that reached the store before an error
	// count, so a client resumes where it was cut.
	Append(ctx context.Context, r io.Reader) (offset int64, err error)
	// Commit makes a complete upload visible under its name, with the
	// semantics of Staged.Commit. A refused commit (fs.ErrExist, ErrIsDir,
	// ErrNotDir) keeps the upload: the caller decides to Abort it.
	Commit(ctx context.Context, replace bool) (replaced bool, err error)
	Abort(ctx context.Context) error
}

// Statfs is offered by backends that know their free space.
type Statfs interface {
	Free(ctx context.Context, dir string) (free int64, err error)
}

// FreeNear is the free space where dir is or will be: that of the nearest
// of its folders that exists. ok is false when s is nil (the store cannot
// tell) or answers with another error.
func FreeNear(ctx context.Context, s Statfs, dir string) (free int64, ok bool) {
	if s == nil {
		return 0, false
	}
	for {
		n, err := s.Free(ctx, dir)
		if err == nil {
			return n, true
		}
		if dir == "." || !errors.Is(err, fs.ErrNotExist) {
			return 0, false
		}
		dir = path.Dir(dir)
	}
}

// Chtimes is offered by backends that can set a file's modification time:
// WebDAV clients (Windows, rclone) keep the times of the files they copy.
type Chtimes interface {
	Chtimes(ctx context.Context, name string, mtime time.Time) error
}

// IsNotExist reports a name that is absent (or hidden, which looks the same).
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// PrefixLister is offered by backends where asking for an absent name costs
// a round trip (an object store): it finds with one request the files whose
// names start with prefix (a file's name and a dot: its precompressed
// copies, a.js.gz and a.js.br beside a.js). complete is false when there
// were more than limit of them and only some are given.
type PrefixLister interface {
	ListPrefix(ctx context.Context, prefix string, limit int) (names []string, complete bool, err error)
}

// Wrapper is a Tree layered over another (the policy layer); As looks
// through it for a backend's optional capabilities.
type Wrapper interface {
	Unwrap() Tree
}

// As finds the first Tree in t's chain of wrappers that offers T.
func As[T any](t Tree) (T, bool) {
	for t != nil {
		if c, ok := t.(T); ok {
			return c, true
		}
		w, ok := t.(Wrapper)
		if !ok {
			break
		}
		t = w.Unwrap()
	}
	var zero T
	return zero, false
}

// Folders is offered by backends that can open a folder as a handle and
// open its members relative to it (local: getdents for the names, one
// openat per member): a walk that opens every member anyway (archives)
// then resolves no path twice. OpenFolder answers errors.ErrUnsupported
// where a wrapper's backend cannot; OpenFolder (the function) falls back to
// List and Open.
type Folders interface {
	OpenFolder(ctx context.Context, name string) (Folder, error)
}

// Folder is a folder opened for a walk.
type Folder interface {
	Info() Info
	// ID is a comparable identity of the folder on its store, for loop
	// checks where links can lead back up a tree; nil when unknown.
	ID() any
	// Names lists the members' names in no particular order.
	Names() ([]string, error)
	// Open opens a member: a file as an Object or a folder as a Folder
	// (exactly one of them is not nil).
	Open(member string) (Object, Folder, error)
	Close() error
}

// OpenFolder opens the folder name of t for a walk, through t's own Folders
// when it has them, else through List and Open.
func OpenFolder(ctx context.Context, t Tree, name string) (Folder, error) {
	if fo, ok := t.(Folders); ok {
		f, err := fo.OpenFolder(ctx, name)
		if !errors.Is(err, errors.ErrUnsupported) {
			return f, err
		}
	}
	info, err := t.Stat(ctx, name)
	if err != nil {
		return nil, err
	}
	if !info.IsDir {
		return nil, ErrNotDir
	}
	return &listFolder{ctx: ctx, t: t, name: name, info: info}, nil
}

// listFolder is a Folder over List and Open. It remembers which members
// were folders when it listed them, so opening one costs no request.
type listFolder struct {
	ctx  context.Context
	t    Tree
	name string
	info Info
	dirs map[string]Info
}

func (f *listFolder) Info() Info { return f.info }
func (f *listFolder) ID() any    { return nil }
func (f *listFolder) Close() error {
	f.dirs = nil
	return nil
}

func (f *listFolder) Names() ([]string, error) {
	var names []string
	f.dirs = map[string]Info{}
	for info, err := range f.t.List(f.ctx, f.name) {
		if err != nil {
			return names, err
		}
		names = append(names, info.Name)
		if info.IsDir {
			f.dirs[info.Name] = info
		}
	}
	return names, nil
}

func (f *listFolder) Open(member string) (Object, Folder, error) {
	name := member
	if f.name != "." && f.name != "" {
		name = f.name + "/" + member
	}
	if info, ok := f.dirs[member]; ok {
		return nil, &listFolder{ctx: f.ctx, t: f.t, name: name, info: info}, nil
	}
	o, err := f.t.Open(f.ctx, name)
	if errors.Is(err, ErrIsDir) {
		sub, err := OpenFolder(f.ctx, f.t, name)
		return nil, sub, err
	}
	return o, nil, err
}

type pageListingKey struct{}

// ForPage marks ctx as the listing of a folder page (HTML or JSON), which a
// backend may answer from a short-lived cache of its own where the operator
// asked for one (s3's --s3-list-cache). Every other listing (a write's
// checks, WebDAV locks and properties, share state, archives) leaves ctx
// unmarked and sees the store as it is.
func ForPage(ctx context.Context) context.Context {
	return context.WithValue(ctx, pageListingKey{}, true)
}

// IsForPage reports whether ctx was marked by ForPage.
func IsForPage(ctx context.Context) bool {
	v, _ := ctx.Value(pageListingKey{}).(bool)
	return v
}
