// Package fileserver answers GET and HEAD for the served tree: the slash
// redirect, index files, listings, archives and files through
// http.ServeContent (ranges and preconditions).
package fileserver

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/listing"
	"github.com/ferry-sh/ferry/internal/qrcode"
	"github.com/ferry-sh/ferry/internal/search"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/transfer"
)

// Options shape what GET shows.
type Options struct {
	NoListing bool
	// Can tells the listing page which write controls to offer.
	Can listing.Capabilities
	// Archive streams a folder for ?zip, ?tar and ?tar.gz; nil answers those
	// with the listing as if the query were absent.
	Archive func(w http.ResponseWriter, r *http.Request, dir string, format string)
	// Hash answers ?hash=ALG on a file with its checksum; nil serves the
	// file as if the query were absent.
	Hash func(w http.ResponseWriter, r *http.Request, f storage.Object, name string)
	// Only, when not nil, restricts the tree to these top-level names (sharing
	// named files): everything else is absent.
	Only map[string]bool
	// Sandbox serves files with "Content-Security-Policy: sandbox". It is
	// for servers where a file's script could do harm at ferry's origin:
	// ones that accept writes or hold credentials. A plain read-only share
	// leaves it off, so a static site's own scripts run, as they do under
	// python -m http.server.
	Sandbox bool
	// Keep, when not nil, gives for a request the paths (relative to the
	// root) its client may see; search results show no others.
	Keep func(r *http.Request) func(name string) bool
	// Search bounds ?q= searches; zero values take search.DefaultLimits.
	Search search.Limits
	// Digest, when set, gives a file's Repr-Digest when its digest is
	// known without reading it ("" otherwise).
	Digest func(obj storage.Object, name string) string
	// Precompressed sends a text-like file's NAME.zst, NAME.br or NAME.gz
	// in its place to a client that accepts that coding, and leaves those
	// copies out of listings.
	Precompressed bool
	// SPA answers a GET for a missing path that wants HTML with the root's
	// index.html (a single-page app's router takes it from there).
	SPA bool
	// Links are the server's own URLs, for the QR code of a page opened
	// through a loopback name; nil knows none.
	Links *qrcode.Links
	// Readme renders a folder's README for its HTML listing, nil when it
	// has none. Nil shows none.
	Readme func(r *http.Request, dir string, entries []listing.Entry) *listing.Readme
	// RootName names the root on listing pages ("" is "Home").
	RootName string
}

// Server serves reads from a storage tree.
type Server struct {
	tree  storage.Tree
	opts  Options
	files *openFiles // nil where the platform offers no cache
}

// New returns a Server over tree, the policy-wrapped backend.
func New(tree storage.Tree, opts Options) *Server {
	return &Server{tree: tree, opts: opts, files: newOpenFiles()}
}

// Serve answers GET or HEAD for the clean relative name; dir reports
// whether the request path ended in a slash.
func (s *Server) Serve(w http.ResponseWriter, r *http.Request, name string, dir bool) {
	if !s.visible(name) {
		httperr.Write(w, r, http.StatusNotFound, "")
		return
	}
	// ?hash reads the file through its own offset, so it never gets a
	// shared descriptor.
	hash := s.opts.Hash != nil && r.URL.RawQuery != "" && r.URL.Query().Has("hash")
	if !dir && !hash && s.opts.Precompressed && s.servePrecompressed(w, r, name) {
		return
	}
	if !dir && !hash && s.files != nil {
		if e := s.files.get(r, name); e != nil {
			s.setDigest(w, e.obj, name)
			if !s.servePlain(w, r, e) && !s.serveRange(w, r, e) {
				s.serveFile(w, r, e.obj.Share(), e.info, name, e.etag)
			}
			s.files.release(e)
			return
		}
	}
	obj, err := s.tree.Open(r.Context(), name)
	if errors.Is(err, storage.ErrIsDir) {
		if !dir {
			redirect(w, r, "./"+url.PathEscape(path.Base(name))+"/")
			return
		}
		s.serveDir(w, r, name)
		return
	}
	if err != nil {
		if !s.serveMissing(w, r, name, dir, err) {
			httperr.FromFS(w, r, err)
		}
		return
	}
	if dir {
		// "/file.txt/" names a file as if it were a folder; point at the file.
		obj.Close()
		redirect(w, r, "../"+url.PathEscape(path.Base(name)))
		return
	}
	if hash {
		defer obj.Close()
		s.opts.Hash(w, r, obj, name)
		return
	}
	s.serveObject(w, r, obj, name, true)
}

// serveObject sends an opened file and closes it, or hands it to the cache
// of open descriptors (with cache set, where the backend offers one: a
// local file, which then serves this request as a shared reader).
func (s *Server) serveObject(w http.ResponseWriter, r *http.Request, obj storage.Object, name string, cache bool) {
	info := obj.Info()
	s.setDigest(w, obj, name)
	if cache && s.files != nil && cacheable(r, info) {
		if e := s.files.put(name, obj); e != nil {
			defer s.files.release(e)
			s.serveFile(w, r, e.obj.Share(), info, name, e.etag)
			return
		}
	}
	defer obj.Close()
	var content io.ReadSeeker = obj
	if h, ok := obj.(hinter); ok {
		// A store read over the network: a single range is announced, so
		// that it costs one GET of exactly that range.
		if n, ok := singleRangeLength(r.Header.Get("Range"), info.Size); ok {
			h.Hint(n)
		}
		content = &remoteContent{Object: obj}
	}
	s.serveFile(w, r, content, info, name, nil)
	if rc, ok := content.(*remoteContent); ok && rc.failed && r.Context().Err() == nil {
		// The store broke off after the headers went out. Ending the
		// response normally would hand the client a truncated file as a
		// whole one (a compressed, chunked response above all); breaking
		// it off makes the client see the cut, and the log says so.
		panic(http.ErrAbortHandler)
	}
}

// hinter is an object of a store read over the network (S3), told how many
// bytes the first read from its position will want.
type hinter interface{ Hint(n int64) }

// setDigest announces the file's digest when it is known (RFC 9530), so
// that a client can check what it received.
func (s *Server) setDigest(w http.ResponseWriter, obj storage.Object, name string) {
	if s.opts.Digest == nil {
		return
	}
	if d := s.opts.Digest(obj, name); d != "" {
		w.Header().Set("Repr-Digest", d)
	}
}

// Close releases the cached descriptors.
func (s *Server) Close() { s.files.close() }

func (s *Server) visible(name string) bool {
	if s.opts.Only == nil || name == "." {
		return true
	}
	top, _, _ := strings.Cut(name, "/")
	return s.opts.Only[top]
}

// Header values every file response carries, shared read-only: assigning
// them spares Header.Set a slice per header per request.
var (
	nosniff = []string{"nosniff"}
	// Where a user's HTML or SVG must not run script with ferry's origin,
	// the sandbox gives it an opaque origin of its own.
	sandbox = []string{"sandbox"}
	// Except a PDF: Chromium will not start its PDF viewer in a sandboxed
	// document, and the viewer runs a PDF's script in its own process,
	// with no reach into ferry's origin; it may still only be framed by
	// ferry's own pages (the viewer).
	pdfPolicy = []string{"frame-ancestors 'self'"}
	pdfType   = "application/pdf"
)

var acceptRanges = []string{"bytes"}

var bodyBufs = sync.Pool{New: func() any { b := make([]byte, transfer.SmallBody); return &b }}

// servePlain answers the plainest request for a small cached file, a GET or
// HEAD without preconditions or ranges, with the header values computed when
// the file was cached: the response http.ServeContent would give (the same
// headers and body), without formatting them again. It returns false, having
// written nothing, for any other request.
func (s *Server) servePlain(w http.ResponseWriter, r *http.Request, e *openFile) bool {
	size := e.info.Size
	rh := r.Header
	if r.Method != http.MethodGet && r.Method != http.MethodHead ||
		e.ctype == nil || e.lastModified == nil || size > transfer.SmallBody ||
		rh["Range"] != nil || rh["If-Match"] != nil || rh["If-None-Match"] != nil ||
		rh["If-Modified-Since"] != nil || rh["If-Unmodified-Since"] != nil {
		return false
	}
	h := w.Header()
	if h["Content-Encoding"] != nil || h["Content-Type"] != nil {
		return false // ServeContent treats these specially
	}
	if r.Method == http.MethodGet {
		transfer.FromContext(r.Context()).Describe(transfer.KindFile, size)
	}
	s.cachedHeaders(h, e)
	h["Content-Length"] = e.length
	writeCached(w, r, e, http.StatusOK, 0, size)
	return true
}

// cachedHeaders sets the headers every response of a cached file carries,
// from the values computed when it was cached (servePlain, serveRange).
func (s *Server) cachedHeaders(h http.Header, e *openFile) {
	h["Etag"] = e.etag
	h["X-Content-Type-Options"] = nosniff
	if s.opts.Sandbox {
		h["Content-Security-Policy"] = sandboxFor(e.ctype[0])
	}
	h["Last-Modified"] = e.lastModified
	h["Content-Type"] = e.ctype
	h["Accept-Ranges"] = acceptRanges
}

// writeCached sends status and, for a GET, length bytes of the cached
// file from off, read with one pread into a pooled buffer (length is at
// most transfer.SmallBody).
func writeCached(w http.ResponseWriter, r *http.Request, e *openFile, status int, off, length int64) {
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	bp := bodyBufs.Get().(*[]byte)
	n, _ := e.obj.ReadAt((*bp)[:length], off)
	// A file that shrank since its stat leaves the body short of its
	// Content-Length, and net/http then closes the connection, as it does
	// after ServeContent.
	w.Write((*bp)[:n])
	bodyBufs.Put(bp)
}

// serveFile sends a regular file through http.ServeContent (ranges and
// preconditions); etag is the precomputed header value or nil.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, c io.ReadSeeker, info storage.Info, name string, etag []string) {
	tr := transfer.FromContext(r.Context())
	if r.Method == http.MethodGet {
		tr.Describe(transfer.KindFile, info.Size)
	}
	if etag == nil {
		etag = []string{ETag(info)}
	}
	h := w.Header()
	h["Etag"] = etag
	h["X-Content-Type-Options"] = nosniff
	if s.opts.Sandbox {
		h["Content-Security-Policy"] = sandboxFor(TypeByExtension(name))
	}
	if ct, ok := typeOverrides[strings.ToLower(path.Ext(name))]; ok && h["Content-Type"] == nil {
		h["Content-Type"] = ct
	}
	http.ServeContent(httperr.ServeContent(w, r, info.Size), withRange(r, info.Size), name, info.ModTime, c)
}

func sandboxFor(ctype string) []string {
	if ctype == pdfType {
		return pdfPolicy
	}
	return sandbox
}

// typeOverrides fix extensions where Go's built-in table or a system's
// mime.types disagree with what browsers and Python's http.server use.
var typeOverrides = map[string][]string{
	".webm": {"video/webm"},
	".ts":   {"video/mp2t"},
	".mjs":  {"text/javascript; charset=utf-8"},
	".md":   {"text/markdown; charset=utf-8"},
}

// TypeByExtension is the Content-Type ferry sends for a file name, "" when
// the extension does not tell (the content is then sniffed).
func TypeByExtension(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if ct, ok := typeOverrides[ext]; ok {
		return ct[0]
	}
	return mime.TypeByExtension(ext)
}

// ETag is the strong validator of a file: the store's own where it keeps
// one (an object store's ETag), else one from size and modification time,
// as Caddy does, cheaper than hashing and changed whenever the content
// could have been.
func ETag(info storage.Info) string {
	if info.ETag != "" {
		return info.ETag
	}
	b := make([]byte, 0, 40)
	b = append(b, '"')
	b = strconv.AppendInt(b, info.ModTime.UnixNano(), 36)
	b = append(b, '-')
	b = strconv.AppendInt(b, info.Size, 36)
	b = append(b, '"')
	return string(b)
}

func (s *Server) serveDir(w http.ResponseWriter, r *http.Request, name string) {
	q := r.URL.Query()
	if s.opts.Archive != nil {
		for _, format := range []string{"zip", "tar", "tar.gz"} {
			if q.Has(format) {
				s.opts.Archive(w, r, name, format)
				return
			}
		}
	}
	if s.serveIndex(w, r, name) {
		return
	}
	if s.opts.NoListing {
		httperr.Write(w, r, http.StatusNotFound, "")
		return
	}
	if q.Has("q") {
		// Where a listing is shown, and only there: a site's own index
		// page may take ?q= for a search of its own.
		s.serveSearch(w, r, name, q.Get("q"))
		return
	}
	page := listing.Page{Path: "/", Can: s.opts.Can, Sort: listing.ParseSort(q), RootName: s.opts.RootName}
	if name != "." {
		page.Path = "/" + name + "/"
	}
	// The page is sorted, so every entry is held; each is just its name,
	// size and time, in a slice reused from earlier listings: the listing
	// streams, so its length is not known in advance.
	ep := entryBufs.Get().(*[]listing.Entry)
	defer putEntries(ep, &page)
	page.Entries = (*ep)[:0]
	// A page a person reads may come from the backend's listing cache,
	// where one was asked for (an object store's, bounded in age and never
	// stale for this node's own writes).
	for e, err := range s.tree.List(storage.ForPage(r.Context()), name) {
		if err != nil {
			httperr.FromFS(w, r, err)
			return
		}
		if s.opts.Only != nil && name == "." && !s.opts.Only[e.Name] {
			continue
		}
		page.Entries = append(page.Entries, listing.Entry{Name: e.Name, IsDir: e.IsDir, Size: e.Size, ModTime: e.ModTime})
	}
	if s.opts.Precompressed {
		page.Entries = hideSidecars(page.Entries)
	}
	page.QR = s.opts.Links.PageURL(r, page.Path)
	if s.opts.Readme != nil && !wantsJSON(r, q) && r.Method == http.MethodGet {
		page.Readme = s.opts.Readme(r, name, page.Entries)
	}
	WritePage(w, r, &page)
}

var entryBufs = sync.Pool{New: func() any { b := make([]listing.Entry, 0, 64); return &b }}

// putEntries returns a listing's entries for reuse, without the names they
// hold; the slices of very large folders are left to the collector.
func putEntries(ep *[]listing.Entry, page *listing.Page) {
	if cap(page.Entries) > 16<<10 {
		return
	}
	clear(page.Entries)
	*ep = page.Entries[:0]
	entryBufs.Put(ep)
}

// WritePage sorts and renders a listing as JSON (?format=json or Accept) or
// HTML into a buffer first, so a render error is a clean 500, then sends it.
func WritePage(w http.ResponseWriter, r *http.Request, page *listing.Page) {
	page.Sort.Apply(page.Entries)
	buf := getBuffer()
	defer putBuffer(buf)
	// Pooled buffers over 1 MiB are dropped, so size a big page up front
	// rather than growing it by doubling: a row is its name twice (text
	// and link) and under 100 bytes of markup (listing's writeRows), the
	// frame with its inline stylesheet about 30 KB.
	size := 32 << 10
	for i := range page.Entries {
		size += 2*len(page.Entries[i].Name) + 96
	}
	buf.Grow(size)
	h := w.Header()
	var err error
	if wantsJSON(r, r.URL.Query()) {
		err = page.WriteJSON(buf)
		h.Set("Content-Type", "application/json")
	} else {
		err = page.WriteHTML(buf)
		h.Set("Content-Type", "text/html; charset=utf-8")
		SetPageHeaders(h)
	}
	if err != nil {
		httperr.Write(w, r, http.StatusInternalServerError, "")
		return
	}
	h.Set("Vary", "Accept")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// SetPageHeaders sets the security headers of ferry's own HTML pages: scripts
// and styles only from ferry's embedded assets, no framing, no referrer leak.
func SetPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", listing.PageCSP())
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request, dir string) bool {
	for _, index := range []string{"index.html", "index.htm"} {
		name := path.Join(dir, index)
		obj, err := s.tree.Open(r.Context(), name)
		if errors.Is(err, storage.ErrUnavailable) {
			httperr.FromFS(w, r, err)
			return true
		}
		if err != nil {
			continue // absent, or a folder
		}
		s.serveObject(w, r, obj, name, false)
		return true
	}
	return false
}

func wantsJSON(r *http.Request, q url.Values) bool {
	if q.Get("format") == "json" {
		return true
	}
	return httperr.WantsJSON(r)
}

// redirect answers 301 with a relative, already escaped Location, so it stays
// right however the handler is mounted; the query is kept.
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusMovedPermanently)
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 1<<20 {
		return // a huge listing's buffer is not worth keeping
	}
	b.Reset()
	bufPool.Put(b)
}
