package write

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-sh/ferry/internal/compress"
	"github.com/ferry-sh/ferry/internal/storage"
)

// Conditional PUT (RFC 9110 §13.1): an editor sends If-Match with the ETag
// of what it opened, so that a change someone else saved meanwhile is
// refused (412) rather than overwritten; If-None-Match: * creates only; and
// If-Unmodified-Since does for dates what If-Match does for tags. The file
// server's ETag (size and time, or the store's own) is the one compared.

// conditional reports whether the request carries a precondition PUT checks.
func conditional(r *http.Request) bool {
	h := r.Header
	return h.Get("If-Match") != "" || h.Get("If-None-Match") != "" || h.Get("If-Unmodified-Since") != ""
}

// errPrecondition is the 412 a failed precondition answers.
var errPrecondition = refuse(http.StatusPreconditionFailed,
	"the file is not the version the request was made for (it changed, appeared or went); nothing was stored")

// checkPreconditions evaluates the request's preconditions against what
// name is now, in RFC 9110 §13.2.2's order.
func (h *Handler) checkPreconditions(r *http.Request, name string) error {
	info, exists, err := h.exists(r.Context(), name)
	if err != nil {
		return err
	}
	if exists && info.IsDir {
		exists = false // a folder has no representation PUT could replace
	}
	var tag string
	if exists {
		tag = etagOf(info)
	}
	if im := r.Header.Get("If-Match"); im != "" {
		if !exists || !matchStrong(im, tag) {
			return errPrecondition
		}
	} else if ius := r.Header.Get("If-Unmodified-Since"); ius != "" && exists {
		if t, err := http.ParseTime(ius); err == nil && info.ModTime.Truncate(time.Second).After(t) {
			return errPrecondition
		}
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && exists && matchWeak(inm, tag) {
		return errPrecondition
	}
	return nil
}

// etagOf is the validator GET sends for the file: the store's own, or one
// from time and size.
func etagOf(info storage.Info) string {
	if info.ETag != "" {
		return info.ETag
	}
	return ETag(info.ModTime, info.Size)
}

// ETag is the file server's validator for a file of this time and size.
func ETag(mod time.Time, size int64) string {
	b := make([]byte, 0, 40)
	b = append(b, '"')
	b = strconv.AppendInt(b, mod.UnixNano(), 36)
	b = append(b, '-')
	b = strconv.AppendInt(b, size, 36)
	return string(append(b, '"'))
}

// matchStrong is If-Match's comparison: "*", or one of the listed tags
// byte for byte, and never a weak one. A tag that names a compressed form
// of the file ("...-zstd", "...-gzip", as a GET with Accept-Encoding gets
// it) stands for the same version: an editor that read the file
// compressed saves over it as one that read it plain.
func matchStrong(list, tag string) bool {
	for t := range strings.SplitSeq(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || !strings.HasPrefix(t, "W/") && (t == tag ||
			t == compress.SuffixETag(tag, compress.Zstd) || t == compress.SuffixETag(tag, compress.Gzip)) {
			return true
		}
	}
	return false
}

// matchWeak is If-None-Match's: "*", or a listed tag equal when W/ is
// ignored on both sides.
func matchWeak(list, tag string) bool {
	for t := range strings.SplitSeq(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(tag, "W/") {
			return true
		}
	}
	return false
}
