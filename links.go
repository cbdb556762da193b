package ferry

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/ferry-sh/ferry/internal/fileserver"
	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/jobs"
	"github.com/ferry-sh/ferry/internal/listing"
	"github.com/ferry-sh/ferry/internal/preview"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/sharelink"
	"github.com/ferry-sh/ferry/internal/status"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/transfer"
)

// Share links (issue 14): with --auth, a user who may read a file or folder
// makes a link that opens it without credentials until it expires, and for
// a number of complete downloads when asked (POST /.ferry/shares). The
// link is served at /.ferry/s/TOKEN/ as if the shared entry were the root
// of a read-only server: its listing, its files, ?zip of it, thumbnails
// and previews, and nothing beside it.

// sharesOn reports whether the options make share links.
func sharesOn(opts Options, rules int) bool {
	return rules > 0 && (opts.ShareSecretFile != "" || len(opts.ShareSecret) > 0)
}

// openLinks sets up share links, their records kept in the backend's
// reserved area (shared by every node of an object store).
func (h *Handler) openLinks(lim *jobs.Limiter) error {
	state := h.stateTree()
	secret := sharelink.SecretFile(h.opts.ShareSecretFile)
	if len(h.opts.ShareSecret) > 0 {
		key := h.opts.ShareSecret
		secret = func() ([]byte, error) {
			if len(key) < sharelink.MinSecret {
				return nil, errors.New("share links: the secret is shorter than 16 bytes")
			}
			return key, nil
		}
	}
	h.shares = sharelink.New(state, secret)
	h.lim = lim
	h.shareAPI = &sharelink.API{
		Links: h.shares, Tree: h.tree, Logger: h.opts.Logger,
		User:  func(r *http.Request) string { return transfer.FromContext(r.Context()).User },
		Reads: func(r *http.Request, p string) bool { return h.auth.Access(r).Reads(p) },
	}
	return nil
}

// stateTree is the backend below the policy layer, where ferry keeps its
// own state under .ferry/ (WebDAV's locks and properties, share links), out
// of clients' sight: on an object store the bucket itself, so that every
// node shares it.
func (h *Handler) stateTree() storage.Tree {
	return h.tree.(storage.Wrapper).Unwrap()
}

// serveShares answers /.ferry/shares (the API); rest follows "shares".
func (h *Handler) serveShares(w http.ResponseWriter, r *http.Request, rest string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if err := h.xorigin.Check(r); err != nil {
			httperr.Write(w, r, http.StatusForbidden, "cross-origin request refused")
			return
		}
	}
	h.shareAPI.Serve(w, r, rest)
}

// serveLink answers a request under /.ferry/s/; rest follows "s/".
func (h *Handler) serveLink(w http.ResponseWriter, r *http.Request, rest string) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		notAllowed(w, r, "GET, HEAD, OPTIONS")
		return
	}
	token, tail, slash := strings.Cut(rest, "/")
	if !slash {
		target := "./" + url.PathEscape(token) + "/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", target)
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	// The page's own assets and QR code, below the link as below any
	// mount point; public, as everywhere.
	sub := stripTo(r, tail)
	if strings.HasPrefix(tail, rootfs.Reserved+"/") {
		switch own := strings.TrimPrefix(tail, rootfs.Reserved+"/"); {
		case strings.HasPrefix(own, "assets/"):
			sub.URL.Path, sub.URL.RawPath = strings.TrimPrefix(own, "assets/"), ""
			listing.AssetHandler().ServeHTTP(w, sub)
		case own == "qr.svg":
			h.links.Serve(w, sub)
		default:
			httperr.Write(w, r, http.StatusNotFound, "")
		}
		return
	}
	link, err := h.shares.Lookup(r.Context(), token)
	switch {
	case errors.Is(err, sharelink.ErrInvalid):
		httperr.Write(w, r, http.StatusNotFound, err.Error())
		return
	case errors.Is(err, sharelink.ErrExpired):
		httperr.Write(w, r, http.StatusGone, err.Error())
		return
	case err != nil:
		h.linkFailed(w, r, err)
		return
	}
	name, dir, err := rootfs.ParseURLPath("/" + tail)
	if err != nil {
		httperr.Write(w, r, http.StatusBadRequest, "invalid path")
		return
	}
	view := sharelink.Sub(h.tree, link)
	real, ok := view.Real(name)
	if !ok && name != "." {
		httperr.Write(w, r, http.StatusNotFound, "")
		return
	}
	tr := transfer.FromContext(r.Context())
	if ok {
		// The status page, the log's summary and --once know the file, not
		// the token (which would let whoever sees them use the link).
		tr.Path = "/" + strings.TrimPrefix(real, ".")
	}
	if what := preview.Query(r.URL.RawQuery); what != "" && !dir && h.preview != nil && ok {
		h.preview.Serve(w, sub, real, what)
		return
	}
	if link.Downloads > 0 && r.Method == http.MethodGet && h.linkDownload(r.Context(), view, name, dir, r.URL.Query()) {
		slot, err := h.shares.Claim(r.Context(), link)
		switch {
		case errors.Is(err, sharelink.ErrUsedUp):
			httperr.Write(w, r, http.StatusGone, err.Error())
			return
		case errors.Is(err, sharelink.ErrBusy):
			w.Header().Set("Retry-After", "30")
			httperr.Write(w, r, http.StatusTooManyRequests, err.Error())
			return
		case err != nil:
			h.linkFailed(w, r, err)
			return
		}
		// Counted as --exit-after counts: a whole file or archive the
		// client acknowledged. A limited link sends whole files only (no
		// ranges), so that pieces cannot add up to a copy it never
		// counted; a download cut short gives its slot back.
		sub.Header.Del("Range")
		sub.Header.Del("If-Range")
		tr.AfterDecided(func(outcome string, whole bool) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := h.shares.Done(ctx, slot, outcome == transfer.Complete && whole); err != nil && h.opts.Logger != nil {
				h.opts.Logger.Warn("share link: recording a download", "err", err)
			}
		})
	}
	srv := fileserver.New(view, fileserver.Options{
		Can:     listing.Capabilities{Archive: true, Thumbnails: !h.opts.NoThumbnails && h.preview != nil},
		Archive: archiveHook(view, linkRootName(link), h.opts, h.lim),
		Readme: func(r *http.Request, dir string, entries []listing.Entry) *listing.Readme {
			if h.preview == nil {
				return nil
			}
			real, ok := view.Real(dir)
			if !ok {
				return nil
			}
			return h.preview.Readme(r.Context(), real, entries)
		},
		// Whoever opens a link holds no credentials, but the origin still
		// serves writers: files keep their sandbox.
		Sandbox:       true,
		Links:         h.links,
		Precompressed: !h.opts.NoCompress,
		RootName:      linkPageName(link),
	})
	defer srv.Close()
	srv.Serve(w, sub, name, dir)
}

// statusShares puts the viewer's own share links on the status page.
func (h *Handler) statusShares(r *http.Request, rep *status.Report) {
	if h.shares == nil {
		return
	}
	user := transfer.FromContext(r.Context()).User
	if user == "" {
		return
	}
	links, err := h.shares.List(r.Context(), user)
	if err != nil {
		return
	}
	for _, l := range links {
		s := sharelink.Show(r, l)
		rep.Shares = append(rep.Shares, status.Share{ID: l.ID, Path: l.Path, URL: s.URL, Expires: l.Expires, Downloads: l.Downloads, Used: l.Used})
	}
}

// linkDownload reports whether a GET through a link sends a file or an
// archive (what a limited link counts), not a listing.
func (h *Handler) linkDownload(ctx context.Context, view storage.Tree, name string, dir bool, q url.Values) bool {
	if dir {
		return q.Has("zip") || q.Has("tar") || q.Has("tar.gz")
	}
	info, err := view.Stat(ctx, name)
	return err == nil && !info.IsDir
}

func (h *Handler) linkFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, storage.ErrUnavailable) {
		httperr.Note(w, httperr.CauseStorage)
		httperr.Write(w, r, http.StatusServiceUnavailable, "the store is not answering; try again later")
		return
	}
	if h.opts.Logger != nil {
		h.opts.Logger.Warn("share link", "err", err)
	}
	httperr.Write(w, r, http.StatusServiceUnavailable, "share links are not available on this server now")
}

// linkPageName names the root of a link's pages: the shared folder, which
// is what its recipient was sent ("Home" would suggest the whole server).
func linkPageName(l sharelink.Link) string {
	if !l.Dir() {
		return "Shared file"
	}
	if l.Name() == "." {
		return "Shared folder"
	}
	return path.Base(l.Name())
}

// linkRootName names a link's archive: the shared folder's name.
func linkRootName(l sharelink.Link) string {
	if l.Name() == "." {
		return "files"
	}
	return path.Base(l.Name())
}

// stripTo is r as a handler mounted at the link sees it: its path is tail
// (below the token), and mount.Prefix gives the link's own URL, so that
// redirects, the page's links and the QR code stay inside the link.
func stripTo(r *http.Request, tail string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + tail
	r2.URL.RawPath = ""
	return r2
}
