package ferry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"path/filepath"

	"github.com/ferry-sh/ferry/internal/archive"
	"github.com/ferry-sh/ferry/internal/checksum"
	"github.com/ferry-sh/ferry/internal/fileserver"
	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/jobs"
	"github.com/ferry-sh/ferry/internal/listing"
	"github.com/ferry-sh/ferry/internal/qrcode"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/share"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/policy"
)

// reader answers GET and HEAD: a whole folder (fileserver) or a set of
// named files (share).
type reader interface {
	Serve(w http.ResponseWriter, r *http.Request, name string, dir bool)
}

// ErrFilesReadOnly is returned by NewFiles when options ask for writes: a set
// of named files has no folder to upload into.
var ErrFilesReadOnly = errors.New("ferry: uploads, deletes, moves and WebDAV need a folder, not a set of files")

// NewFiles shares just the named files (and folders), which may live in
// different folders: each at /NAME (its base name), the root listing only
// them, nothing else reachable. Two paths with the same base name are an
// error. The set is read-only; with Options.Once, Done closes once each
// file has been downloaded completely (each folder as an archive).
func NewFiles(paths []string, opts Options) (*Handler, error) {
	if opts.Upload || opts.Delete || opts.Overwrite || opts.Move || opts.CGI || opts.WebDAV {
		return nil, ErrFilesReadOnly
	}
	folders := rootfs.Policy{FollowSymlinks: opts.FollowSymlinks}
	links := new(qrcode.Links)
	lim := jobs.NewDefault()
	sums := checksum.NewService(lim)
	sh, err := share.Open(paths, folders, policy.Rules{Hidden: opts.Hidden}, fileserver.Options{
		NoListing: opts.NoListing,
		Can:       listing.Capabilities{Archive: !opts.NoListing},
		Hash:      sums.Serve,
		Links:     links,
	}, lim)
	if err != nil {
		return nil, err
	}
	// The handler around the set is an ordinary one (logging, counting,
	// auth, limits, /.ferry/), made over the first file's folder and then
	// given the set as its reader; with no write enabled, nothing else of
	// that folder is ever reached.
	abs, _ := filepath.Abs(paths[0])
	h, err := newHandler(filepath.Dir(abs), opts, lim, sums)
	if err != nil {
		sh.Close()
		return nil, err
	}
	if c, ok := h.read.(interface{ Close() }); ok {
		c.Close() // the folder's reader, replaced by the set's
	}
	h.read, h.share = sh, sh
	// Previews and share links read the folder the handler was made over,
	// which holds more than the set: a set of files goes without them.
	h.preview = nil
	h.shares, h.shareAPI = nil, nil
	h.links = links // the set's listing and the QR endpoint share one
	if opts.Once {
		h.tracker.WantEach(sh.URLPaths())
	}
	return h, nil
}

// SharedPaths lists the URL paths of a NewFiles handler's items ("/a.txt",
// "/docs/"), nil for a folder handler.
func (h *Handler) SharedPaths() []string {
	if h.share == nil {
		return nil
	}
	return h.share.URLPaths()
}

// archiveHook streams folders as ?zip, ?tar and ?tar.gz. An archive lists a
// folder's contents, so --no-listing turns it off too. With name=
// parameters (the page's selection: ?zip&name=a.txt&name=pics) the archive
// holds just those entries of the folder, each at its top.
func archiveHook(tree storage.Tree, base string, opts Options, lim *jobs.Limiter) func(http.ResponseWriter, *http.Request, string, string) {
	if opts.NoListing {
		return nil
	}
	whole := archive.Hook(tree, base, lim)
	return func(w http.ResponseWriter, r *http.Request, dir, format string) {
		names := r.URL.Query()["name"]
		if len(names) == 0 {
			whole(w, r, dir, format)
			return
		}
		srcs, err := selected(r.Context(), tree, dir, names, opts.Hidden)
		if err != nil {
			httperr.Write(w, r, http.StatusBadRequest, err.Error())
			return
		}
		name := base
		if dir != "." {
			name = path.Base(dir)
		}
		archive.Serve(w, r, format, archive.CleanName(name)+"-selection", "", srcs, lim)
	}
}

// maxSelected bounds the entries one selection archive names.
const maxSelected = 10000

// selected checks the names of a selection: each one entry of dir that a
// client may see, none twice.
func selected(ctx context.Context, tree storage.Tree, dir string, names []string, hidden bool) ([]archive.Source, error) {
	if len(names) > maxSelected {
		return nil, fmt.Errorf("at most %d names in one archive", maxSelected)
	}
	seen := make(map[string]bool, len(names))
	srcs := make([]archive.Source, 0, len(names))
	for _, n := range names {
		if err := (policy.Rules{Hidden: hidden}).ValidateName(n); err != nil {
			return nil, fmt.Errorf("invalid name %q: %v", n, err)
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		p := path.Join(dir, n)
		if _, err := tree.Stat(ctx, p); err != nil {
			return nil, fmt.Errorf("no entry %q in this folder", n)
		}
		srcs = append(srcs, archive.Source{Tree: tree, Path: p, Name: n})
	}
	return srcs, nil
}
