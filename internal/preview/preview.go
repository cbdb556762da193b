// Package preview shows files in the page without downloading them: the
// README of a folder rendered below its listing, Markdown rendered for the
// viewer (?preview), and image thumbnails for the grid (?thumb), made on
// demand with bounded CPU and memory and cached by file identity and time.
// It reads through the storage interface, so it works on every backend.
package preview

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/listing"
	"github.com/ferry-sh/ferry/internal/storage"
)

// Options bound the work previews may cause.
type Options struct {
	// Thumbnails turns ?thumb on.
	Thumbnails bool
	// Workers is how many thumbnails are made at once (default: 2, or 1 on
	// a one-core machine): the rest wait their turn, so a grid of a
	// thousand photos never takes more than that many cores.
	Workers int
	// MaxPixels refuses images larger than this when decoded (default 50
	// million: a 50-megapixel photo; its decoding needs about 75 MiB).
	MaxPixels int64
	// MaxSource refuses image files larger than this (default 100 MiB).
	MaxSource int64
	// CacheBytes bounds the thumbnails kept in memory (default 32 MiB).
	CacheBytes int64
	Logger     *slog.Logger
}

// MaxText bounds the Markdown rendered for a README or the viewer.
const MaxText = 1 << 20

// Server answers ?thumb and ?preview and renders READMEs.
type Server struct {
	tree  storage.Tree
	opts  Options
	sem   chan struct{}
	cache *cache

	mu     sync.Mutex
	flying map[string]*flight

	generated, hits, refused atomic.Int64
	busy, peak               atomic.Int64
}

// New makes a Server reading tree (the policy layer's view: what clients
// may see).
func New(tree storage.Tree, opts Options) *Server {
	if opts.Workers <= 0 {
		opts.Workers = min(2, runtime.GOMAXPROCS(0))
	}
	if opts.MaxPixels <= 0 {
		opts.MaxPixels = 50_000_000
	}
	if opts.MaxSource <= 0 {
		opts.MaxSource = 100 << 20
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 32 << 20
	}
	return &Server{
		tree: tree, opts: opts,
		sem:    make(chan struct{}, opts.Workers),
		cache:  newCache(opts.CacheBytes),
		flying: map[string]*flight{},
	}
}

// Query names the preview a GET's raw query asks for: "thumb", "preview" or
// "" for none. Only the bare keys count ("?thumb", "?preview").
func Query(rawQuery string) string {
	switch rawQuery {
	case "thumb", "thumb=":
		return "thumb"
	case "preview", "preview=":
		return "preview"
	}
	return ""
}

// Serve answers GET or HEAD of ?thumb or ?preview on the file name.
func (s *Server) Serve(w http.ResponseWriter, r *http.Request, name, what string) {
	if what == "thumb" && !s.opts.Thumbnails {
		httperr.Write(w, r, http.StatusNotFound, "thumbnails are off on this server")
		return
	}
	info, err := s.tree.Stat(r.Context(), name)
	switch {
	case err != nil:
		s.fail(w, r, err)
		return
	case info.IsDir:
		httperr.Write(w, r, http.StatusBadRequest, "a folder has no preview")
		return
	}
	tag := etag(info)
	if what == "thumb" {
		s.serveThumb(w, r, name, info, tag)
		return
	}
	s.serveMarkdown(w, r, name, info, tag)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case isRefusal(err):
		httperr.Write(w, r, http.StatusUnprocessableEntity, err.Error())
	case errors.Is(err, fs.ErrNotExist):
		httperr.Write(w, r, http.StatusNotFound, "")
	case errors.Is(err, fs.ErrPermission):
		// A file the tree withholds (a CGI folder's, through a link).
		httperr.Write(w, r, http.StatusForbidden, "")
	case errors.Is(err, storage.ErrUnavailable):
		httperr.Note(w, httperr.CauseStorage)
		httperr.Write(w, r, http.StatusServiceUnavailable, "the store is not answering; try again later")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		httperr.Write(w, r, http.StatusServiceUnavailable, "")
	default:
		if s.opts.Logger != nil {
			s.opts.Logger.Warn("preview failed", "path", r.URL.Path, "err", err)
		}
		httperr.Write(w, r, http.StatusInternalServerError, "")
	}
}

// etag is the file's validator as the file server sends it: the store's own,
// or one from modification time and size.
func etag(info storage.Info) string {
	if info.ETag != "" {
		return info.ETag
	}
	b := make([]byte, 0, 40)
	b = append(b, '"')
	b = strconv.AppendInt(b, info.ModTime.UnixNano(), 36)
	b = append(b, '-')
	b = strconv.AppendInt(b, info.Size, 36)
	return string(append(b, '"'))
}

// derived is the validator of something made from a file with validator
// tag: it changes exactly when the file does.
func derived(kind, tag string) string {
	return `"` + kind + "-" + strings.Trim(strings.TrimPrefix(tag, "W/"), `"`) + `"`
}

func notModified(r *http.Request, tag string) bool {
	inm := r.Header.Get("If-None-Match")
	if inm == "" {
		return false
	}
	for t := range strings.SplitSeq(inm, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == tag {
			return true
		}
	}
	return false
}

func (s *Server) serveThumb(w http.ResponseWriter, r *http.Request, name string, info storage.Info, tag string) {
	if !Thumbable(name) {
		httperr.Write(w, r, http.StatusUnsupportedMediaType, "thumbnails are made of JPEG, PNG and GIF images")
		return
	}
	tag = derived("thumb", tag)
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", tag)
	if notModified(r, tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	t, how, err := s.thumbnail(r.Context(), name, info, tag)
	if err == nil {
		err = t.err
	}
	if err != nil {
		if isRefusal(err) {
			s.refused.Add(1)
		}
		s.fail(w, r, err)
		return
	}
	h.Set("Content-Type", t.ctype)
	h.Set("Content-Length", strconv.Itoa(len(t.data)))
	h.Set("X-Content-Type-Options", "nosniff")
	// Whether it was made now or came from the cache, for whoever wonders
	// why one took longer (browsers show it with the request's timing).
	h.Set("Server-Timing", "thumb;desc="+how)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(t.data)
	}
}

// thumbnail finds a thumbnail in the cache, waits for one being made, or
// makes it, at most Workers at a time.
func (s *Server) thumbnail(ctx context.Context, name string, info storage.Info, tag string) (*thumb, string, error) {
	key := name + "\x00" + tag
	var f *flight
	for f == nil {
		if t, ok := s.cache.get(key); ok {
			s.hits.Add(1)
			return t, "cached", nil
		}
		s.mu.Lock()
		other, ok := s.flying[key]
		if !ok {
			f = &flight{done: make(chan struct{})}
			s.flying[key] = f
		}
		s.mu.Unlock()
		if !ok {
			break
		}
		select {
		case <-other.done:
			// The client that was making it may have gone away
			// meanwhile: then try again, for this one.
			if e := other.t.err; e == nil || isRefusal(e) {
				s.hits.Add(1)
				return other.t, "shared", nil
			}
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
	}
	defer func() {
		s.mu.Lock()
		delete(s.flying, key)
		s.mu.Unlock()
		close(f.done)
	}()

	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		f.t = &thumb{err: ctx.Err()}
		return nil, "", ctx.Err()
	}
	n := s.busy.Add(1)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	start := time.Now()
	f.t = s.makeThumb(ctx, name, info)
	s.busy.Add(-1)
	<-s.sem
	if f.t.err == nil || isRefusal(f.t.err) {
		// A refusal is the file's and stays until it changes; other
		// errors (a store hiccup, a client gone) may pass.
		s.cache.put(key, f.t)
		s.generated.Add(1)
	}
	return f.t, "generated;dur=" + strconv.FormatFloat(float64(time.Since(start).Microseconds())/1000, 'f', 1, 64), nil
}

// Stats are the thumbnail figures, for the status page.
type Stats struct {
	Enabled    bool  `json:"enabled"`
	Generated  int64 `json:"generated"`
	CacheHits  int64 `json:"cache_hits"`
	Refused    int64 `json:"refused"`
	Busy       int64 `json:"busy"`
	PeakBusy   int64 `json:"peak_busy"`
	Workers    int   `json:"workers"`
	CacheBytes int64 `json:"cache_bytes"`
}

// Stats returns the figures so far.
func (s *Server) Stats() Stats {
	return Stats{
		Enabled: s.opts.Thumbnails, Generated: s.generated.Load(), CacheHits: s.hits.Load(),
		Refused: s.refused.Load(), Busy: s.busy.Load(), PeakBusy: s.peak.Load(),
		Workers: s.opts.Workers, CacheBytes: s.cache.bytes(),
	}
}

// serveMarkdown answers ?preview of a Markdown file with its rendering, an
// HTML fragment for the page's viewer.
func (s *Server) serveMarkdown(w http.ResponseWriter, r *http.Request, name string, info storage.Info, tag string) {
	if !isMarkdown(name) {
		httperr.Write(w, r, http.StatusUnsupportedMediaType, "previews are made of Markdown files")
		return
	}
	if info.Size > MaxText {
		httperr.Write(w, r, http.StatusUnprocessableEntity, "too large to preview (more than 1 MiB)")
		return
	}
	tag = derived("md", tag)
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", tag)
	if notModified(r, tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	src, err := s.read(r.Context(), name, MaxText)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := RenderMarkdown(src)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The fragment is for the page's script to place; opened on its own,
	// nothing in it may run or load.
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self' data:")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.WriteString(w, string(out))
	}
}

func isMarkdown(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".md", ".markdown", ".mdown", ".mkd":
		return true
	}
	return false
}

func (s *Server) read(ctx context.Context, name string, limit int64) ([]byte, error) {
	obj, err := s.tree.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	return io.ReadAll(io.LimitReader(obj, limit))
}

// readmeRank orders the names a README goes by; 0 is not one.
func readmeRank(name string) int {
	switch strings.ToLower(name) {
	case "readme.md":
		return 4
	case "readme.markdown":
		return 3
	case "readme":
		return 2
	case "readme.txt":
		return 1
	}
	return 0
}

// Readme renders the README among a folder's entries, if there is one:
// Markdown through goldmark (raw HTML removed), a plain README as
// preformatted text. dir is the folder's name in the tree.
func (s *Server) Readme(ctx context.Context, dir string, entries []listing.Entry) *listing.Readme {
	best, rank := "", 0
	for i := range entries {
		if entries[i].IsDir || len(entries[i].Name) > len("readme.markdown") {
			continue
		}
		if r := readmeRank(entries[i].Name); r > rank {
			best, rank = entries[i].Name, r
		}
	}
	if rank == 0 {
		return nil
	}
	name := path.Join(dir, best)
	info, err := s.tree.Stat(ctx, name)
	if err != nil || info.IsDir || info.Size > MaxText {
		return nil
	}
	src, err := s.read(ctx, name, MaxText)
	if err != nil {
		return nil
	}
	if rank >= 3 {
		out, err := RenderMarkdown(src)
		if err != nil {
			return nil
		}
		return &listing.Readme{Name: best, HTML: out}
	}
	return &listing.Readme{Name: best, HTML: renderPlain(src)}
}
