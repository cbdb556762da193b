package ferry

import (
	"net/http"

	"github.com/ferry-sh/ferry/internal/listing"
	"github.com/ferry-sh/ferry/internal/preview"
)

// openPage sets up what the listing page offers beyond the listing itself:
// READMEs, the viewer's Markdown and the grid's thumbnails. They read the
// tree through the policy layer, so they see exactly what a download may.
func (h *Handler) openPage() {
	h.preview = preview.New(h.tree, preview.Options{
		Thumbnails: !h.opts.NoThumbnails, Logger: h.opts.Logger,
	})
}

// readme is the file server's hook for a folder's README.
func (h *Handler) readme(r *http.Request, dir string, entries []listing.Entry) *listing.Readme {
	return h.preview.Readme(r.Context(), dir, entries)
}

// servePreview answers ?thumb and ?preview of a file; it reports false for
// any other request, which then goes on as usual.
func (h *Handler) servePreview(w http.ResponseWriter, r *http.Request, name string, dir bool) bool {
	if h.preview == nil || dir || r.URL.RawQuery == "" {
		return false
	}
	what := preview.Query(r.URL.RawQuery)
	if what == "" {
		return false
	}
	h.preview.Serve(w, r, name, what)
	return true
}
