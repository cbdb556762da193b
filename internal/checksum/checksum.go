// Package checksum answers ?hash=sha256 (or sha512) on a file with its hex
// digest in the format of sha256sum, so a receiver can check what arrived
// with `sha256sum -c`.
package checksum

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/ferry-sh/ferry/internal/httperr"
)

// New returns a hash for an algorithm name a client asked for, or nil.
func New(alg string) hash.Hash {
	switch strings.ToLower(alg) {
	case "sha256":
		return sha256.New()
	case "sha512":
		return sha512.New()
	}
	return nil
}

// Serve writes "<hex>  <name>\n" for f. The file is read through a fixed
// buffer, never held whole in memory; a cancelled request stops the read.
func Serve(w http.ResponseWriter, r *http.Request, f io.Reader, name string) {
	h := New(r.URL.Query().Get("hash"))
	if h == nil {
		httperr.Write(w, r, http.StatusBadRequest, "unsupported hash: use sha256 or sha512")
		return
	}
	if _, err := io.CopyBuffer(h, ctxReader{r.Context(), f}, make([]byte, 256<<10)); err != nil {
		if r.Context().Err() != nil {
			return // the client left
		}
		httperr.Write(w, r, http.StatusInternalServerError, "file could not be read")
		return
	}
	line := Line(hex.EncodeToString(h.Sum(nil)), path.Base(name))
	hd := w.Header()
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.WriteString(w, line)
	}
}

// Line formats one line as coreutils does: a name holding a backslash or a
// newline is escaped and the line starts with a backslash, so `sha256sum -c`
// reads it back.
func Line(hexsum, name string) string {
	if strings.ContainsAny(name, "\\\n\r") {
		name = strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r").Replace(name)
		return "\\" + hexsum + "  " + name + "\n"
	}
	return hexsum + "  " + name + "\n"
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
