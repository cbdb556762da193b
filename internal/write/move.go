package write

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/ferry-sh/ferry/internal/mount"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
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
	ctx := r.Context()
	src, ok, err := h.exists(ctx, name)
	if err != nil || !ok {
		if err == nil {
			err = refuse(http.StatusNotFound, "")
		}
		h.fail(w, r, err)
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
	if h.enclosesWithheld(name) || h.enclosesWithheld(dest) {
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
	if err := h.needFolder(ctx, path.Dir(dest), "the destination folder does not exist"); err != nil {
		h.fail(w, r, err)
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
	target, exists, err := h.exists(ctx, dest)
	if err != nil {
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
		if err := h.checkCopySize(ctx, name, path.Dir(dest)); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if err := h.open(); err != nil {
		h.fail(w, r, err)
		return
	}

	replacedDir := false
	if keep && exists && target.IsDir && !src.IsDir {
		// A file cannot take a folder's place in one step: the folder goes
		// first (RFC 4918 §9.8.4: Overwrite T deletes the destination).
		if err := h.tree.Remove(ctx, dest); err != nil {
			h.fail(w, r, err)
			return
		}
		replacedDir = true
	}
	var replaced bool
	if keep {
		replaced, err = h.tree.Copy(ctx, name, dest, overwrite)
	} else {
		replaced, err = h.tree.Move(ctx, name, dest, overwrite)
	}
	if errors.Is(err, fs.ErrExist) {
		err = refuse(http.StatusPreconditionFailed, "the destination exists")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if replaced || replacedDir {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	reply(w, http.StatusCreated, []string{"created " + dest})
}

// enclosesWithheld reports whether a clean relative name is, lies inside or
// holds a CGI folder.
func (h *Handler) enclosesWithheld(name string) bool {
	for _, w := range h.opts.Withheld {
		if name == "." || rootfs.Within(name, w) || rootfs.Within(w, name) {
			return true
		}
	}
	return false
}

// checkCopySize refuses, before anything is written, a copy of name larger
// than MaxUpload (413) or than the free space of the folder dir (507).
func (h *Handler) checkCopySize(ctx context.Context, name, dir string) error {
	limit := int64(math.MaxInt64)
	if h.opts.MaxUpload > 0 {
		limit = h.opts.MaxUpload
	}
	free, known := storage.FreeNear(ctx, h.statfs, dir)
	if known {
		limit = min(limit, free)
	}
	if limit == math.MaxInt64 {
		return nil
	}
	size, err := h.treeSize(ctx, name, limit)
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

// treeSizer is offered by backends that can add up what a copy of a name
// would store, hidden members included (a local folder).
type treeSizer interface {
	TreeSize(ctx context.Context, name string, limit int64) (int64, error)
}

// treeSize adds up the bytes a copy of name would store, stopping early
// once the total passes limit.
func (h *Handler) treeSize(ctx context.Context, name string, limit int64) (int64, error) {
	if ts, ok := storage.As[treeSizer](h.tree); ok {
		return ts.TreeSize(ctx, name, limit)
	}
	info, err := h.tree.Stat(ctx, name)
	if err != nil || !info.IsDir {
		return info.Size, err
	}
	var total int64
	var walk func(dir string) error
	walk = func(dir string) error {
		for e, err := range h.tree.List(ctx, dir) {
			if err != nil {
				return err
			}
			if e.IsDir {
				if err := walk(path.Join(dir, e.Name)); err != nil {
					return err
				}
			}
			if total += e.Size; total > limit {
				return nil
			}
		}
		return nil
	}
	return total, walk(name)
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
