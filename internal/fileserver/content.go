package fileserver

import (
	"errors"
	"io"
	"os"

	"github.com/ferry-sh/ferry/internal/storage"
)

// content is the io.ReadSeeker a file is served through. http.ServeContent
// learns the size by seeking to the end and back, two lseek calls for a
// figure fstat already gave; here seeks only move a number and reads use
// pread at that offset. Until SendFile hands the file over, the file's own
// offset is never touched, which is what lets one descriptor from the cache
// of open files serve several requests at once.
type content struct {
	f      *os.File
	size   int64 // from the fstat the response's validators came from
	off    int64
	shared bool // f belongs to the cache: its offset is nobody's to move
	handed bool // SendFile gave f away: Read and Seek now act on f itself
}

var errNegative = errors.New("fileserver: negative position")

func (c *content) Read(p []byte) (int, error) {
	if c.handed {
		return c.f.Read(p)
	}
	if c.off >= c.size {
		return 0, io.EOF
	}
	// Bounded by the size the headers announced: bytes appended since
	// then are not part of this response.
	if rest := c.size - c.off; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := c.f.ReadAt(p, c.off)
	c.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (c *content) Seek(offset int64, whence int) (int64, error) {
	if c.handed {
		return c.f.Seek(offset, whence)
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += c.off
	case io.SeekEnd:
		offset += c.size
	default:
		return 0, errors.New("fileserver: invalid whence")
	}
	if offset < 0 {
		return 0, errNegative
	}
	c.off = offset
	return offset, nil
}

// SendFile implements transfer.FileSource: the file, its offset moved to
// where this reader stands (no syscall when that is the start, as for every
// whole-file response from a freshly opened descriptor).
func (c *content) SendFile() *os.File {
	if c.shared {
		return nil
	}
	if !c.handed {
		if c.off != 0 {
			if _, err := c.f.Seek(c.off, io.SeekStart); err != nil {
				return nil
			}
		}
		c.handed = true
	}
	return c.f
}

// remoteContent is a file of a store read over the network, as
// http.ServeContent reads it. ServeContent sniffs the content type of a
// name whose extension does not tell by reading the first bytes before it
// seeks anywhere; remoteContent answers that read with a ReadAt of exactly
// those bytes, so the object's own reading (which starts where the first
// Read after a Seek does, with the window a range hinted) is left for the
// bytes of the response.
type remoteContent struct {
	storage.Object
	seeked bool
	off    int64
}

func (c *remoteContent) Read(p []byte) (int, error) {
	if c.seeked {
		return c.Object.Read(p)
	}
	n, err := c.Object.ReadAt(p, c.off)
	c.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (c *remoteContent) Seek(offset int64, whence int) (int64, error) {
	c.seeked = true
	return c.Object.Seek(offset, whence)
}
