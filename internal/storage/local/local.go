// Package local is the storage backend for a folder on this machine. Every
// access goes through rootfs, which holds an *os.Root: ".." escapes and
// symlinks that lead out of the folder are refused there. Writes are staged
// in a temporary file beside their target and published by a hard link
// (create-only, atomic) or a rename (replace).
//
// What only a local folder can do fast is offered as optional capabilities:
// an opened file hands over its *os.File (sendfile, the descriptor cache,
// read-ahead hints) and the tree tells a name's host path to CGI.
package local

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
)

// Tree is a served folder.
type Tree struct {
	fs *rootfs.FS

	mu      sync.Mutex
	closed  bool
	temps   map[string]struct{} // partial uploads in flight, removed by Close
	swept   map[string]bool     // folders already cleared of a crash's leftovers
	pending map[string]*desc    // resumable uploads begun, without bytes yet
}

var (
	_ storage.Tree    = (*Tree)(nil)
	_ storage.Folders = (*Tree)(nil)
	_ storage.Chtimes = (*Tree)(nil)
	_ storage.Statfs  = (*Tree)(nil)
)

// Open serves dir.
func Open(dir string, p rootfs.Policy) (*Tree, error) {
	fsys, err := rootfs.Open(dir, p)
	if err != nil {
		return nil, err
	}
	return New(fsys), nil
}

// New serves an already opened folder.
func New(fsys *rootfs.FS) *Tree {
	return &Tree{fs: fsys, temps: map[string]struct{}{}, swept: map[string]bool{}, pending: map[string]*desc{}}
}

// Close removes the partial uploads still in flight and refuses new ones, so
// that an upload cut by a shutdown leaves nothing behind.
func (t *Tree) Close() error {
	t.mu.Lock()
	t.closed = true
	names := make([]string, 0, len(t.temps))
	for n := range t.temps {
		names = append(names, n)
	}
	clear(t.temps)
	clear(t.pending)
	t.mu.Unlock()
	for _, n := range names {
		t.fs.RemoveTemp(n)
	}
	return t.fs.Close()
}

// HostPath is the path of name on this machine, for CGI, which needs a real
// file to execute. It is never shown to clients.
func (t *Tree) HostPath(name string) string {
	return filepath.Join(t.fs.Dir(), filepath.FromSlash(name))
}

func info(name string, fi fs.FileInfo) storage.Info {
	i := storage.Info{Name: path.Base(name), IsDir: fi.IsDir(), ModTime: fi.ModTime()}
	if !i.IsDir {
		i.Size = fi.Size()
	}
	return i
}

// Stat follows the policy and symlinks as Open does.
func (t *Tree) Stat(_ context.Context, name string) (storage.Info, error) {
	fi, err := t.fs.Stat(name)
	if err != nil {
		return storage.Info{}, err
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return storage.Info{}, fs.ErrNotExist
	}
	return info(name, fi), nil
}

// Open opens a file for reading; a folder is ErrIsDir.
func (t *Tree) Open(_ context.Context, name string) (storage.Object, error) {
	f, fi, err := t.fs.Open(name)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, storage.ErrIsDir
	}
	return newObject(t, name, f, fi), nil
}

// OpenFolder opens a folder for a walk: its names come from getdents and
// each member is opened relative to it with one openat (rootfs's ReadNames
// and OpenIn), under the same rules as Open.
func (t *Tree) OpenFolder(_ context.Context, name string) (storage.Folder, error) {
	f, fi, err := t.fs.Open(name)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		f.Close()
		return nil, storage.ErrNotDir
	}
	return &folder{t: t, f: f, fi: fi, name: name}, nil
}

type folder struct {
	t    *Tree
	f    *os.File
	fi   fs.FileInfo
	name string
}

func (d *folder) Info() storage.Info       { return info(d.name, d.fi) }
func (d *folder) ID() any                  { return fileID(d.fi) }
func (d *folder) Names() ([]string, error) { return d.t.fs.ReadNames(d.f, d.name) }
func (d *folder) Close() error             { return d.f.Close() }

func (d *folder) Open(member string) (storage.Object, storage.Folder, error) {
	f, fi, err := d.t.fs.OpenIn(d.f, d.name, member)
	if err != nil {
		return nil, nil, err
	}
	name := path.Join(d.name, member)
	if fi.IsDir() {
		return nil, &folder{t: d.t, f: f, fi: fi, name: name}, nil
	}
	return newObject(d.t, name, f, fi), nil, nil
}

// List reads a folder with getdents (rootfs), one stat per entry relative to
// the folder's descriptor.
func (t *Tree) List(_ context.Context, dir string) iter.Seq2[storage.Info, error] {
	return func(yield func(storage.Info, error) bool) {
		f, fi, err := t.fs.Open(dir)
		if err != nil {
			yield(storage.Info{}, err)
			return
		}
		defer f.Close()
		if !fi.IsDir() {
			yield(storage.Info{}, storage.ErrNotDir)
			return
		}
		entries, err := t.fs.ReadDir(f, dir)
		for _, e := range entries {
			if !yield(storage.Info{Name: e.Name, IsDir: e.IsDir, Size: e.Size, ModTime: e.ModTime}, nil) {
				return
			}
		}
		if err != nil {
			yield(storage.Info{}, err)
		}
	}
}

// Stage creates the missing parent folders of name (taken back by Abort)
// and a temporary file beside it.
func (t *Tree) Stage(_ context.Context, name string, _ int64) (storage.Staged, error) {
	dir := path.Dir(name)
	if fi, err := t.fs.LstatRaw(name); err == nil && fi.IsDir() {
		return nil, storage.ErrIsDir
	}
	created, err := t.fs.MkdirParents(dir)
	if err != nil {
		t.undoParents(created)
		return nil, err
	}
	tmp, f, err := t.newTemp(dir)
	if err != nil {
		t.undoParents(created)
		return nil, err
	}
	return &staged{t: t, f: f, tmp: tmp, name: name, dir: dir, created: created}, nil
}

func (t *Tree) newTemp(dir string) (string, *os.File, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return "", nil, storage.ErrUnavailable
	}
	tmp := rootfs.TempName(dir)
	f, err := t.fs.CreateTemp(tmp)
	if err != nil {
		return "", nil, err
	}
	t.temps[tmp] = struct{}{}
	if !t.swept[dir] {
		t.swept[dir] = true
		go t.sweep(dir, time.Now().Add(-staleAfter))
	}
	return tmp, f, nil
}

func (t *Tree) dropTemp(tmp string) {
	t.mu.Lock()
	delete(t.temps, tmp)
	t.mu.Unlock()
	t.fs.RemoveTemp(tmp)
}

// undoParents removes folders a failed write created, innermost first, and
// only while they are empty: a concurrent upload may have put something there.
func (t *Tree) undoParents(created []string) {
	for _, d := range slices.Backward(created) {
		if t.fs.RemoveIfEmpty(d) != nil {
			return
		}
	}
}

type staged struct {
	t       *Tree
	f       *os.File
	tmp     string
	name    string
	dir     string
	created []string
	done    bool
}

func (s *staged) Write(p []byte) (int, error) {
	n, err := s.f.Write(p)
	return n, rootfs.WriteErr(err)
}

// ReadFrom lets the kernel move a body from a socket or a file (splice,
// copy_file_range) where it can.
func (s *staged) ReadFrom(r io.Reader) (int64, error) {
	n, err := s.f.ReadFrom(r)
	return n, rootfs.WriteErr(err)
}

// Parents are the folders Stage made for this write, outermost first:
// Abort takes them back, and so must a caller undoing a committed write.
func (s *staged) Parents() []string { return slices.Clone(s.created) }

// OSFile is the capability of writing at offsets (resumable uploads).
func (s *staged) OSFile() *os.File { return s.f }

func (s *staged) Commit(_ context.Context, replace bool) (bool, error) {
	if s.done {
		return false, errors.New("local: commit of a finished upload")
	}
	s.done = true
	err := s.f.Sync()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.abort()
		return false, rootfs.WriteErr(err)
	}
	replaced, err := s.t.fs.Publish(s.tmp, s.name, replace)
	if err != nil {
		s.abort()
		return false, err
	}
	s.t.mu.Lock()
	delete(s.t.temps, s.tmp)
	s.t.mu.Unlock()
	s.t.fs.SyncDir(s.dir)
	return replaced, nil
}

func (s *staged) Abort() error {
	if !s.done {
		s.done = true
		s.f.Close()
	}
	s.abort()
	return nil
}

func (s *staged) abort() {
	s.t.dropTemp(s.tmp)
	s.t.undoParents(s.created)
	s.created = nil
}

// Mkdir creates one folder.
func (t *Tree) Mkdir(_ context.Context, name string) error {
	return t.fs.Mkdir(name)
}

// Remove deletes a file or symlink (never its target), or a folder with
// everything in it.
func (t *Tree) Remove(_ context.Context, name string) error {
	return t.fs.Remove(name)
}

// Move renames within the folder: atomic for a file, and create-only through
// a hard link when replace is false. Nothing moves out of or into a withheld
// folder through a symlink (the handler refuses the names themselves).
func (t *Tree) Move(_ context.Context, src, dst string, replace bool) (bool, error) {
	if t.fs.ReachesWithheld(src, false) || t.fs.ReachesWithheld(dst, false) {
		return false, fs.ErrPermission
	}
	if _, err := t.fs.LstatRaw(path.Dir(dst)); err != nil {
		return false, err
	}
	replaced, err := t.fs.Rename(src, dst, replace)
	return replaced, err
}

// Copy assembles the copy under a temporary name beside dst, then publishes
// it, so that a copy cut short is never seen. As with Move, nothing is
// copied out of or into a withheld folder through a symlink.
func (t *Tree) Copy(ctx context.Context, src, dst string, replace bool) (bool, error) {
	if t.fs.ReachesWithheld(src, true) || t.fs.ReachesWithheld(dst, false) {
		return false, fs.ErrPermission
	}
	fi, err := t.fs.Stat(src)
	if err != nil {
		return false, err
	}
	dir := path.Dir(dst)
	if _, err := t.fs.LstatRaw(dir); err != nil {
		return false, err
	}
	if _, err := t.fs.LstatRaw(dst); err == nil && !replace {
		return false, fs.ErrExist
	}
	if !fi.IsDir() {
		in, err := t.Open(ctx, src)
		if err != nil {
			return false, err
		}
		defer in.Close()
		tmp, out, err := t.newTemp(dir)
		if err != nil {
			return false, err
		}
		st := &staged{t: t, f: out, tmp: tmp, name: dst, dir: dir}
		if _, err := io.Copy(out, in.(*Object).f); err != nil {
			st.Abort()
			return false, rootfs.WriteErr(err)
		}
		return st.Commit(ctx, replace)
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return false, storage.ErrUnavailable
	}
	tmp := rootfs.TempName(dir)
	t.temps[tmp] = struct{}{}
	t.mu.Unlock()
	defer t.dropTemp(tmp)
	if err := t.fs.MkdirTemp(tmp); err != nil {
		return false, err
	}
	if err := t.fs.CopyTree(src, tmp, func(w io.Writer, r io.Reader) error {
		_, err := io.Copy(w, r)
		return rootfs.WriteErr(err)
	}); err != nil {
		return false, err
	}
	replaced, err := t.fs.Rename(tmp, dst, replace)
	return replaced, err
}

// RemoveEmpty removes the folder name only if it holds nothing (rmdir): a
// failed upload takes back the folders it made without harming what a
// concurrent upload put there.
func (t *Tree) RemoveEmpty(_ context.Context, name string) error {
	return t.fs.RemoveIfEmpty(name)
}

// TreeSize adds up the bytes Copy would store from name (a file, or a folder
// with everything in it, hidden members included), stopping early once the
// total passes limit.
func (t *Tree) TreeSize(_ context.Context, name string, limit int64) (int64, error) {
	if t.fs.ReachesWithheld(name, true) {
		return 0, fs.ErrPermission // as Copy will answer
	}
	n, err := t.fs.TreeSize(name, limit)
	return n, err
}

// Chtimes sets a file's modification time (WebDAV clients keep the times of
// the files they copy).
func (t *Tree) Chtimes(_ context.Context, name string, mtime time.Time) error {
	return t.fs.Chtimes(name, mtime)
}

// Free is the space left in the folder dir's filesystem, for WebDAV's
// quota properties; fs.ErrInvalid where the system cannot tell.
func (t *Tree) Free(_ context.Context, dir string) (int64, error) {
	n, ok := t.fs.Available(dir)
	if !ok {
		return 0, fs.ErrInvalid
	}
	return n, nil
}
