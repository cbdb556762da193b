package write

import (
	"errors"
	"io/fs"
	"math"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/ferry-sh/ferry/internal/mount"
	"github.com/ferry-sh/ferry/internal/rootfs"
)

// Move renames name to the request's Destination; keep leaves the source
// (COPY). Statuses follow RFC 4918 §9.8 and §9.9: 201 for a new target, 204
// for a replaced one, 412 when it exists and Overwrite is F, 409 when the
// target's folder is missing.
func (h *Handler) Move(w http.ResponseWriter, r *http.Request, name string, keep bool) {
	if name == "." {
		h.fail(w, r, refuse(http.StatusForbidden, "the served folder itself cannot be moved"))
		return
	}
	src, ok := h.visible(name)
	if !ok {
		h.fail(w, r, refuse(http.StatusNotFound, ""))
		return
	}
	dest, err := destination(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if dest == "." {
		h.fail(w, r, refuse(http.StatusForbidden, "the served folder cannot be replaced"))
		return
	}
	if err := h.checkNew(dest); err != nil {
		h.fail(w, r, err)
		return
	}
	if dest == name {
		h.fail(w, r, refuse(http.StatusForbidden, "source and destination are the same"))
		return
	}
	if h.fs.EnclosesWithheld(name) || h.fs.EnclosesWithheld(dest) {
		// Scripts leaving a CGI folder would be served as their source; an
		// executable moved into one would run.
		h.fail(w, r, refuse(http.StatusForbidden, "CGI folders and what they hold cannot be moved or copied"))
		return
	}
	if strings.HasPrefix(dest, name+"/") {
		h.fail(w, r, refuse(http.StatusConflict, "a folder cannot go inside itself"))
		return
	}
	if strings.HasPrefix(name, dest+"/") {
		h.fail(w, r, refuse(http.StatusConflict, "the destination holds the source"))
		return
	}
	if info, err := h.fs.Stat(path.Dir(dest)); err != nil || !info.IsDir() {
		h.fail(w, r, refuse(http.StatusConflict, "the destination folder does not exist"))
		return
	}
	var overwrite bool
	switch strings.ToUpper(strings.TrimSpace(r.Header.Get("Overwrite"))) {
	case "", "T":
		overwrite = h.opts.Overwrite
	case "F":
	default:
		h.fail(w, r, refuse(http.StatusBadRequest, "Overwrite must be T or F"))
		return
	}
	exists := false
	if _, err := h.fs.LstatRaw(dest); err == nil {
		exists = true
	} else if !errors.Is(err, fs.ErrNotExist) {
		h.fail(w, r, err)
		return
	}
	if exists && !overwrite {
		h.fail(w, r, refuse(http.StatusPreconditionFailed, "the destination exists"))
		return
	}
	if keep {
		// A copy stores new data like an upload does, so the same limits
		// hold: without them, alternating COPY and MOVE doubles a folder
		// each round until the disk is full.
		if err := h.checkCopySize(name, path.Dir(dest)); err != nil {
			h.fail(w, r, err)
			return
		}
	}

	var replaced bool
	switch {
	case !keep:
		replaced, err = h.fs.Rename(name, dest, overwrite)
	case src.IsDir() || src.Mode()&fs.ModeSymlink != 0 && h.isDir(name):
		replaced, err = h.copyDir(name, dest, overwrite)
	default:
		replaced, err = h.copyOne(name, dest, overwrite)
	}
	if errors.Is(err, fs.ErrExist) {
		err = refuse(http.StatusPreconditionFailed, "the destination exists")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if replaced {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	reply(w, http.StatusCreated, []string{"created " + dest})
}

// checkCopySize refuses, before anything is written, a copy of name larger
// than MaxUpload (413) or than the free space of the folder dir (507).
func (h *Handler) checkCopySize(name, dir string) error {
	limit := int64(math.MaxInt64)
	if h.opts.MaxUpload > 0 {
		limit = h.opts.MaxUpload
	}
	free, known := h.fs.Available(dir)
	if known {
		limit = min(limit, free)
	}
	if limit == math.MaxInt64 {
		return nil
	}
	size, err := h.fs.TreeSize(name, limit)
	if err != nil {
		return err
	}
	switch {
	case h.opts.MaxUpload > 0 && size > h.opts.MaxUpload:
		return refuse(http.StatusRequestEntityTooLarge, "the copy would be larger than the upload limit of "+strconv.FormatInt(h.opts.MaxUpload, 10)+" bytes; nothing was stored")
	case known && size > free:
		return refuse(http.StatusInsufficientStorage, "not enough space on the server for the copy; nothing was stored")
	}
	return nil
}

func (h *Handler) isDir(name string) bool {
	info, err := h.fs.Stat(name)
	return err == nil && info.IsDir()
}

// copyOne copies a file through a temporary file in the target's folder.
func (h *Handler) copyOne(name, dest string, overwrite bool) (bool, error) {
	in, _, err := h.fs.Open(name)
	if err != nil {
		return false, err
	}
	defer in.Close()
	t := &txn{h: h, overwrite: overwrite}
	defer t.rollback()
	f, tmp, err := h.newTemp(path.Dir(dest))
	if err != nil {
		return false, err
	}
	t.staged = append(t.staged, staged{tmp, dest})
	err = h.copyFile(f, in)
	if err == nil {
		err = rootfs.WriteErr(f.Sync())
	}
	if cerr := f.Close(); err == nil {
		err = rootfs.WriteErr(cerr)
	}
	if err != nil {
		return false, err
	}
	replacedDir := false
	if info, err := h.fs.LstatRaw(dest); err == nil && info.IsDir() && overwrite {
		// A file cannot be renamed over a folder: the folder goes first.
		if err := h.fs.Remove(dest); err != nil {
			return false, err
		}
		replacedDir = true
	}
	replaced, err := t.publish()
	return replaced || replacedDir, err
}

// copyDir assembles the copy in a temporary folder next to the target and
// renames it into place once complete.
func (h *Handler) copyDir(name, dest string, overwrite bool) (bool, error) {
	tmp, err := h.newTempDir(path.Dir(dest))
	if err != nil {
		return false, err
	}
	defer h.dropTemp(tmp)
	if err := h.fs.CopyTree(name, tmp, h.copyFile); err != nil {
		return false, err
	}
	return h.fs.Rename(tmp, dest, overwrite)
}

// destination reads the Destination header through the parser auth checked
// it with.
func destination(r *http.Request) (string, error) {
	name, err := mount.Destination(r)
	if err != nil {
		return "", refuse(http.StatusBadRequest, err.Error())
	}
	return name, nil
}
