package cli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/ferry-sh/ferry"
	"github.com/ferry-sh/ferry/internal/accesslog"
	"github.com/ferry-sh/ferry/internal/auth"
	"github.com/ferry-sh/ferry/internal/autotls"
	"github.com/ferry-sh/ferry/internal/cgi"
	"github.com/ferry-sh/ferry/internal/config"
	"github.com/ferry-sh/ferry/internal/hostcheck"
	"github.com/ferry-sh/ferry/internal/proxy"
	"github.com/ferry-sh/ferry/internal/server"
	"github.com/ferry-sh/ferry/internal/termview"
	"github.com/ferry-sh/ferry/internal/transfer"
	"github.com/ferry-sh/ferry/internal/version"
)

const defaultPort = 8000

const serveHelp = `ferry shares a folder over HTTP: concurrent, resumable, safe by default.

Usage:
  ferry [flags] [DIR]      serve DIR (default: the current folder)
  ferry [flags] FILE...    share just these files, each at /NAME
  ferry echo [flags]       request inspector: answers every request with what it received
  ferry time [flags]       line-protocol time service (asctime, seconds, rfc822)
  ferry hash-password      print a bcrypt hash for --auth
  ferry version            version, commit and Go version

Flags:
  -p, --port N              TCP port; 0 picks a free one (default 8000; when it
                            is taken, the first free one of 8001-8010, else any)
  -b, --bind ADDR           address to listen on; repeatable (default: every
                            interface, IPv4 and IPv6; localhost: 127.0.0.1 and ::1);
                            unix:/path/ferry.sock listens on a Unix socket (mode
                            0660, removed on exit) for a reverse proxy
      --base-path /P        serve under this path prefix (behind a reverse proxy
                            that passes /P/... on unchanged)
      --trusted-proxy CIDR  believe X-Forwarded-For/-Host/-Proto and Forwarded
                            from these peers (logs, limits, host check);
                            repeatable; 'unix' trusts Unix socket peers
  -d, --directory DIR       the folder to serve (as the DIR argument)
      --upload              allow uploads: POST multipart, PUT, MKCOL, new folders
      --delete              allow DELETE of files and folders
      --overwrite           uploads may replace existing files (otherwise 409)
  -w, --write               --upload --delete --overwrite, plus MOVE/COPY (rename)
      --webdav              WebDAV (PROPFIND, PROPPATCH, LOCK, UNLOCK): mount the
                            folder in Finder, Windows, rclone, davfs2; writes
                            still need --upload/-w
      --cgi                 run executable files under /cgi-bin/ and /htbin/ as
                            CGI scripts (never served as files)
      --cgi-dir PATH        another CGI folder inside DIR; repeatable; implies --cgi
      --cgi-timeout DUR     kill a CGI script running longer (default 60s)
      --auth USER:PASS      require HTTP Basic auth; repeatable; PASS may be a
                            bcrypt hash (ferry hash-password); USER:PASS@/path
                            grants only that subtree, with :ro read-only
      --auth-anon-read      with --auth: anyone may read, writes need credentials
      --hidden              list and serve dotfiles
      --follow-symlinks     follow symlinks that lead outside DIR
      --no-listing          folders without an index file answer 404
      --exit-after N        exit once N whole downloads have completed
      --idle-exit DUR       exit after this long with no request in flight
      --once                with FILE...: exit once each named file was downloaded
                            completely (a named folder: as an archive); with a
                            DIR: exit after the first complete download, be it
                            a file or the folder as ?zip/?tar (= --exit-after 1)
      --host NAME           another host name clients may use; repeatable; '*'
                            accepts any (others get 421: DNS rebinding)
      --tls                 HTTPS with a fresh self-signed certificate
      --tls-cert FILE       HTTPS with this certificate (PEM; with --tls-key)
      --tls-key FILE        the certificate's private key (PEM)
      --acme DOMAIN         HTTPS with a certificate for DOMAIN from an ACME CA,
                            renewed automatically; repeatable; the CA must reach
                            this port as DOMAIN:443 (default port then 443)
      --http3               with TLS: HTTP/3 (QUIC) on the same port number over
                            UDP too, advertised to browsers with Alt-Svc
      --acme-email ADDR     contact address for the CA (expiry notices)
      --acme-ca URL         the CA's directory (default Let's Encrypt)
      --acme-cache DIR      where keys and certificates are kept
                            (default ~/.cache/ferry/acme)
      --max-conns-per-ip N  open connections one client address may hold
                            (default 64; 0 = no limit)
      --log FORMAT          text, json or combined (default text)
  -q, --quiet               no per-request log lines
      --max-upload SIZE     largest accepted upload, e.g. 500M (default none)
      --partial-ttl DUR     remove unfinished resumable uploads after this long
                            without activity (default 24h)
      --limit-rate SIZE     bytes per second per connection, e.g. 2M (downloads
                            and uploads each)
      --limit-total SIZE    bytes per second for the whole server
      --qr                  print a QR code of the best URL
  -h, --help                show this help
      --version             show the version

Every flag can also be set as FERRY_<FLAG> (FERRY_PORT=9000, FERRY_NO_LISTING=1);
the command line wins. Durations look like 90s, 5m, 1h30m; sizes take K, M, G.

Examples:
  ferry                               share the current folder on port 8000
  ferry -p 9000 ~/Downloads           share a folder on port 9000
  ferry -w --auth alice:s3cret .      a shared drop box with a password
  ferry --exit-after 1 release.tar    hand over one file, then exit
  ferry --once --qr a.pdf ~/b.jpg     share two files, exit once both were fetched
  curl -C - -O http://HOST:8000/big.iso    resume a download
  curl -T notes.txt http://HOST:8000/      upload with --upload
  ferry --cgi .                       also run executables in ./cgi-bin/ as CGI
  curl -X FUNC http://HOST:8000/cgi-bin/app.sh/x   any method reaches a script
  ferry echo                          inspect requests: curl -F f=@a.txt http://localhost:8000/x?a=1
  ferry time                          time service: nc localhost 8765, then type asctime

Run 'ferry echo -h' and 'ferry time -h' for their flags.
`

type serveFlags struct {
	port           int
	binds          []string
	upload         bool
	del            bool
	overwrite      bool
	write          bool
	cgi            bool
	cgiDirs        []string
	webdav         bool
	cgiTimeout     time.Duration
	auth           []string
	authAnonRead   bool
	hidden         bool
	followSymlinks bool
	noListing      bool
	exitAfter      int64
	idleExit       time.Duration
	once           bool
	hosts          []string
	basePath       string
	trustedProxies []string
	tls            bool
	tlsCert        string
	tlsKey         string
	acme           []string
	http3          bool
	acmeEmail      string
	acmeCA         string
	acmeCache      string
	maxConnsPerIP  int
	// tlsFingerprint is set once the certificate is known (banner).
	tlsFingerprint string
	logFormat      string
	quiet          bool
	maxUpload      string
	partialTTL     time.Duration
	limitRate      string
	limitTotal     string
	qr             bool
	directory      string
	shared         []string // FILE... arguments; nil when serving a folder
}

func (f *serveFlags) define(fs *pflag.FlagSet) {
	fs.IntVarP(&f.port, "port", "p", defaultPort, "")
	fs.StringArrayVarP(&f.binds, "bind", "b", nil, "")
	fs.StringVarP(&f.directory, "directory", "d", "", "")
	fs.BoolVar(&f.upload, "upload", false, "")
	fs.BoolVar(&f.del, "delete", false, "")
	fs.BoolVar(&f.overwrite, "overwrite", false, "")
	fs.BoolVarP(&f.write, "write", "w", false, "")
	fs.BoolVar(&f.cgi, "cgi", false, "")
	fs.StringArrayVar(&f.cgiDirs, "cgi-dir", nil, "")
	fs.BoolVar(&f.webdav, "webdav", false, "")
	fs.DurationVar(&f.cgiTimeout, "cgi-timeout", 60*time.Second, "")
	fs.StringArrayVar(&f.auth, "auth", nil, "")
	fs.BoolVar(&f.authAnonRead, "auth-anon-read", false, "")
	fs.BoolVar(&f.hidden, "hidden", false, "")
	fs.BoolVar(&f.followSymlinks, "follow-symlinks", false, "")
	fs.BoolVar(&f.noListing, "no-listing", false, "")
	fs.Int64Var(&f.exitAfter, "exit-after", 0, "")
	fs.DurationVar(&f.idleExit, "idle-exit", 0, "")
	fs.BoolVar(&f.once, "once", false, "")
	fs.StringArrayVar(&f.hosts, "host", nil, "")
	fs.StringVar(&f.basePath, "base-path", "", "")
	fs.StringArrayVar(&f.trustedProxies, "trusted-proxy", nil, "")
	fs.BoolVar(&f.tls, "tls", false, "")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "")
	fs.StringVar(&f.tlsKey, "tls-key", "", "")
	fs.StringArrayVar(&f.acme, "acme", nil, "")
	fs.BoolVar(&f.http3, "http3", false, "")
	fs.StringVar(&f.acmeEmail, "acme-email", "", "")
	fs.StringVar(&f.acmeCA, "acme-ca", autotls.DefaultCA, "")
	fs.StringVar(&f.acmeCache, "acme-cache", "", "")
	fs.IntVar(&f.maxConnsPerIP, "max-conns-per-ip", server.DefaultMaxConnsPerIP, "")
	fs.StringVar(&f.logFormat, "log", accesslog.FormatText, "")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "")
	fs.StringVar(&f.maxUpload, "max-upload", "", "")
	fs.DurationVar(&f.partialTTL, "partial-ttl", 24*time.Hour, "")
	fs.StringVar(&f.limitRate, "limit-rate", "", "")
	fs.StringVar(&f.limitTotal, "limit-total", "", "")
	fs.BoolVar(&f.qr, "qr", false, "")
}

func (a *app) serve(args []string) error {
	var f serveFlags
	fs := pflag.NewFlagSet("ferry", pflag.ContinueOnError)
	f.define(fs)
	if err := a.parse(fs, args, serveHelp); err != nil {
		return err
	}
	opts, err := f.options(fs)
	if err != nil {
		return err
	}
	base, err := proxy.CleanBasePath(f.basePath)
	if err != nil {
		return usagef("invalid --base-path: %v", err)
	}
	f.basePath = base
	trusted, err := proxy.ParseTrusted(f.trustedProxies)
	if err != nil {
		return usagef("invalid --trusted-proxy: %v", err)
	}
	targets := fs.Args()
	if f.directory != "" {
		// Python's -d/--directory; a number after it is still a port
		// given where ferry expects a folder, which serveTarget words.
		if len(targets) > 0 && !portArg(targets[0]) {
			return usagef("give the folder either with -d or as an argument, not both")
		}
		targets = append([]string{f.directory}, targets...)
	}
	dir, files, err := serveTarget(targets)
	if err != nil {
		return err
	}
	a.warnMangledAuth(f.auth)
	f.shared = files
	view := a.startView(&f)
	if view != nil {
		defer view.Close()
		opts.Observer = view
	}
	opts.Logger = a.newLogger(f.logFormat, f.quiet)

	handler, err := openHandler(dir, files, opts)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return err
		}
		return usagef("cannot serve %s: %v", dir, describeFSErr(err))
	}
	defer handler.Close()

	// A given pair is checked before listening, so a bad one fails fast.
	var cert *tls.Certificate
	if f.tlsCert != "" {
		c, err := server.LoadKeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			return usagef("%v", err)
		}
		cert = &c
	}

	explicitPort := fs.Changed("port") || a.envSet("FERRY_PORT")
	var acmeMgr *autotls.Manager
	if len(f.acme) > 0 {
		acmeMgr, err = autotls.New(autotls.Options{Domains: f.acme, Email: f.acmeEmail, CA: f.acmeCA, Cache: f.acmeCache})
		if err != nil {
			return usagef("%v", err)
		}
		f.acmeCache = acmeMgr.Cache
		if !explicitPort {
			// The CA validates on port 443 (TLS-ALPN-01).
			f.port, explicitPort = 443, true
		}
	}
	ls, err := server.Listen(f.binds, f.port, explicitPort)
	if err != nil {
		return listenError(err, f.binds, f.port)
	}
	defer ls.Close()
	if f.http3 {
		if err := ls.ListenQUIC(); err != nil {
			return usagef("cannot listen on UDP port %d for HTTP/3: %v", ls.Port, describeNetErr(err))
		}
	}

	var tlsConf *tls.Config
	if cert == nil && f.tls {
		c, err := server.SelfSigned(server.CertHosts(ls, f.binds), time.Now())
		if err != nil {
			return fmt.Errorf("making a TLS certificate: %w", err)
		}
		cert = &c
	}
	if cert != nil {
		tlsConf = server.TLSConfig(*cert)
		f.tlsFingerprint = server.Fingerprint(*cert)
	}
	if acmeMgr != nil {
		tlsConf = acmeMgr.TLSConfig(server.TLSConfig(tls.Certificate{}))
	}

	// The page's QR code needs an address a phone can reach, which a page
	// opened on localhost cannot know by itself.
	scheme := "http"
	if cert != nil {
		scheme = "https"
	}
	handler.SetLinkURLs(server.URLs(ls, scheme))
	abs, _ := filepath.Abs(dir)
	a.banner(abs, ls, &f, defaultPort)
	if acmeMgr != nil {
		go acmeMgr.Prefetch(a.reportCert)
	}

	interrupt := make(chan os.Signal, 2)
	signal.Notify(interrupt, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(interrupt)
	reason, err := server.Run(a.ctx, ls, server.Config{
		Handler:       trusted.Middleware(proxy.Mount(f.basePath, handler)),
		Done:          handler.Done(),
		IdleExit:      f.idleExit,
		Idle:          handler.Idle,
		Interrupt:     interrupt,
		TLS:           tlsConf,
		MaxConnsPerIP: f.maxConnsPerIP,
		ConnRefused:   handler.ConnRefused,
		// A proxy carries many clients' connections.
		ConnLimitExempt: trusted.Contains,
		Stopping:        func(r server.Reason) { a.stopping(r, handler.InFlight()) },
		Busy:            handler.Busy,
	})
	if err != nil {
		return err
	}
	if view != nil {
		// The bars go before the summary is printed, so that nothing of
		// them is left on the screen, above it or below.
		view.Close()
	}
	a.summary(reason, handler.Stats(), &f)
	return nil
}

// stopping says that ferry waits for the transfers in flight, and how not to.
func (a *app) stopping(reason server.Reason, n int) {
	if n == 0 {
		return
	}
	what := "transfers"
	if n == 1 {
		what = "transfer"
	}
	again := "again "
	if reason != server.ReasonSignal {
		again = ""
	}
	fmt.Fprintf(a.stdout, "stopping: waiting for %d %s (Ctrl-C %sto quit)\n", n, what, again)
}

// options turns the flags into the library's options, refusing bad values.
func (f *serveFlags) options(fs *pflag.FlagSet) (ferry.Options, error) {
	var o ferry.Options
	if f.port < 0 || f.port > 65535 {
		return o, usagef("invalid port %d: use 0 to 65535", f.port)
	}
	for _, b := range f.binds {
		if err := checkBind(b); err != nil {
			return o, err
		}
	}
	switch f.logFormat {
	case accesslog.FormatText, accesslog.FormatJSON, accesslog.FormatCombined:
	default:
		return o, usagef("invalid --log %q: use text, json or combined", f.logFormat)
	}
	if f.exitAfter < 0 {
		return o, usagef("invalid --exit-after %d: use a positive count", f.exitAfter)
	}
	if f.idleExit < 0 {
		return o, usagef("invalid --idle-exit %s: use a positive duration", f.idleExit)
	}
	if f.cgiTimeout <= 0 {
		return o, usagef("invalid --cgi-timeout %s: use a positive duration", f.cgiTimeout)
	}
	for _, d := range f.cgiDirs {
		if _, err := cgi.CleanDir(d); err != nil {
			return o, usagef("invalid --cgi-dir %q: %v", d, err)
		}
	}
	if f.partialTTL <= 0 {
		return o, usagef("invalid --partial-ttl %s: use a positive duration", f.partialTTL)
	}
	sizes := []struct {
		name string
		val  string
		dst  *int64
	}{{"max-upload", f.maxUpload, &o.MaxUpload}, {"limit-rate", f.limitRate, &o.LimitRate}, {"limit-total", f.limitTotal, &o.LimitTotal}}
	for _, s := range sizes {
		if s.val == "" {
			continue
		}
		n, err := config.ParseSize(s.val)
		if err != nil {
			return o, usagef("invalid --%s: %v", s.name, err)
		}
		if s.dst != nil {
			*s.dst = n
		}
		if s.name != "max-upload" && n < 1 {
			return o, usagef("invalid --%s %q: use a positive rate such as 2M", s.name, s.val)
		}
	}
	for _, spec := range f.auth {
		if _, err := auth.ParseRule(spec); err != nil {
			return o, usagef("invalid --auth: %v", err)
		}
	}
	if f.authAnonRead && len(f.auth) == 0 {
		return o, usagef("--auth-anon-read needs at least one --auth")
	}
	if f.maxConnsPerIP < 0 {
		return o, usagef("invalid --max-conns-per-ip %d: use 0 (no limit) or more", f.maxConnsPerIP)
	}
	for _, h := range f.hosts {
		if err := hostcheck.Valid(h); err != nil {
			return o, usagef("invalid --host: %v", err)
		}
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return o, usagef("--tls-cert and --tls-key go together")
	}
	if f.http3 && !f.tls && f.tlsCert == "" && len(f.acme) == 0 {
		return o, usagef("--http3 needs TLS: add --tls, --tls-cert/--tls-key or --acme")
	}
	if len(f.acme) > 0 && (f.tls || f.tlsCert != "") {
		return o, usagef("--acme gets its own certificates: leave out --tls, --tls-cert and --tls-key")
	}
	for _, d := range f.acme {
		if err := autotls.CheckDomain(d); err != nil {
			return o, usagef("invalid --acme: %v", err)
		}
	}
	if err := autotls.CheckCA(f.acmeCA); err != nil {
		return o, usagef("invalid --acme-ca: %v", err)
	}
	if len(f.acme) == 0 && (fs.Changed("acme-email") || fs.Changed("acme-ca") || fs.Changed("acme-cache")) {
		return o, usagef("--acme-email, --acme-ca and --acme-cache go with --acme DOMAIN")
	}

	o.Upload = f.upload || f.write
	o.Resumable = o.Upload
	o.PartialTTL = f.partialTTL
	o.Delete = f.del || f.write
	o.Overwrite = f.overwrite || f.write
	o.Move = f.write
	o.Hidden = f.hidden
	o.FollowSymlinks = f.followSymlinks
	o.NoListing = f.noListing
	o.Auth = f.auth
	o.AuthAnonRead = f.authAnonRead
	o.CGI = f.cgi || len(f.cgiDirs) > 0
	o.CGIDirs = f.cgiDirs
	o.WebDAV = f.webdav
	o.CGITimeout = f.cgiTimeout
	o.ExitAfter = f.exitAfter
	o.Once = f.once
	o.Hosts = f.hostNames()
	return o, nil
}

// serveTarget picks what to serve from the arguments: one folder, or a set
// of files (and folders) to share by name.
func serveTarget(args []string) (dir string, files []string, err error) {
	if len(args) == 0 {
		return ".", nil, nil
	}
	for _, p := range args {
		if _, err := os.Stat(p); err != nil {
			if portArg(p) && errors.Is(err, os.ErrNotExist) {
				return "", nil, usagef("no file or folder named %s; did you mean -p %s?", p, p)
			}
			return "", nil, usagef("%s: %s", p, describeFSErr(err))
		}
	}
	// The same path named twice ("ferry a.txt ./a.txt") is one file, not
	// two: one banner link, and a folder given twice is still served as DIR.
	seen := make(map[string]bool, len(args))
	uniq := make([]string, 0, len(args))
	for _, p := range args {
		if abs, err := filepath.Abs(p); err != nil || !seen[abs] {
			seen[abs] = true
			uniq = append(uniq, p)
		}
	}
	args = uniq
	if st, _ := os.Stat(args[0]); len(args) == 1 && st.IsDir() {
		return args[0], nil, nil
	}
	return "", args, nil
}

func (a *app) envSet(key string) bool {
	v, ok := a.env(key)
	return ok && v != ""
}

func describeFSErr(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file or folder"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// listenError words a failed bind: the address when --bind named one (the
// port alone would blame the wrong thing), else the port.
func listenError(err error, binds []string, port int) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Net == "unix" && oe.Addr != nil {
		return usagef("cannot listen on %s%s: %v", server.UnixPrefix, oe.Addr, describeNetErr(oe.Err))
	}
	if len(binds) > 0 && errors.As(err, &oe) && oe.Addr != nil {
		return usagef("cannot listen on %s: %v", oe.Addr, describeNetErr(err))
	}
	return usagef("cannot listen on port %d: %v", port, describeNetErr(err))
}

func describeNetErr(err error) string {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return "address already in use"
	case errors.Is(err, syscall.EACCES):
		return "permission denied"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "address not available on this machine"
	case errors.Is(err, syscall.ENOENT):
		return "no such folder"
	}
	return err.Error()
}

// startView shows the live transfer view when stdout is a terminal and the
// log is text lines; from then on stdout (and stderr, when it shares the
// terminal) go through it, so that lines scroll above the bars unbroken.
// Elsewhere (a pipe, a file, --log json/combined, -q) nothing changes and
// no escape code is ever written.
func (a *app) startView(f *serveFlags) *termview.View {
	out, ok := a.stdout.(*os.File)
	if !ok || f.quiet || f.logFormat != accesslog.FormatText || !term.IsTerminal(int(out.Fd())) {
		return nil
	}
	view := termview.New(out, termview.Options{Width: func() int {
		if w, _, err := term.GetSize(int(out.Fd())); err == nil && w > 0 {
			return w
		}
		return 100
	}})
	a.stdout = view.Writer(out)
	if errOut, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(errOut.Fd())) {
		a.stderr = view.Writer(errOut)
	}
	return view
}

// newLogger builds the logger the handler writes requests and warnings to.
func (a *app) newLogger(format string, quiet bool) *slog.Logger {
	return slog.New(accesslog.NewHandler(a.stdout, a.stderr, format, quiet))
}

// writeFeatures names the write features the flags turn on.
func (f *serveFlags) writeFeatures() []string {
	var can []string
	if f.upload || f.write {
		can = append(can, "upload")
	}
	if f.overwrite || f.write {
		can = append(can, "overwrite")
	}
	if f.del || f.write {
		can = append(can, "delete")
	}
	if f.write {
		can = append(can, "move/copy")
	}
	return can
}

func (a *app) banner(dir string, ls *server.Listeners, f *serveFlags, def int) {
	w := a.stdout
	if ls.FellBack {
		fmt.Fprintf(w, "port %d is in use; serving on port %d instead\n", def, ls.Port)
	}
	mode := "read-only"
	if can := f.writeFeatures(); len(can) > 0 {
		mode = "writable: " + strings.Join(can, ", ")
	}
	fmt.Fprintf(w, "ferry %s serving %s (%s)\n", version.Version, servedLabel(dir, f.shared), mode)
	scheme := "http"
	if f.tlsFingerprint != "" || len(f.acme) > 0 {
		scheme = "https"
	}
	urls := server.URLs(ls, scheme)
	if len(f.acme) > 0 {
		// The certificates name the domains: an address would fail.
		urls = acmeURLs(f.acme, ls.Port)
	}
	for i := range urls {
		if f.basePath != "" {
			urls[i] += f.basePath[1:] + "/"
		}
		fmt.Fprintf(w, "  %s\n", urls[i])
	}
	for _, ln := range ls.List {
		if server.IsUnix(ln) {
			path := ""
			if f.basePath != "" {
				path = ", path " + f.basePath + "/"
			}
			fmt.Fprintf(w, "  %s%s%s (Unix socket, for a reverse proxy)\n", server.UnixPrefix, ln.Addr(), path)
		}
	}
	if f.webdav && len(urls) > 0 {
		fmt.Fprintf(w, "webdav: %s (Finder: Go → Connect to Server; Windows: Map network drive)\n", urls[0])
	}
	if files := bannerFiles(dir, f); len(urls) > 0 && len(files) > 0 && len(files) <= 20 {
		if f.shared == nil {
			// Directory order is arbitrary; named files keep the order given.
			slices.Sort(files)
		}
		fmt.Fprintln(w, "files:")
		for _, name := range files {
			fmt.Fprintf(w, "  %s%s\n", urls[0], url.PathEscape(name))
		}
	}
	if f.tlsFingerprint != "" {
		fmt.Fprintf(w, "TLS certificate SHA-256 fingerprint:\n  %s\n", f.tlsFingerprint)
	}
	if len(f.acme) > 0 {
		fmt.Fprintf(w, "certificates: from %s, kept in %s\n", f.acmeCA, f.acmeCache)
	}
	if len(ls.Packet) > 0 {
		fmt.Fprintf(w, "HTTP/3: on UDP port %d too (announced with Alt-Svc)\n", ls.Port)
	}
	writeExposure(w, exposureRoots(dir, f.shared), f, ls, f.tls || f.tlsCert != "" || len(f.acme) > 0)
	if f.qr {
		printQR(w, urls)
	}
	fmt.Fprintln(w, "press Ctrl-C to stop")
}

// topFiles lists the visible regular files at the top of dir, up to 21.
func topFiles(dir string, hidden bool) []string {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	var out []string
	for {
		ents, err := d.ReadDir(256)
		for _, e := range ents {
			if (!hidden && strings.HasPrefix(e.Name(), ".")) || !e.Type().IsRegular() {
				continue
			}
			out = append(out, e.Name())
			if len(out) > 20 {
				return out
			}
		}
		if err != nil {
			return out
		}
	}
}

func (a *app) summary(reason server.Reason, s ferry.Stats, f *serveFlags) {
	w := a.stdout
	switch reason {
	case server.ReasonDone:
		if f.once {
			fmt.Fprintln(w, onceDoneMessage(f.shared))
			break
		}
		fmt.Fprintf(w, "%d download(s) complete; exiting as asked (--exit-after)\n", f.exitAfter)
	case server.ReasonIdle:
		fmt.Fprintf(w, "idle for %s; exiting as asked (--idle-exit)\n", f.idleExit)
	default:
		fmt.Fprintln(w, "stopped")
	}
	fmt.Fprintf(w, "summary: %d requests, %s sent, %s received, %d downloads completed, %d cut short, %d uploads completed, %d cut short, up %s\n",
		s.Requests, size(s.BytesSent), size(s.BytesReceived), s.Completed, s.CutShort,
		s.UploadsCompleted, s.UploadsCutShort, time.Since(s.Start).Round(time.Second))
	writeMoved(w, s.Moved, s.MovedMore)
}

// writeMoved names the files that were downloaded (↓) or uploaded (↑), and
// counts those beyond the list.
func writeMoved(w io.Writer, moved []ferry.Moved, more int64) {
	if len(moved) == 0 {
		return
	}
	fmt.Fprintln(w, "moved:")
	for _, m := range moved {
		arrow := "↓"
		if m.Kind == transfer.KindUpload {
			arrow = "↑"
		}
		line := "  " + arrow + " " + termview.Printable(m.Path) + "  "
		switch {
		case m.Outcome == transfer.CutShort:
			line += "cut short: " + size(m.Done) + " of " + size(m.Size)
		case m.Done >= 0:
			line += size(m.Done)
		default:
			line += m.Outcome
		}
		if m.Count > 1 {
			line += fmt.Sprintf(" (%d times)", m.Count)
		}
		fmt.Fprintln(w, line)
	}
	if more > 0 {
		fmt.Fprintf(w, "  and %d more\n", more)
	}
}

func size(n int64) string { return string(accesslog.AppendSize(nil, n)) }

// warnMangledAuth warns about --auth passwords that look like a bcrypt
// hash the shell expanded ("$2a$10$…" unquoted becomes "a0…"): ferry would
// start with a password nobody knows.
func (a *app) warnMangledAuth(specs []string) {
	for _, spec := range specs {
		r, err := auth.ParseRule(spec)
		if err != nil || r.Hashed || !looksShellMangled(r.Secret) {
			continue
		}
		fmt.Fprintf(a.stderr, "ferry: warning: the --auth password for %q looks like a bcrypt hash the shell cut up "+
			"($2a$... expands as variables); put it in single quotes: --auth '%s:$2a$...'\n", r.User, r.User)
	}
}

// acmeURLs are the banner's URLs with --acme: one per domain.
func acmeURLs(domains []string, port int) []string {
	var out []string
	for _, d := range domains {
		host := d
		if port != 443 && port != 0 {
			host = net.JoinHostPort(d, strconv.Itoa(port))
		}
		out = append(out, "https://"+strings.ToLower(host)+"/")
	}
	return out
}

// reportCert says how getting a domain's certificate went (at startup).
func (a *app) reportCert(domain string, cert *tls.Certificate, err error) {
	if err != nil {
		fmt.Fprintf(a.stderr, "ferry: warning: no certificate for %s yet: %v\n", domain, err)
		return
	}
	if cert != nil && cert.Leaf != nil {
		fmt.Fprintf(a.stdout, "certificate for %s: valid until %s, issued by %s\n", domain,
			cert.Leaf.NotAfter.UTC().Format("2006-01-02 15:04 MST"), cert.Leaf.Issuer.CommonName)
	}
}
