// Package ferry serves a folder over HTTP the way the ferry command does:
// listings, ranges and resumable downloads, uploads, deletes and moves,
// dotfile and symlink policy, CGI, logging and counters. The handler it
// returns can be mounted under any prefix of your own mux, and you can add
// handlers for methods of your own.
//
// Embedding it takes a few lines:
//
//	h, err := ferry.New("./public", ferry.Options{Upload: true, Logger: slog.Default()})
//	if err != nil {
//		return err
//	}
//	defer h.Close()
//	h.HandleMethod("FUNC", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		fmt.Fprintln(w, "FUNC on", r.URL.Path)
//	}))
//	mux := http.NewServeMux()
//	mux.Handle("/files/", http.StripPrefix("/files", h))
//	return http.ListenAndServe("localhost:8080", mux)
//
// The package also carries ferry's two siblings: [NewEchoHandler], a request
// inspector, and [ServeTime], a line-protocol time service.
package ferry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ferry-sh/ferry/internal/accesslog"
	"github.com/ferry-sh/ferry/internal/auth"
	"github.com/ferry-sh/ferry/internal/cgi"
	"github.com/ferry-sh/ferry/internal/checksum"
	"github.com/ferry-sh/ferry/internal/compress"
	"github.com/ferry-sh/ferry/internal/fileserver"
	"github.com/ferry-sh/ferry/internal/headers"
	"github.com/ferry-sh/ferry/internal/hostcheck"
	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/jobs"
	"github.com/ferry-sh/ferry/internal/listing"
	"github.com/ferry-sh/ferry/internal/metrics"
	"github.com/ferry-sh/ferry/internal/preview"
	"github.com/ferry-sh/ferry/internal/qrcode"
	"github.com/ferry-sh/ferry/internal/ratelimit"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/share"
	"github.com/ferry-sh/ferry/internal/sharelink"
	"github.com/ferry-sh/ferry/internal/status"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/policy"
	"github.com/ferry-sh/ferry/internal/transfer"
	"github.com/ferry-sh/ferry/internal/tus"
	"github.com/ferry-sh/ferry/internal/webdav"
	"github.com/ferry-sh/ferry/internal/write"
)

// Options mirror the command line's serve flags. The zero value serves the
// folder read-only, without dotfiles and without symlinks that lead out.
type Options struct {
	Upload    bool // POST multipart, PUT, MKCOL and the new-folder form
	Delete    bool // DELETE of files and folders
	Overwrite bool // uploads may replace existing files
	Move      bool // MOVE and COPY (the command line's -w turns on all four)

	Hidden         bool // list and serve dotfiles
	FollowSymlinks bool // follow symlinks that lead outside the folder
	NoListing      bool // folders without an index file answer 404
	// NoThumbnails turns off the grid's image thumbnails (?thumb), which
	// are otherwise made on demand, two at a time, and cached in memory.
	NoThumbnails bool

	// ShareSecretFile (with Auth) turns on share links: a user who may
	// read a file or folder makes a link to it (POST /.ferry/shares) that
	// works without credentials until it expires, optionally for a number
	// of downloads. The links are signed with the key in this file, which
	// is created with a random key when missing; replacing it revokes every
	// link. ShareSecret gives the key itself instead. Links are kept in the
	// backend's .ferry/shares/.
	ShareSecretFile string
	ShareSecret     []byte

	MaxUpload int64 // largest accepted upload in bytes; 0 = no limit

	// Resumable (with Upload) offers tus 1.0 resumable uploads under
	// /.ferry/tus/; the page's uploader then uses them. Unfinished ones
	// are removed after PartialTTL without activity (0 = 24h).
	Resumable  bool
	PartialTTL time.Duration

	// CGI runs executable files under /cgi-bin/, /htbin/ and the folders
	// of CGIDirs (paths inside the served folder, such as "/scripts") as
	// CGI/1.1 scripts, for every method; a script running longer than
	// CGITimeout (default 60s) is killed and answered with 504. Nothing in
	// those folders is ever served as a file. A chunked request body is
	// spooled to a temporary file (at most MaxUpload bytes) before the
	// script starts.
	CGI        bool
	CGIDirs    []string
	CGITimeout time.Duration

	// Auth holds --auth rules (USER:PASS[@/path[:ro|:rw]]); PASS may be a
	// bcrypt hash. With any rule, every request needs valid credentials
	// before anything else is looked at, unless AuthAnonRead lets
	// credential-less GET, HEAD and OPTIONS through.
	Auth         []string
	AuthAnonRead bool

	// Hosts turns on the DNS-rebinding guard: a request whose Host is not
	// one of these names or addresses, localhost (or NAME.localhost), a
	// loopback address or the address its connection came in on is
	// answered 421, for every method, before credentials are asked for.
	// "*.DOMAIN" accepts every name under DOMAIN and "*" any Host. Empty:
	// no check, for an embedder whose own front end vets Host. The command
	// line always sets it.
	Hosts []string

	// WebDAV turns on WebDAV class 1 and 2 (PROPFIND, PROPPATCH, LOCK,
	// UNLOCK) in the same URL space. PROPFIND is a read; the others need a
	// write permission. Dead properties and locks are kept in the folder's
	// reserved .ferry/ folder. Without it those methods answer 501.
	WebDAV bool

	// S3Endpoint is the object store's endpoint for an s3:// location
	// ("http://127.0.0.1:8333"), with path-style addressing; empty takes
	// the AWS environment's (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL) or
	// AWS's own.
	S3Endpoint string
	// S3ListCache, when positive, keeps an object store's folder listings
	// for folder pages that long: a folder of many thousand objects is
	// paged through the store once, not on every visit. This node's own
	// writes show at once; other nodes' (or any client of the bucket's)
	// within S3ListCache. 0 lists the store every time.
	S3ListCache time.Duration
	// S3Timeout bounds how long an object store may keep silent: before
	// it starts an answer (the request then fails with 503) and within an
	// answer's body (the download is cut short). 0 means 15 s.
	S3Timeout time.Duration

	// NoCompress sends every response as it is. Otherwise a text-like
	// response (a listing, a page, an HTML, CSS, JavaScript, JSON, SVG, XML,
	// Markdown, CSV or plain text file) of 1 KiB or more goes out with zstd
	// or gzip when the client accepts one, and a file's precompressed copy
	// beside it (NAME.zst, NAME.br, NAME.gz) is sent in its place.
	NoCompress bool

	// Headers are added to every response ("Name: value"), replacing
	// ferry's own of the same name; an empty value removes that header.
	// CORS lets pages of other origins read: GET, HEAD and OPTIONS answer
	// with "Access-Control-Allow-Origin: *" and preflights are answered;
	// writes stay refused cross-site, and credentials are never allowed
	// cross-origin.
	Headers []string
	CORS    bool

	// SPA answers a GET for a missing path whose Accept names text/html
	// with /index.html (200), for single-page apps with their own router.
	// Whatever this says, /about serves about.html when /about does not
	// exist and about.html does (pretty URLs).
	SPA bool

	// ExitAfter makes Done close after that many complete downloads.
	ExitAfter int64
	// Once (with NewFiles) makes Done close once every named file has been
	// downloaded completely, and every named folder as an archive.
	Once bool

	// LimitRate and LimitTotal pace downloads and uploads, in bytes per
	// second per connection and for the whole handler; 0 = no limit.
	LimitRate, LimitTotal int64

	// Logger receives one record per request (message "request") and any
	// warnings. Nil logs nothing.
	Logger *slog.Logger
	// Observer hears of every download and upload as it starts and ends
	// (the command line's live terminal view). Nil hears nothing.
	Observer Observer
}

// Observer hears of transfers as they start and end; Started and Ended are
// called on the request's goroutine, so they must return quickly.
type Observer = accesslog.Observer

// Transfer is a download or upload in flight: who, what, how large, and
// (through Done) how far it has come.
type Transfer = transfer.Transfer

// Handler is ferry's file server as an http.Handler.
type Handler struct {
	tree    storage.Tree // the served tree through the policy layer
	opts    Options
	read    reader
	share   *share.Server // NewFiles only
	write   *write.Handler
	tracker *transfer.Tracker
	auth    *auth.Checker // nil without Options.Auth
	cgi     *cgi.Handler  // nil without Options.CGI
	tus     *tus.Handler  // nil without Options.Upload and Resumable
	dav     *webdav.Handler
	preview *preview.Server // READMEs, Markdown, thumbnails; nil for NewFiles

	shares   *sharelink.Manager // nil without share links
	shareAPI *sharelink.API
	lim      *jobs.Limiter
	chain    http.Handler
	xorigin  *http.CrossOriginProtection
	metrics  *metrics.Metrics
	links    *qrcode.Links

	mu     sync.RWMutex
	custom map[string]http.Handler
	allow  string
}

// New opens location and returns its handler; Close releases it. location
// is a folder, opened through os.Root, or s3://BUCKET[/PREFIX], a bucket
// (or a key prefix of one) of an S3-compatible object store, served as if
// it were a folder: the endpoint, region and credentials come from the
// AWS environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_PROFILE...) or
// Options.S3Endpoint. A missing bucket, refused credentials or a store
// that cannot be reached are reported here (ErrNoBucket, ErrDenied,
// ErrUnreachable), never at the first request; CGI needs a folder
// (ErrNeedsFolder).
func New(location string, opts Options) (*Handler, error) {
	lim := jobs.NewDefault()
	return newHandler(location, opts, lim, checksum.NewService(lim))
}

// newHandler is New with the limiter and checksum service that every
// reader of the handler shares (NewFiles makes them first).
func newHandler(dir string, opts Options, lim *jobs.Limiter, sums *checksum.Service) (*Handler, error) {
	rules, err := auth.ParseRules(opts.Auth)
	if err != nil {
		return nil, fmt.Errorf("ferry: invalid auth rule: %w", err)
	}
	extra, err := headers.ParseAll(opts.Headers)
	if err != nil {
		return nil, fmt.Errorf("ferry: invalid header: %w", err)
	}
	var hosts *hostcheck.Checker
	if len(opts.Hosts) > 0 {
		if hosts, err = hostcheck.New(opts.Hosts); err != nil {
			return nil, fmt.Errorf("ferry: invalid host: %w", err)
		}
	}
	fsPolicy := rootfs.Policy{FollowSymlinks: opts.FollowSymlinks}
	if opts.CGI {
		// The CGI folders' files are scripts, never downloads: the policy
		// withholds them from every reader (listings, archives, copies).
		fsPolicy.Withheld, err = cgi.Folders(opts.CGIDirs)
		if err != nil {
			return nil, fmt.Errorf("ferry: invalid CGI folder: %w", err)
		}
	}
	st, err := openStore(dir, opts, fsPolicy)
	if err != nil {
		return nil, err
	}
	h := &Handler{
		// One policy layer over the one backend, for every handler.
		tree:    policy.Wrap(st.backend, policy.Rules{Hidden: opts.Hidden}),
		opts:    opts,
		tracker: transfer.NewTracker(opts.ExitAfter),
		xorigin: http.NewCrossOriginProtection(),
		custom:  map[string]http.Handler{},
		links:   new(qrcode.Links),
	}
	h.openPage()
	h.read = fileserver.New(h.tree, fileserver.Options{
		NoListing: opts.NoListing,
		Can: listing.Capabilities{
			Upload: opts.Upload, Delete: opts.Delete, Move: opts.Move, Overwrite: opts.Overwrite,
			MaxUpload: opts.MaxUpload, Archive: !opts.NoListing,
			Resumable: opts.Upload && opts.Resumable, Thumbnails: !opts.NoThumbnails,
			Share: sharesOn(opts, len(rules)),
		},
		Readme:  h.readme,
		Archive: archiveHook(h.tree, st.name, opts, lim),
		Hash:    sums.Serve,
		// Script in a served file runs at ferry's origin; that matters only
		// where the origin can write or carries credentials.
		Sandbox:       opts.Upload || opts.Delete || opts.Move || opts.CGI || len(rules) > 0,
		Links:         h.links,
		Precompressed: !opts.NoCompress,
		SPA:           opts.SPA,
		Keep:          h.searchKeep,
		Digest:        sums.ReprDigest,
	})
	h.write = write.New(h.tree, write.Options{
		Upload: opts.Upload, Delete: opts.Delete, Overwrite: opts.Overwrite, Move: opts.Move,
		MaxUpload: opts.MaxUpload, Hidden: opts.Hidden, Withheld: fsPolicy.Withheld, Logger: opts.Logger,
		Locked: h.davLocked,
		Stored: func(ctx context.Context, name string, digests map[string][]byte) {
			// The stored file's identity keys the digests: a later change
			// of it is a new version, whose digest is not known.
			if obj, err := h.tree.Open(ctx, name); err == nil {
				sums.Record(obj, name, digests)
				obj.Close()
			}
		},
	})
	if opts.Upload && opts.Resumable {
		if h.tus, err = tus.New(h.tree, tus.Options{
			Overwrite: opts.Overwrite, MaxSize: opts.MaxUpload, TTL: opts.PartialTTL, Hidden: opts.Hidden, Logger: opts.Logger,
			Locked: h.davLocked,
		}); err != nil {
			h.tree.Close()
			return nil, err
		}
	}
	if opts.CGI {
		h.cgi = cgi.New(st.fs, cgi.Options{
			Folders: fsPolicy.Withheld, Timeout: opts.CGITimeout, MaxBody: opts.MaxUpload, Logger: opts.Logger,
			Visible: policy.Rules{Hidden: opts.Hidden}.Visible,
		})
	}
	if opts.WebDAV {
		h.openDAV()
	}
	if sharesOn(opts, len(rules)) {
		if err := h.openLinks(lim); err != nil {
			h.tree.Close()
			return nil, err
		}
	}
	h.allow = h.computeAllow()
	var inner http.Handler = http.HandlerFunc(h.serve)
	if !opts.NoCompress {
		inner = compress.Middleware(inner)
	}
	if len(rules) > 0 {
		// Credentials come first: nothing of the tree, not even whether a
		// path is valid, is revealed to a client without them. The health
		// check is the exception: load balancers carry no credentials, and
		// it answers "ok" and nothing else.
		h.auth = auth.New(rules, auth.Options{AnonRead: opts.AuthAnonRead})
		open, authed := inner, h.auth.Middleware(inner)
		inner = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.EscapedPath() == ferryPrefix+"health" {
				open.ServeHTTP(w, r)
				return
			}
			// A share link is its own credential: its token is checked
			// where it is served.
			if h.shares != nil && strings.HasPrefix(r.URL.EscapedPath(), sharelink.Prefix) {
				open.ServeHTTP(w, r)
				return
			}
			authed.ServeHTTP(w, r)
		})
	}
	inner = ratelimit.New(ratelimit.Limits{PerConn: opts.LimitRate, Total: opts.LimitTotal}).Middleware(inner)
	if hosts != nil {
		// The host comes before credentials: a rebinding page must learn
		// nothing, not even that a password is asked for.
		inner = hosts.Middleware(inner)
	}
	h.metrics = metrics.New(h.figures)
	// The operator's headers go on every response, refusals included.
	inner = headers.Middleware(inner, headers.Options{Add: extra, CORS: opts.CORS, Private: privateToOrigin})
	h.chain = accesslog.Middleware(h.metrics.Middleware(inner), h.tracker, opts.Logger, opts.Observer)
	return h, nil
}

// Close removes partial uploads still in flight and releases the folder.
func (h *Handler) Close() error {
	h.write.Close()
	if c, ok := h.read.(interface{ Close() }); ok {
		c.Close() // the file server's cache of open files
	}
	if h.tus != nil {
		h.tus.Close()
	}
	if h.share != nil {
		h.share.Close()
	}
	// The tree removes the partial uploads still in flight, and releases
	// the folder.
	return h.tree.Close()
}

// SetLinkURLs tells the handler the absolute URLs it is reachable at
// ("http://192.168.1.5:8000/"), best first, as ferry's banner lists them.
// A listing opened through a loopback name then shows a QR code of the
// first one another machine can reach, instead of a localhost address that
// would lead a phone to itself. Call it once the listeners are known.
func (h *Handler) SetLinkURLs(urls []string) { h.links.Set(urls) }

// Done is closed once Options.ExitAfter complete downloads were served.
func (h *Handler) Done() <-chan struct{} { return h.tracker.Done() }

// HandleMethod routes requests with a method of your own (such as "FUNC") to
// hf, after ferry's path checks. The method then appears in Allow. Methods
// ferry knows (GET, PUT, …) cannot be replaced.
func (h *Handler) HandleMethod(method string, hf http.Handler) error {
	if method == "" || strings.ToUpper(method) != method || knownMethod(method) || h.dav != nil && slices.Contains(webdav.Methods, method) {
		return fmt.Errorf("ferry: cannot register method %q", method)
	}
	h.mu.Lock()
	h.custom[method] = hf
	h.allow = h.computeAllow()
	h.mu.Unlock()
	return nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// No version: it would only tell an attacker which advisories apply.
	// The value is shared read-only, sparing Header.Set a slice per request.
	w.Header()["Server"] = serverHeader
	if r.TransferEncoding != nil && r.ProtoMajor == 1 {
		// RFC 9112 §6.1: a request with both Transfer-Encoding and
		// Content-Length may be smuggling one past a proxy that framed it by
		// the length, so the connection must close after the response.
		// net/http deletes Content-Length before a handler runs, leaving the
		// two cases alike, so every request with a Transfer-Encoding closes
		// its connection: chunked uploads are rare (curl -T -, git push,
		// Finder) and pay one new connection each.
		w.Header()["Connection"] = closeHeader
	}
	h.chain.ServeHTTP(w, r)
}

var (
	serverHeader = []string{"ferry"}
	closeHeader  = []string{"close"}
)

var methodsKnown = []string{
	http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPost, http.MethodPut,
	http.MethodDelete, "MKCOL", "MOVE", "COPY",
}

func knownMethod(m string) bool { return slices.Contains(methodsKnown, m) }

// computeAllow lists what the options enable, the same for every path.
func (h *Handler) computeAllow() string {
	m := []string{http.MethodGet, http.MethodHead, http.MethodOptions}
	if h.opts.Upload {
		m = append(m, http.MethodPost, http.MethodPut, "MKCOL")
	}
	if h.opts.Delete {
		m = append(m, http.MethodDelete)
	}
	if h.opts.Move {
		m = append(m, "MOVE", "COPY")
	}
	if h.dav != nil {
		m = append(m, "PROPFIND")
		if h.canWrite() {
			m = append(m, "PROPPATCH", "LOCK", "UNLOCK")
		}
	}
	custom := make([]string, 0, len(h.custom))
	for k := range h.custom {
		custom = append(custom, k)
	}
	slices.Sort(custom)
	return strings.Join(append(m, custom...), ", ")
}

// ferryPrefix is reserved for ferry's own pages and assets.
const ferryPrefix = "/" + rootfs.Reserved + "/"

// privateToOrigin tells which paths other origins may not read even with
// CORS: ferry's status and metrics show who else is connected. Its assets
// and health are as public as the listing.
func privateToOrigin(escaped string) bool {
	return strings.HasPrefix(escaped, ferryPrefix) && !strings.HasPrefix(escaped, ferryPrefix+"assets/") && escaped != ferryPrefix+"health"
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.RLock()
	allow := h.allow
	custom := h.custom[r.Method]
	h.mu.RUnlock()

	if r.Method == http.MethodOptions && r.URL.Path == "*" {
		h.davHeaders(w)
		w.Header().Set("Allow", allow)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	escaped := r.URL.EscapedPath()
	// The path is checked before /.ferry/ too: "/.ferry/assets/../x" is a
	// bad path like any other.
	name, dir, err := rootfs.ParseURLPath(escaped)
	if err != nil {
		httperr.Write(w, r, http.StatusBadRequest, "invalid path")
		return
	}
	if strings.HasPrefix(escaped, ferryPrefix) {
		h.serveOwn(w, r, strings.TrimPrefix(escaped, ferryPrefix), allow, custom != nil)
		return
	}
	if policy.Reserved(name) {
		// Other spellings of /.ferry/ ("//.ferry/", "/%2eferry/", "/.FERRY/")
		// must not reach a folder of that name in DIR (with --hidden).
		httperr.Write(w, r, http.StatusNotFound, "")
		return
	}
	if err := h.xorigin.Check(r); err != nil {
		httperr.Write(w, r, http.StatusForbidden, "cross-origin request refused")
		return
	}
	if h.opts.CORS && headers.IsPreflight(r) {
		// Before CGI: with --cors ferry speaks for every path, and never
		// lets a page of another origin send a write.
		headers.Preflight(w, allow)
		return
	}
	// Scripts take every method, custom ones included, so they are routed
	// before the method switch; without CGI, cgi-bin is an ordinary folder.
	if h.cgi != nil && h.cgi.Match(name) {
		h.cgi.Serve(w, r, name, dir)
		return
	}
	if h.dav != nil {
		var ok bool
		if w, ok = h.serveDAV(w, r, name, allow); !ok {
			return
		}
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if h.servePreview(w, r, name, dir) {
			return
		}
		h.read.Serve(w, r, name, dir)
	case http.MethodOptions:
		h.davHeaders(w)
		w.Header().Set("Allow", allow)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPost, http.MethodPut, "MKCOL":
		if !h.opts.Upload {
			notAllowed(w, r, allow)
			return
		}
		switch r.Method {
		case http.MethodPost:
			h.write.Post(w, r, name)
		case http.MethodPut:
			h.write.Put(w, r, name)
		default:
			h.write.Mkcol(w, r, name)
		}
	case http.MethodDelete:
		if !h.opts.Delete {
			notAllowed(w, r, allow)
			return
		}
		h.write.Delete(w, r, name)
	case "MOVE", "COPY":
		if !h.opts.Move {
			notAllowed(w, r, allow)
			return
		}
		h.write.Move(w, r, name, r.Method == "COPY")
	default:
		if custom != nil {
			custom.ServeHTTP(w, r)
			return
		}
		httperr.Write(w, r, http.StatusNotImplemented, "")
	}
}

func notAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	httperr.Write(w, r, http.StatusMethodNotAllowed, "")
}

// serveOwn answers under /.ferry/: embedded assets (and, later, status pages).
func (h *Handler) serveOwn(w http.ResponseWriter, r *http.Request, rest, allow string, custom bool) {
	if h.shares != nil {
		switch {
		case strings.HasPrefix(rest, "s/"):
			h.serveLink(w, r, rest[len("s/"):])
			return
		case rest == "shares" || strings.HasPrefix(rest, "shares/"):
			h.serveShares(w, r, rest[len("shares"):])
			return
		}
	}
	if h.tus != nil && (rest == "tus" || strings.HasPrefix(rest, "tus/")) {
		// Resumable uploads are writes like any other.
		if err := h.xorigin.Check(r); err != nil {
			httperr.Write(w, r, http.StatusForbidden, "cross-origin request refused")
			return
		}
		h.tus.ServeHTTP(w, r, strings.TrimPrefix(strings.TrimPrefix(rest, "tus"), "/"))
		return
	}
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
	case r.Method == http.MethodOptions:
		// OPTIONS and 501 behave as on every other path.
		h.davHeaders(w)
		w.Header().Set("Allow", allow)
		w.WriteHeader(http.StatusNoContent)
		return
	case !knownMethod(r.Method) && !custom && !strings.HasPrefix(rest, "tus") &&
		!(h.dav != nil && slices.Contains(webdav.Methods, r.Method)):
		// tus's PATCH exists under /.ferry/tus/ but is off: 405 there.
		httperr.Write(w, r, http.StatusNotImplemented, "")
		return
	default:
		notAllowed(w, r, "GET, HEAD, OPTIONS")
		return
	}
	switch {
	case strings.HasPrefix(rest, "assets/"):
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimPrefix(rest, "assets/")
		r2.URL.RawPath = ""
		listing.AssetHandler().ServeHTTP(w, r2)
	case rest == "status":
		rep := status.FromSnapshot(h.tracker.Snapshot(), time.Now())
		rep.Restrict(h.statusViewer(r))
		if h.preview != nil {
			rep.Thumbnails = h.preview.Stats()
		}
		h.statusShares(r, &rep)
		status.Write(w, r, rep, fileserver.SetPageHeaders)
	case rest == "qr.svg":
		h.links.Serve(w, r)
	case rest == "metrics":
		if !h.seesClients(r) {
			httperr.Write(w, r, http.StatusForbidden, "metrics are shown to clients on this machine, or with a grant on /")
			return
		}
		h.metrics.ServeHTTP(w, r)
	case rest == "health":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok\n"))
	default:
		httperr.Write(w, r, http.StatusNotFound, "")
	}
}

// searchKeep gives the paths a search may show the request's client: with
// auth, those its grants let it read.
func (h *Handler) searchKeep(r *http.Request) func(name string) bool {
	if h.auth == nil {
		return nil
	}
	a := h.auth.Access(r)
	return func(name string) bool { return a.Reads("/" + name) }
}

// statusViewer is what the client asking for the status page may see of
// other clients' transfers. With auth: the paths its grants let it read,
// and who the clients are only with a grant on the root; an anonymous
// reader (AuthAnonRead) never sees addresses. Without auth, anyone may read
// every path, but client addresses are shown only to a client on this
// machine: a visitor has no business learning who else is connected.
func (h *Handler) statusViewer(r *http.Request) status.Viewer {
	if h.auth == nil {
		return status.Viewer{Clients: loopbackClient(r.RemoteAddr)}
	}
	a := h.auth.Access(r)
	return status.Viewer{Clients: a.Whole(), Reads: a.Reads}
}

// seesClients reports whether the client may see figures about every
// client (the metrics): the status page's rule for showing addresses.
func (h *Handler) seesClients(r *http.Request) bool {
	if h.auth == nil {
		return loopbackClient(r.RemoteAddr)
	}
	return h.auth.Access(r).Whole()
}

func (h *Handler) figures() metrics.Figures {
	s := h.tracker.Snapshot()
	return metrics.Figures{
		BytesSent: s.BytesSent, BytesReceived: s.BytesReceived,
		DownloadsComplete: s.Completed, DownloadsCutShort: s.CutShort,
		UploadsComplete: s.UploadsCompleted, UploadsCutShort: s.UploadsCutShort,
		InFlight: h.tracker.InFlight(),
	}
}

// ConnRefused counts a connection the server closed unread to protect
// itself (a client beyond its connection cap), for the metrics.
func (h *Handler) ConnRefused() { h.metrics.Refused(metrics.RefusedConnections) }

// RequestRefused counts a request the server refused before it reached the
// handler, having too many in flight for its client or overall (503).
func (h *Handler) RequestRefused() { h.metrics.Refused(metrics.RefusedOverload) }

func loopbackClient(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// Stats are the handler's figures since it was made.
type Stats struct {
	Start         time.Time
	Requests      int64
	BytesSent     int64
	BytesReceived int64
	Completed     int64 // whole downloads delivered
	CutShort      int64 // downloads that ended early

	UploadsCompleted int64 // files stored whole (PUT, POST, resumable)
	UploadsCutShort  int64 // uploads whose body broke off
	// Moved names what was downloaded or uploaded, the first files first
	// (repeats of a file with the same outcome as one); MovedMore counts
	// the transfers beyond those named.
	Moved     []Moved
	MovedMore int64
}

// Moved is a file that was downloaded or uploaded.
type Moved = transfer.Moved

// Stats returns the figures so far.
func (h *Handler) Stats() Stats {
	s := h.tracker.Snapshot()
	return Stats{Start: s.Start, Requests: s.Requests, BytesSent: s.BytesSent,
		BytesReceived: s.BytesReceived, Completed: s.Completed, CutShort: s.CutShort,
		UploadsCompleted: s.UploadsCompleted, UploadsCutShort: s.UploadsCutShort,
		Moved: s.Moved, MovedMore: s.MovedMore}
}

// InFlight is the number of downloads and uploads under way.
func (h *Handler) InFlight() int { return h.tracker.InFlight() }

// Busy is the number of requests being answered.
func (h *Handler) Busy() int { return h.tracker.Active() }

// Idle reports how long no request has been in flight.
func (h *Handler) Idle() time.Duration { return h.tracker.Idle(time.Now()) }

// Settle waits, until ctx ends, for downloads whose last bytes the clients
// have yet to acknowledge, then decides the rest as cut short: call it
// after the server's Shutdown so that the log and Stats are final. Only
// connections accepted through ferry's own server are watched this way;
// behind another server a download is complete once its last byte was
// handed to the kernel.
func (h *Handler) Settle(ctx context.Context) { h.tracker.Settle(ctx) }
