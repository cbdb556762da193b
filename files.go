package ferry

import (
	"errors"
	"net/http"
	"path/filepath"

	"github.com/ferry-sh/ferry/internal/archive"
	"github.com/ferry-sh/ferry/internal/checksum"
	"github.com/ferry-sh/ferry/internal/fileserver"
	"github.com/ferry-sh/ferry/internal/jobs"
	"github.com/ferry-sh/ferry/internal/listing"
	"github.com/ferry-sh/ferry/internal/qrcode"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/share"
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
	policy := rootfs.Policy{Hidden: opts.Hidden, FollowSymlinks: opts.FollowSymlinks}
	links := new(qrcode.Links)
	lim := jobs.NewDefault()
	sums := checksum.NewService(lim)
	sh, err := share.Open(paths, policy, fileserver.Options{
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
// folder's contents, so --no-listing turns it off too.
func archiveHook(fsys *rootfs.FS, opts Options, lim *jobs.Limiter) func(http.ResponseWriter, *http.Request, string, string) {
	if opts.NoListing {
		return nil
	}
	return archive.Hook(fsys, filepath.Base(fsys.Dir()), lim)
}
