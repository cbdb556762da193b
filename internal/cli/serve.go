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

	"golang.org/x/term"

	"github.com/ferry-sh/ferry"
	"github.com/ferry-sh/ferry/internal/accesslog"
	"github.com/ferry-sh/ferry/internal/auth"
	"github.com/ferry-sh/ferry/internal/autotls"
	"github.com/ferry-sh/ferry/internal/config"
	"github.com/ferry-sh/ferry/internal/proxy"
	"github.com/ferry-sh/ferry/internal/server"
	"github.com/ferry-sh/ferry/internal/sharelink"
	"github.com/ferry-sh/ferry/internal/storage/policy"
	"github.com/ferry-sh/ferry/internal/termview"
	"github.com/ferry-sh/ferry/internal/transfer"
	"github.com/ferry-sh/ferry/internal/version"
)

// serveFlags is what the file server runs with: the options, and what
// became known on the way.
type serveFlags struct {
	config.Serve
	shared         []string // FILE... arguments; nil when serving a folder
	tlsFingerprint string   // set once the certificate is known (banner)
}

func (a *app) serve(s *config.Serve, targets []string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if err := resolveBinds(s.Binds); err != nil {
		return err
	}
	f := serveFlags{Serve: *s}
	f.BasePath, _ = proxy.CleanBasePath(s.BasePath)
	trusted, _ := proxy.ParseTrusted(s.TrustedProxies)
	opts := libraryOptions(s)
	if f.Directory != "" && len(targets) > 0 {
		if a.from["directory"] != "" {
			// -d from the environment or a config file: the folder the
			// command line names wins over it.
			f.Directory = ""
		} else if !config.PortArg(targets[0]) {
			// Python's -d/--directory; a number after it is still a port
			// given where ferry expects a folder, which serveTarget words.
			return usagef("give the folder either with -d or as an argument, not both")
		}
	}
	if f.Directory != "" {
		targets = append([]string{f.Directory}, targets...)
	}
	dir, files, err := serveTarget(targets)
	if err == nil && ferry.IsObjectStore(dir) && opts.CGI {
		err = usagef("--cgi needs a folder on this machine; %s is an object store, with no files to execute", dir)
	}
	if err != nil {
		if len(targets) == 1 {
			if name := nearestCommand(a.commandNames, targets[0]); name != "" {
				return usagef("%s: no such file, folder or command; did you mean 'ferry %s'?", targets[0], name)
			}
		}
		return err
	}
	a.warnMangledAuth(f.Auth)
	f.shared = files
	view := a.startView(&f)
	if view != nil {
		defer view.Close()
		opts.Observer = view
	}
	logger, closeLog, err := a.logger(f.Listen, view != nil)
	if err != nil {
		return err
	}
	defer closeLog()
	opts.Logger = logger

	handler, err := openHandler(dir, files, opts)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) || errors.Is(err, ferry.ErrUnreachable) {
			return err
		}
		return usagef("cannot serve %s: %v", dir, describeFSErr(err))
	}
	defer handler.Close()

	cert, err := loadCert(f.TLS)
	if err != nil {
		return err
	}
	var acmeMgr *autotls.Manager
	if len(f.ACME) > 0 {
		acmeMgr, err = autotls.New(autotls.Options{Domains: f.ACME, Email: f.ACMEEmail, CA: f.ACMECA, Cache: f.ACMECache})
		if err != nil {
			return usagef("%v", err)
		}
		f.ACMECache = acmeMgr.Cache
		if !a.explicit("port") {
			// The CA validates on port 443 (TLS-ALPN-01).
			f.Port = 443
			a.from["port"] = "--acme"
		}
	}
	ls, err := a.listen(&f.Listen)
	if err != nil {
		return err
	}
	defer ls.Close()
	if f.HTTP3 {
		if err := ls.ListenQUIC(); err != nil {
			return usagef("cannot listen on UDP port %d for HTTP/3: %v", ls.Port, describeNetErr(err))
		}
	}
	if cert, err = selfSigned(cert, f.TLS, ls, f.Binds); err != nil {
		return err
	}
	var tlsConf *tls.Config
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
	a.banner(servedPlace(dir), ls, &f, handler, config.DefaultPort)
	if acmeMgr != nil {
		go acmeMgr.Prefetch(a.reportCert)
	}

	interrupt := make(chan os.Signal, 2)
	signal.Notify(interrupt, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(interrupt)
	reason, err := server.Run(a.ctx, ls, server.Config{
		Handler:       trusted.Middleware(proxy.Mount(f.BasePath, handler)),
		Done:          handler.Done(),
		IdleExit:      f.IdleExit,
		Idle:          handler.Idle,
		Interrupt:     interrupt,
		TLS:           tlsConf,
		MaxConnsPerIP: f.MaxConnsPerIP,
		ConnRefused:   handler.ConnRefused,
		// A proxy carries many clients' connections.
		ConnLimitExempt: trusted.Contains,
		Client:          trusted.Client,
		RequestRefused:  handler.RequestRefused,
		Logger:          opts.Logger,
		Stopping:        func(r server.Reason) { a.stopping(r, handler.InFlight()) },
		Busy:            handler.Busy,
		Settle:          handler.Settle,
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

// libraryOptions translates validated options into the library's.
func libraryOptions(s *config.Serve) ferry.Options {
	return ferry.Options{
		Upload:          s.Upload || s.Write,
		Resumable:       s.Upload || s.Write,
		PartialTTL:      s.PartialTTL,
		Delete:          s.Delete || s.Write,
		Overwrite:       s.Overwrite || s.Write,
		Move:            s.Write,
		Hidden:          s.Hidden,
		FollowSymlinks:  s.FollowSymlinks,
		S3Endpoint:      s.S3Endpoint,
		S3ListCache:     s.S3ListCache,
		S3Timeout:       s.S3Timeout,
		NoListing:       s.NoListing,
		NoThumbnails:    s.NoThumbnails,
		NoCompress:      s.NoCompress,
		Headers:         s.Headers,
		CORS:            s.CORS,
		SPA:             s.SPA,
		MaxUpload:       s.MaxUpload.Bytes,
		LimitRate:       s.LimitRate.Bytes,
		LimitTotal:      s.LimitTotal.Bytes,
		Auth:            s.Auth,
		AuthAnonRead:    s.AuthAnonRead,
		CGI:             s.RunsCGI(),
		CGIDirs:         s.CGIDirs,
		WebDAV:          s.WebDAV,
		CGITimeout:      s.CGITimeout,
		ExitAfter:       s.ExitAfter,
		Once:            s.Once,
		Hosts:           hostNames(s),
		ShareSecretFile: shareSecretFile(s.ShareSecret),
	}
}

// shareSecretFile is where share links' key is kept: --share-secret, or
// ferry/share-secret in the user's configuration folder ("" when there is
// none: no share links).
func shareSecretFile(flag string) string {
	if flag != "" {
		return flag
	}
	f, err := sharelink.DefaultSecretFile()
	if err != nil {
		return ""
	}
	return f
}

// resolveBinds refuses a --bind name that is neither an address nor a
// known host name (a lookup, so it is not config's to do).
func resolveBinds(binds []string) error {
	for _, b := range binds {
		if err := server.ValidateBind(b); err != nil {
			return usagef("invalid --bind: %v", err)
		}
	}
	return nil
}

// listen opens the listeners, falling back to a free port when the default
// one is taken and no port was asked for.
func (a *app) listen(l *config.Listen) (*server.Listeners, error) {
	ls, err := server.Listen(l.Binds, l.Port, a.explicit("port"))
	if err != nil {
		return nil, listenError(err, l.Binds, l.Port)
	}
	return ls, nil
}

// loadCert loads a given certificate pair before listening, so that a bad
// one fails fast.
func loadCert(t config.TLS) (*tls.Certificate, error) {
	if t.Cert == "" {
		return nil, nil
	}
	c, err := server.LoadKeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return &c, nil
}

// selfSigned makes the --tls certificate once the addresses are known,
// unless a pair was given.
func selfSigned(cert *tls.Certificate, t config.TLS, ls *server.Listeners, binds []string) (*tls.Certificate, error) {
	if cert != nil || !t.On {
		return cert, nil
	}
	c, err := server.SelfSigned(server.CertHosts(ls, binds), time.Now())
	if err != nil {
		return nil, fmt.Errorf("making a TLS certificate: %w", err)
	}
	return &c, nil
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

// serveTarget picks what to serve from the arguments: one folder, or a set
// of files (and folders) to share by name.
func serveTarget(args []string) (dir string, files []string, err error) {
	if len(args) == 0 {
		return ".", nil, nil
	}
	for _, p := range args {
		if !ferry.IsObjectStore(p) {
			continue
		}
		if len(args) > 1 {
			return "", nil, usagef("%s: an object store is served alone, not with other files or folders", p)
		}
		return p, nil, nil
	}
	for _, p := range args {
		if _, err := os.Stat(p); err != nil {
			if config.PortArg(p) && errors.Is(err, os.ErrNotExist) {
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
	// With --log-file the terminal shows text lines, whatever the file's format.
	if !ok || f.Quiet || (f.Log != accesslog.FormatText && f.LogFile == "") || !term.IsTerminal(int(out.Fd())) {
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

// servedPlace is the folder's absolute path, or an object store's address.
func servedPlace(dir string) string {
	if ferry.IsObjectStore(dir) {
		return dir
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

func (a *app) banner(dir string, ls *server.Listeners, f *serveFlags, h *ferry.Handler, def int) {
	w := a.stdout
	if ls.FellBack {
		fmt.Fprintf(w, "port %d is in use; serving on port %d instead\n", def, ls.Port)
	}
	mode := "read-only"
	if can := f.Writes(); len(can) > 0 {
		mode = "writable: " + strings.Join(can, ", ")
	}
	fmt.Fprintf(w, "ferry %s serving %s (%s)\n", version.Version, servedLabel(dir, f.shared), mode)
	scheme := "http"
	if f.tlsFingerprint != "" || len(f.ACME) > 0 {
		scheme = "https"
	}
	urls := server.URLs(ls, scheme)
	if len(f.ACME) > 0 {
		// The certificates name the domains: an address would fail.
		urls = acmeURLs(f.ACME, ls.Port)
	}
	for i := range urls {
		if f.BasePath != "" {
			urls[i] += f.BasePath[1:] + "/"
		}
		fmt.Fprintf(w, "  %s\n", urls[i])
	}
	for _, ln := range ls.List {
		if server.IsUnix(ln) {
			path := ""
			if f.BasePath != "" {
				path = ", path " + f.BasePath + "/"
			}
			fmt.Fprintf(w, "  %s%s%s (Unix socket, for a reverse proxy)\n", server.UnixPrefix, ln.Addr(), path)
		}
	}
	if f.WebDAV && len(urls) > 0 {
		fmt.Fprintf(w, "webdav: %s (Finder: Go → Connect to Server; Windows: Map network drive)\n", urls[0])
	}
	var survey *ferry.Survey
	if ferry.IsObjectStore(dir) {
		// The store is counted through the handler's own tree.
		s := h.Survey(a.ctx, exposureMaxEntries, time.Now().Add(exposureMaxTime))
		survey = &s
	}
	if files := bannerFiles(dir, f, survey); len(urls) > 0 && len(files) > 0 && len(files) <= 20 {
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
	if len(f.ACME) > 0 {
		fmt.Fprintf(w, "certificates: from %s, kept in %s\n", f.ACMECA, f.ACMECache)
	}
	if f.LogFile != "" {
		fmt.Fprintf(w, "request log: appended to %s (SIGHUP reopens it, for logrotate)\n", f.LogFile)
	}
	if len(ls.Packet) > 0 {
		fmt.Fprintf(w, "HTTP/3: on UDP port %d too (announced with Alt-Svc)\n", ls.Port)
	}
	writeExposure(w, exposureRoots(dir, f.shared), f, ls, f.TLS.Enabled() || len(f.ACME) > 0, survey)
	if f.QR {
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
			if !(policy.Rules{Hidden: hidden}).Visible(e.Name()) || !e.Type().IsRegular() {
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
		if f.Once {
			fmt.Fprintln(w, onceDoneMessage(f.shared))
			break
		}
		fmt.Fprintf(w, "%d download(s) complete; exiting as asked (--exit-after)\n", f.ExitAfter)
	case server.ReasonIdle:
		fmt.Fprintf(w, "idle for %s; exiting as asked (--idle-exit)\n", f.IdleExit)
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
