package local

import (
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/ferry-sh/ferry/internal/storage"
)

// Object is an opened local file. It reads with pread at an offset of its
// own: http.ServeContent learns a file's size by seeking to the end and
// back, two lseek calls for a figure the open's fstat already gave, and the
// descriptor's own offset stays untouched until SendFile hands the file
// over, which is what lets one descriptor from a cache of open files serve
// several requests at once (Share).
type Object struct {
	f    *os.File
	size int64       // from the fstat the response's validators come from
	fi   fs.FileInfo // that fstat
	t    *Tree
	name string

	off    int64
	handed bool // SendFile gave f away: Read and Seek now act on f itself
}

func newObject(t *Tree, name string, f *os.File, fi fs.FileInfo) *Object {
	return &Object{f: f, size: fi.Size(), fi: fi, t: t, name: name}
}

func (o *Object) Info() storage.Info { return info(o.name, o.fi) }

var errNegative = errors.New("local: negative position")

func (o *Object) Read(p []byte) (int, error) {
	if o.handed {
		return o.f.Read(p)
	}
	return o.pread(p, &o.off)
}

// pread reads at *off, bounded by the size the open's fstat gave (the size
// a response announced): bytes appended since then are not part of it.
func (o *Object) pread(p []byte, off *int64) (int, error) {
	if *off >= o.size {
		return 0, io.EOF
	}
	if rest := o.size - *off; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := o.f.ReadAt(p, *off)
	*off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (o *Object) ReadAt(p []byte, off int64) (int, error) { return o.f.ReadAt(p, off) }

func (o *Object) Seek(offset int64, whence int) (int64, error) {
	if o.handed {
		return o.f.Seek(offset, whence)
	}
	return seek(&o.off, o.size, offset, whence)
}

func seek(off *int64, size, offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += *off
	case io.SeekEnd:
		offset += size
	default:
		return 0, errors.New("local: invalid whence")
	}
	if offset < 0 {
		return 0, errNegative
	}
	*off = offset
	return offset, nil
}

func (o *Object) Close() error { return o.f.Close() }

// SendFile hands over the file itself, its offset moved to where this
// reader stands (no syscall when that is the start, as for every whole-file
// response from a freshly opened descriptor), so that net/http sends it
// with sendfile (transfer.FileSource).
func (o *Object) SendFile() *os.File {
	if !o.handed {
		if o.off != 0 {
			if _, err := o.f.Seek(o.off, io.SeekStart); err != nil {
				return nil
			}
		}
		o.handed = true
	}
	return o.f
}

// OSFile is the file itself, for what only a descriptor can do.
func (o *Object) OSFile() *os.File { return o.f }

// Share returns another reader of the same descriptor, for one more
// request while this Object stays open: it reads with pread only, never
// moves the descriptor's offset (so never hands the file to sendfile), and
// its Close leaves the descriptor open.
func (o *Object) Share() storage.Object { return &shared{o: o} }

type shared struct {
	o   *Object
	off int64
}

func (s *shared) Info() storage.Info                      { return s.o.Info() }
func (s *shared) Read(p []byte) (int, error)              { return s.o.pread(p, &s.off) }
func (s *shared) ReadAt(p []byte, off int64) (int, error) { return s.o.f.ReadAt(p, off) }
func (s *shared) Close() error                            { return nil }
func (s *shared) Seek(offset int64, whence int) (int64, error) {
	return seek(&s.off, s.o.size, offset, whence)
}

// Unchanged reports whether the object's name still names this very file,
// in the state it was opened in: same device and inode (which the kernel
// cannot give to another file while this descriptor holds it open), size,
// mode, modification and change times (ctime moves on any write, chmod or
// rename). A cache of open descriptors checks it with one fstatat instead of
// an openat, fstat and close.
func (o *Object) Unchanged() bool {
	fi, err := o.t.fs.Stat(o.name)
	return err == nil && sameFile(o.fi, fi)
}

// Version names the state the file is in now (device, inode, size,
// modification and change times) for caches of what was computed from its
// bytes (checksums); ok is false where the system does not tell.
func (o *Object) Version() (string, bool) {
	fi, err := o.f.Stat()
	if err != nil {
		return "", false
	}
	return version(fi)
}

// WillNeed asks the kernel to start reading the first n bytes into the page
// cache now (read-ahead for walks that will read many files in turn).
func (o *Object) WillNeed(n int64) { willNeed(o.f, n) }
