package fileserver

import (
	"io"

	"github.com/ferry-sh/ferry/internal/storage"
)

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
	// failed is a read of the body (after ServeContent's seek, so after
	// its headers) that failed: the store broke off mid-way.
	failed bool
}

func (c *remoteContent) Read(p []byte) (int, error) {
	if c.seeked {
		n, err := c.Object.Read(p)
		if err != nil && err != io.EOF {
			c.failed = true
		}
		return n, err
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
