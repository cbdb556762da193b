package fileserver

import (
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/ferry-sh/ferry/internal/compress"
	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/listing"
	"github.com/ferry-sh/ferry/internal/storage"
)

// sidecars are the precompressed copies a file may have beside it, by
// coding, in the order ferry prefers them when the client rates them alike.
var sidecars = []struct{ coding, ext string }{
	{compress.Zstd, ".zst"}, {compress.Br, ".br"}, {compress.Gzip, ".gz"},
}

var varyEncoding = []string{"Accept-Encoding"}

// servePrecompressed sends NAME.zst, NAME.br or NAME.gz in place of a
// text-like NAME when the client accepts that coding (caddy's
// precompressed): the coding as Content-Encoding, NAME's Content-Type, the
// copy's own ETag. A range asks for NAME's own bytes, and is left to it. It
// reports whether it answered.
func (s *Server) servePrecompressed(w http.ResponseWriter, r *http.Request, name string) bool {
	ae := r.Header["Accept-Encoding"]
	if ae == nil || r.Header["Range"] != nil {
		return false
	}
	ctype := TypeByExtension(name)
	if !compress.Compressible(ctype) {
		return false
	}
	accept := strings.Join(ae, ",")
	offers := []string{compress.Zstd, compress.Br, compress.Gzip}
	if compress.Negotiate(accept, offers...) == "" {
		return false
	}
	// Where a missed Open costs round trips to a store, one listing says
	// which copies exist; a local folder answers a missed open at once.
	var have map[string]bool
	if pl, ok := storage.As[storage.PrefixLister](s.tree); ok {
		names, complete, err := pl.ListPrefix(r.Context(), name+".", 100)
		if errors.Is(err, storage.ErrUnavailable) {
			httperr.FromFS(w, r, err)
			return true
		}
		if err == nil && complete {
			have = make(map[string]bool, len(names))
			for _, n := range names {
				have[n] = true
			}
		}
	}
	for len(offers) > 0 {
		coding := compress.Negotiate(accept, offers...)
		if coding == "" {
			return false
		}
		offers = removeString(offers, coding)
		alt := name + sidecarExt(coding)
		if !s.visible(alt) || have != nil && !have[alt] {
			continue
		}
		obj, err := s.tree.Open(r.Context(), alt)
		if errors.Is(err, storage.ErrUnavailable) {
			// A store that is down or hung answers no better for NAME:
			// asking again would make the client wait a second timeout.
			httperr.FromFS(w, r, err)
			return true
		}
		if err != nil {
			continue // absent, or a folder
		}
		// The copy stands for NAME only while NAME is there.
		if orig, err := s.tree.Stat(r.Context(), name); err != nil || orig.IsDir {
			obj.Close()
			return false
		}
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Content-Encoding", coding)
		h["Vary"] = append(h["Vary"], varyEncoding...)
		// The body is the copy's bytes as they are, so its length is
		// known; http.ServeContent leaves it out of any response with a
		// Content-Encoding (it cannot tell a coding that is done yet).
		// With it, a copy that fails or shrinks mid-way is a body short
		// of its length, which the client sees and the log calls cut
		// short, not a chunked stream ended as if whole. (A 304 or an
		// error page drops it.)
		h.Set("Content-Length", strconv.FormatInt(obj.Info().Size, 10))
		s.serveObject(w, r, obj, name, false)
		return true
	}
	return false
}

func sidecarExt(coding string) string {
	for _, s := range sidecars {
		if s.coding == coding {
			return s.ext
		}
	}
	return ""
}

func removeString(list []string, s string) []string {
	out := list[:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

// hideSidecars drops from a listing the precompressed copies of the files
// it shows (app.js.gz beside app.js): they are app.js, as sent to a client
// that accepts gzip. A .gz whose original is not a text-like file
// (backup.tar.gz beside backup.tar) is a file of its own and stays.
func hideSidecars(entries []listing.Entry) []listing.Entry {
	var files map[string]bool
	for _, e := range entries {
		if !e.IsDir && isSidecarName(e.Name) {
			files = make(map[string]bool, len(entries))
			break
		}
	}
	if files == nil {
		return entries
	}
	for _, e := range entries {
		if !e.IsDir {
			files[e.Name] = true
		}
	}
	out := entries[:0]
	for _, e := range entries {
		if !e.IsDir && isSidecarName(e.Name) {
			orig := e.Name[:strings.LastIndexByte(e.Name, '.')]
			if files[orig] && compress.Compressible(TypeByExtension(orig)) {
				continue
			}
		}
		out = append(out, e)
	}
	return out
}

func isSidecarName(n string) bool {
	for _, s := range sidecars {
		if strings.HasSuffix(n, s.ext) && len(n) > len(s.ext) {
			return true
		}
	}
	return false
}

// serveMissing answers a GET or HEAD for a name that does not exist:
// NAME.html when it does (pretty URLs: /about serves about.html), else
// with SPA and a client that wants HTML, the root's index.html. It reports
// whether it answered.
func (s *Server) serveMissing(w http.ResponseWriter, r *http.Request, name string, dir bool, err error) bool {
	if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, storage.ErrNotDir) {
		return false
	}
	if !dir && name != "." && !strings.HasSuffix(name, ".html") && s.serveRegular(w, r, name+".html") {
		return true
	}
	if s.opts.SPA && acceptsHTML(r) {
		return s.serveRegular(w, r, "index.html")
	}
	return false
}

// serveRegular sends the regular file name when it exists; false when it
// does not.
func (s *Server) serveRegular(w http.ResponseWriter, r *http.Request, name string) bool {
	if !s.visible(name) {
		return false
	}
	obj, err := s.tree.Open(r.Context(), name)
	if err != nil {
		return false // absent, or a folder
	}
	s.serveObject(w, r, obj, name, false)
	return true
}

// acceptsHTML reports whether the request's Accept names text/html, as a
// browser's navigation does (a script's fetch of a missing JSON does not).
func acceptsHTML(r *http.Request) bool {
	for _, v := range r.Header["Accept"] {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(mt), "text/html") {
				return true
			}
		}
	}
	return false
}
