package rootfs

import (
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/ferry-sh/ferry/internal/storage"
)

// opError carries the kind a handler acts on and the system error for the
// log. The kinds are storage's (ErrNoSpace, ErrNotDir...) and fs.ErrExist,
// fs.ErrNotExist, fs.ErrPermission, so the local backend passes them on as
// they are.
type opError struct {
	kind error
	err  error
}

func (e *opError) Error() string { return e.kind.Error() + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.kind }

// writeErr classifies an error from a write on the tree. Unlike classify it
// keeps conditions a writer must tell apart (a full disk is no missing file);
// errors it does not know stay as they are and become a 500. os.Root's escape
// error is unexported, so a name that resolves outside the root is reported
// as absent, exactly as for reads.
func writeErr(err error) error {
	if err == nil {
		return nil
	}
	var kind error
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		kind = storage.ErrNoSpace
	case errors.Is(err, syscall.EFBIG):
		kind = storage.ErrTooLarge
	case errors.Is(err, syscall.ENAMETOOLONG):
		kind = storage.ErrNameTooLong
	case errors.Is(err, syscall.EROFS):
		kind = storage.ErrReadOnly
	case errors.Is(err, syscall.ENOTDIR):
		kind = storage.ErrNotDir
	case errors.Is(err, syscall.EISDIR):
		kind = storage.ErrIsDir
	case errors.Is(err, fs.ErrExist):
		kind = fs.ErrExist
	case errors.Is(err, fs.ErrNotExist):
		kind = fs.ErrNotExist
	case errors.Is(err, fs.ErrPermission):
		kind = fs.ErrPermission
	case errors.Is(err, syscall.ELOOP), errors.Is(err, fs.ErrClosed), errors.Is(err, syscall.EIO),
		errors.Is(err, syscall.EBADF), errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.EXDEV),
		errors.Is(err, syscall.EMLINK), errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.EBUSY):
		return err
	default:
		var pe *fs.PathError
		var le *os.LinkError
		if errors.As(err, &pe) || errors.As(err, &le) {
			// The remaining path errors from os.Root are its escape
			// checks ("path escapes from parent").
			if _, ok := errors.AsType[syscall.Errno](err); !ok {
				kind = fs.ErrNotExist
				break
			}
		}
		return err
	}
	return &opError{kind: kind, err: err}
}

// TempName returns a fresh name for a partial upload in the folder dir.
func TempName(dir string) string {
	return path.Join(dir, TempPrefix+rand.Text())
}

// IsTemp reports whether a clean relative name is a partial upload.
func IsTemp(name string) bool { return strings.HasPrefix(path.Base(name), TempPrefix) }

// CreateTemp creates the empty temporary file name (from TempName). It fails
// rather than reuse an existing file.
func (f *FS) CreateTemp(name string) (*os.File, error) {
	file, err := f.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
	return file, writeErr(err)
}

// OpenTemp opens the existing temporary file name for writing, so that a
// resumable upload can go on storing into it across requests.
func (f *FS) OpenTemp(name string) (*os.File, error) {
	if !IsTemp(name) {
		return nil, errors.New("rootfs: OpenTemp of a name that is no temporary")
	}
	file, err := f.root.OpenFile(name, os.O_WRONLY, 0)
	return file, writeErr(err)
}

// MkdirTemp creates the temporary folder name (from TempName), where a
// folder copy is assembled before it is renamed into place.
func (f *FS) MkdirTemp(name string) error {
	return writeErr(f.root.Mkdir(name, 0o777))
}

// Publish gives the complete temporary file tmp its final name. Without
// overwrite it never replaces anything: a hard link fails atomically when
// final exists (fs.ErrExist), so of several uploads racing for one name
// exactly one wins; tmp is removed either way. With overwrite it renames,
// which replaces a file (or a symlink, never its target) atomically.
// replaced reports that final existed.
func (f *FS) Publish(tmp, final string, overwrite bool) (replaced bool, err error) {
	if info, lerr := f.root.Lstat(final); lerr == nil {
		if info.IsDir() {
			return false, &opError{kind: storage.ErrIsDir, err: errors.New("publish over a folder")}
		}
		if !overwrite {
			return false, &opError{kind: fs.ErrExist, err: errors.New("publish")}
		}
		replaced = true
	}
	if overwrite {
		return replaced, writeErr(f.root.Rename(tmp, final))
	}
	err = f.root.Link(tmp, final)
	if err != nil && linkUnsupported(err) {
		// Filesystems without hard links (FAT, some FUSE and network
		// mounts): fall back to a check then a rename. Racing creators
		// may then both succeed, the later one replacing the earlier.
		if _, lerr := f.root.Lstat(final); lerr == nil {
			return false, &opError{kind: fs.ErrExist, err: err}
		}
		return false, writeErr(f.root.Rename(tmp, final))
	}
	if err != nil {
		return false, writeErr(err)
	}
	f.root.Remove(tmp)
	return false, nil
}

func linkUnsupported(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EOPNOTSUPP) ||
		errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EMLINK) || errors.Is(err, syscall.ENOSYS)
}

// SyncDir flushes a folder's entries, so a published name survives a crash.
func (f *FS) SyncDir(dir string) error {
	d, err := f.root.Open(dir)
	if err != nil {
		return writeErr(err)
	}
	defer d.Close()
	return writeErr(d.Sync())
}

// MkdirParents creates the folder dir and its missing parents, returning
// those it created, outermost first, so that a failed upload can take them
// back. A component that exists and is no folder gives storage.ErrNotDir.
func (f *FS) MkdirParents(dir string) (created []string, err error) {
	if dir == "." {
		return nil, nil
	}
	cur := ""
	for comp := range strings.SplitSeq(dir, "/") {
		cur = path.Join(cur, comp)
		err := f.root.Mkdir(cur, 0o777)
		if err == nil {
			created = append(created, cur)
			continue
		}
		if !errors.Is(err, fs.ErrExist) {
			return created, writeErr(err)
		}
		info, serr := f.root.Stat(cur)
		if serr != nil {
			return created, writeErr(serr)
		}
		if !info.IsDir() {
			return created, &opError{kind: storage.ErrNotDir, err: errors.New("mkdir parents")}
		}
	}
	return created, nil
}

// Mkdir creates one folder; fs.ErrExist when the name is taken.
func (f *FS) Mkdir(name string) error { return writeErr(f.root.Mkdir(name, 0o777)) }

// RemoveIfEmpty removes a folder that holds nothing (undoing MkdirParents
// without harming what a concurrent upload put there).
func (f *FS) RemoveIfEmpty(name string) error { return writeErr(f.root.Remove(name)) }

// RemoveTemp removes a partial upload (file or folder); only temp names.
func (f *FS) RemoveTemp(name string) error {
	if !IsTemp(name) {
		return errors.New("rootfs: RemoveTemp of a name that is no temporary")
	}
	return writeErr(f.root.RemoveAll(name))
}

// LstatRaw is Lstat without the policy: whether a name is taken on disk,
// whatever it is.
func (f *FS) LstatRaw(name string) (fs.FileInfo, error) {
	info, err := f.root.Lstat(name)
	return info, writeErr(err)
}

// Remove deletes name: a file or a symlink (never what it points to), or a
// folder with everything in it.
func (f *FS) Remove(name string) error {
	if name == "." {
		return fs.ErrPermission
	}
	info, err := f.root.Lstat(name)
	if err != nil {
		return writeErr(err)
	}
	if info.IsDir() {
		return writeErr(f.root.RemoveAll(name))
	}
	return writeErr(f.root.Remove(name))
}

// Rename moves src to dst inside the tree. Without overwrite an existing dst
// gives fs.ErrExist (atomically for files, through a hard link). With
// overwrite an existing dst is replaced: a file atomically, a folder by
// removing it first.
func (f *FS) Rename(src, dst string, overwrite bool) (replaced bool, err error) {
	sinfo, err := f.root.Lstat(src)
	if err != nil {
		return false, writeErr(err)
	}
	dinfo, derr := f.root.Lstat(dst)
	if derr == nil {
		if !overwrite {
			return false, &opError{kind: fs.ErrExist, err: errors.New("rename")}
		}
		replaced = true
		if dinfo.IsDir() || sinfo.IsDir() {
			// rename(2) only replaces an empty folder, and never a
			// file with a folder or the reverse.
			if err := f.root.RemoveAll(dst); err != nil {
				return true, writeErr(err)
			}
		}
		return replaced, writeErr(f.root.Rename(src, dst))
	}
	if sinfo.Mode().IsRegular() {
		err := f.root.Link(src, dst)
		if err == nil {
			return false, writeErr(f.root.Remove(src))
		}
		if !linkUnsupported(err) {
			return false, writeErr(err)
		}
	}
	return false, writeErr(f.root.Rename(src, dst))
}

// OpenRaw opens a name inside the root for reading without the policy (for
// copying a folder's whole content).
func (f *FS) OpenRaw(name string) (*os.File, error) {
	file, err := f.root.Open(name)
	return file, writeErr(err)
}

// CopyTree copies the folder src into the existing, empty folder dst, which
// is normally a temporary one. Regular files and folders are copied (hidden
// ones too: they belong to the folder); symlinks, devices and partial
// uploads are left out. copyFile writes one file's content.
func (f *FS) CopyTree(src, dst string, copyFile func(dst io.Writer, src io.Reader) error) error {
	d, err := f.root.Open(src)
	if err != nil {
		return writeErr(err)
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return writeErr(err)
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, TempPrefix) {
			continue
		}
		s, t := path.Join(src, n), path.Join(dst, n)
		switch {
		case e.IsDir():
			if err := f.root.Mkdir(t, 0o777); err != nil {
				return writeErr(err)
			}
			if err := f.CopyTree(s, t, copyFile); err != nil {
				return err
			}
		case e.Type().IsRegular():
			if err := f.copyOne(s, t, copyFile); err != nil {
				return err
			}
		}
	}
	return nil
}

// TreeSize adds up the bytes CopyTree would copy from name (a file, or a
// folder with everything in it), stopping early once the total passes limit.
func (f *FS) TreeSize(name string, limit int64) (int64, error) {
	info, err := f.root.Stat(name)
	if err != nil {
		return 0, writeErr(err)
	}
	if !info.IsDir() {
		return info.Size(), nil
	}
	var total int64
	err = f.treeSize(name, limit, &total)
	return total, err
}

func (f *FS) treeSize(dir string, limit int64, total *int64) error {
	d, err := f.root.Open(dir)
	if err != nil {
		return writeErr(err)
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return writeErr(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), TempPrefix) {
			continue
		}
		switch {
		case e.IsDir():
			if err := f.treeSize(path.Join(dir, e.Name()), limit, total); err != nil {
				return err
			}
		case e.Type().IsRegular():
			info, err := e.Info()
			if err != nil {
				continue // gone since the listing: CopyTree will not copy it either
			}
			*total += info.Size()
		}
		if *total > limit {
			return nil
		}
	}
	return nil
}

func (f *FS) copyOne(src, dst string, copyFile func(io.Writer, io.Reader) error) error {
	in, err := f.root.Open(src)
	if err != nil {
		return writeErr(err)
	}
	defer in.Close()
	out, err := f.root.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return writeErr(err)
	}
	if err := copyFile(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return writeErr(err)
	}
	return writeErr(out.Close())
}

// Chtimes sets the modification time of name (and its access time to now),
// for clients that keep the times of the files they copy.
func (f *FS) Chtimes(name string, mtime time.Time) error {
	return writeErr(f.root.Chtimes(name, time.Now(), mtime))
}

// WriteErr classifies an error from writing an open file of the tree.
func WriteErr(err error) error { return writeErr(err) }
