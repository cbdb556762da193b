// Package cgi runs executable files under the CGI folders (/cgi-bin/,
// /htbin/ and any the operator names) as CGI/1.1 scripts (RFC 3875) for
// any HTTP method.
//
// It follows net/http/cgi.Handler for the environment and the reading of the
// script's headers, but runs the process itself: cgi.Handler starts the child
// without a context, so neither a timeout nor a client hanging up can end a
// script that never writes, it waits for the child whatever happens, it fills
// REMOTE_USER from any Authorization header, checked or not, and it refuses
// chunked bodies. Here every script runs in a process group of its own,
// killed as a whole (a shell script's `sleep` included) when the script
// exits, the timeout passes or the client leaves; a chunked body is spooled
// to a private temporary file first; REMOTE_USER names only a user ferry
// verified; and a script that fails before its headers gets 502, or 504 on
// timeout, instead of cgi.Handler's bare 500.
package cgi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/mount"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage/policy"
	"github.com/ferry-sh/ferry/internal/transfer"
	"github.com/ferry-sh/ferry/internal/version"
)

// DefaultTimeout applies when Options.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// maxHeaderBytes bounds what is read from a script before its blank line.
const maxHeaderBytes = 64 << 10

// waitDelay is how long a script's stderr may stay open after the script
// ended and its process group was killed (a descendant that left the group,
// with setsid, holding it) before it is closed under it.
const waitDelay = 2 * time.Second

// Options configures the handler.
type Options struct {
	// Folders are the CGI folders, clean relative names (from Folders).
	// Nil means cgi-bin and htbin.
	Folders []string
	Timeout time.Duration // a script running longer is killed; 0 = DefaultTimeout
	// MaxBody is the largest request body passed to a script (413 beyond
	// it), as --max-upload bounds uploads; 0 = no limit.
	MaxBody int64
	// TempDir holds chunked bodies while they are spooled; "" = os.TempDir().
	TempDir string
	Logger  *slog.Logger // script stderr and failures, at Warn; nil = none
	// Visible is the policy layer's rule for the names clients may see
	// (dotfiles, partial uploads): a script they may not see never runs.
	// Nil takes the default rules (no dotfiles).
	Visible func(name string) bool
}

// Handler runs the scripts of one served tree.
type Handler struct {
	fs   *rootfs.FS
	opts Options
}

// New returns the CGI handler for fsys.
func New(fsys *rootfs.FS, opts Options) *Handler {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Folders == nil {
		opts.Folders, _ = Folders(nil)
	}
	if opts.Visible == nil {
		opts.Visible = policy.Rules{}.Visible
	}
	return &Handler{fs: fsys, opts: opts}
}

// Folders returns the CGI folders: cgi-bin and htbin, the two that Python's
// CGIHTTPRequestHandler runs scripts from, then each of extra (as given to
// --cgi-dir) cleaned by CleanDir, without repeats.
func Folders(extra []string) ([]string, error) {
	dirs := []string{"cgi-bin", "htbin"}
	for _, e := range extra {
		d, err := CleanDir(e)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(dirs, func(x string) bool { return strings.EqualFold(x, d) }) {
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}

// CleanDir turns a folder path an operator gave ("/scripts/", "tools/bin")
// into a clean name relative to the served root. The root itself, "..",
// backslashes, control characters and ferry's reserved names are refused:
// a CGI folder must be a folder of the tree, below its top.
func CleanDir(p string) (string, error) {
	var comps []string
	for comp := range strings.SplitSeq(p, "/") {
		switch comp {
		case "", ".":
			continue
		case "..":
			return "", errors.New("a CGI folder may not contain ..")
		}
		if err := (policy.Rules{Hidden: true}).ValidateName(comp); err != nil {
			return "", errors.New("a CGI folder's " + err.Error())
		}
		comps = append(comps, comp)
	}
	if len(comps) == 0 {
		return "", errors.New("the served folder's top cannot be a CGI folder; name a folder inside it, such as /scripts/")
	}
	if policy.Reserved(comps[0]) { // any case: .FERRY is .ferry on a case-insensitive disk
		return "", errors.New(rootfs.Reserved + " is reserved for ferry's own pages")
	}
	return strings.Join(comps, "/"), nil
}

// Match reports whether the clean relative name (from rootfs.ParseURLPath)
// belongs to CGI: it is a CGI folder or lies inside one. Names are compared
// without regard to case: on a case-insensitive disk /CGI-BIN/x names the
// same file as /cgi-bin/x and must not hand out a script's source; Serve
// then runs only names that spell the folder exactly.
func (h *Handler) Match(name string) bool {
	for _, d := range h.opts.Folders {
		if rootfs.Within(name, d) {
			return true
		}
	}
	return false
}

// Serve answers a request whose clean name Match accepted; dir reports a
// trailing slash in the request path, which PATH_INFO keeps.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, name string, dir bool) {
	folder, script, pathInfo, status, detail := h.resolve(name)
	if status != 0 {
		httperr.Write(w, r, status, detail)
		return
	}
	host := filepath.Join(h.fs.Dir(), filepath.FromSlash(script))
	exe, ok := h.insideFolder(host, folder)
	if !ok {
		httperr.Write(w, r, http.StatusForbidden, "not an executable CGI script")
		return
	}
	if dir && !strings.HasSuffix(pathInfo, "/") {
		pathInfo += "/"
	}
	h.run(w, r, "/"+script, pathInfo, exe)
}

// folder returns the CGI folder name lies in, spelled exactly as
// configured: the longest, should one hold another.
func (h *Handler) folder(name string) (string, bool) {
	best := ""
	for _, d := range h.opts.Folders {
		if (name == d || strings.HasPrefix(name, d+"/")) && len(d) > len(best) {
			best = d
		}
	}
	return best, best != ""
}

// resolve finds the script: the first (so the longest, as a file has no
// children) prefix of name below its CGI folder that is a regular file.
// Every step goes through the *os.Root and the policy layer's rules, whatever
// --follow-symlinks says: nothing outside the tree ever runs. It returns a
// status other than 0, with a detail for the client, when there is nothing
// to run.
func (h *Handler) resolve(name string) (folder, script, pathInfo string, status int, detail string) {
	folder, ok := h.folder(name)
	if !ok {
		return "", "", "", http.StatusNotFound, ""
	}
	depth := strings.Count(folder, "/") + 1
	comps := strings.Split(name, "/")
	for i := 1; i <= len(comps); i++ {
		prefix := strings.Join(comps[:i], "/")
		if !h.opts.Visible(prefix) {
			return "", "", "", http.StatusNotFound, ""
		}
		info, err := h.fs.Root().Stat(prefix)
		switch {
		case errors.Is(err, fs.ErrPermission):
			return "", "", "", http.StatusForbidden, ""
		case err != nil:
			return "", "", "", http.StatusNotFound, ""
		case info.IsDir():
			continue
		case i <= depth:
			// The CGI folder itself, or a folder on the way to it, is no
			// folder: nothing there is a script.
			return "", "", "", http.StatusNotFound, ""
		case !info.Mode().IsRegular():
			return "", "", "", http.StatusNotFound, ""
		case info.Mode().Perm()&0o111 == 0:
			// Never the source: a script's text may hold secrets.
			return "", "", "", http.StatusForbidden, "not an executable CGI script"
		}
		if i < len(comps) {
			pathInfo = "/" + strings.Join(comps[i:], "/")
		}
		return folder, prefix, pathInfo, 0, ""
	}
	// A folder: the scripts it holds are not listed.
	return "", "", "", http.StatusForbidden, "CGI folders are not listed"
}

// insideFolder resolves the symlinks of a script's host path and reports
// whether the file it leads to lies in its CGI folder. os.Root already
// refused links out of the tree; this refuses links from the CGI folder to
// elsewhere in it (an uploaded file, say). The resolved path is what runs,
// so a link swapped after this check cannot redirect the exec.
func (h *Handler) insideFolder(host, folder string) (string, bool) {
	exe, err := filepath.EvalSymlinks(host)
	if err != nil {
		return "", false
	}
	bin, err := filepath.EvalSymlinks(filepath.Join(h.fs.Dir(), filepath.FromSlash(folder)))
	if err != nil {
		return "", false
	}
	return exe, strings.HasPrefix(exe, bin+string(filepath.Separator))
}

func (h *Handler) run(w http.ResponseWriter, r *http.Request, scriptName, pathInfo, exe string) {
	log := h.opts.Logger
	if log == nil {
		log = slog.New(discard{})
	}
	log = log.With("script", scriptName)

	stdin, contentLength, release, ok := h.body(w, r, log)
	if !ok {
		return
	}
	defer release()

	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	// Only a name the auth middleware verified; without --auth, an
	// Authorization header is the client's word and nothing more.
	user := transfer.FromContext(r.Context()).User
	// SCRIPT_NAME is the script's URL path as the client reaches it (RFC
	// 3875 §4.1.13), so with the prefix of --base-path or of a library
	// mount: a script that links to itself must not point outside it.
	env := Env(r, user, mount.Prefix(r)+scriptName, pathInfo, exe, contentLength)
	p, err := start(ctx, exe, env, stdin, &lineLogger{log: log})
	if err != nil {
		log.Warn("cgi script could not start", "error", err.Error())
		httperr.Write(w, r, http.StatusBadGateway, "CGI script could not start")
		return
	}
	defer p.finish(cancel, w)

	lim := &limitedReader{r: p.stdout, n: maxHeaderBytes}
	br := bufio.NewReaderSize(lim, 4096)
	hdr, herr := textproto.NewReader(br).ReadMIMEHeader()
	var code int
	if herr == nil {
		code, herr = responseStatus(hdr)
	}
	if herr != nil {
		// Stop the script before waiting for it: it may still be writing.
		cancel()
		<-p.exited
		p.closeIfBodyPending(w, r)
		switch {
		case r.Context().Err() != nil:
			// The client left; there is nobody to answer.
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			log.Warn("cgi script killed: no response within the timeout", "timeout", h.opts.Timeout.String())
			httperr.Write(w, r, http.StatusGatewayTimeout, "CGI script did not answer in time")
		default:
			log.Warn("cgi script sent no valid response", "problem", herr.Error(), "exit", exitText(p.err))
			httperr.Write(w, r, http.StatusBadGateway, "CGI script sent no valid response")
		}
		return
	}
	lim.n = -1

	out := w.Header()
	for k, vv := range hdr {
		if hopByHop[k] || k == "Status" {
			continue
		}
		out[k] = vv
	}
	p.closeIfBodyPending(w, r)
	w.WriteHeader(code)
	copyErr := copyFlushing(w, br)
	<-p.exited
	switch {
	case r.Context().Err() != nil:
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		log.Warn("cgi script killed after the timeout; response cut short", "timeout", h.opts.Timeout.String())
	case copyErr != nil:
		log.Warn("cgi script output failed", "error", copyErr.Error())
	case p.err != nil:
		log.Warn("cgi script ended with an error", "exit", exitText(p.err))
	}
}

// body readies the request body for the script's stdin: nil when there is
// none, the request's own body when its length is known (streamed as the
// script reads it), or a temporary file holding a chunked body. CGI gives a
// script its body's length in CONTENT_LENGTH before the script starts (RFC
// 3875 §4.1.2), and scripts such as git-http-backend rely on it, so a body
// of unknown length (git push sends one whenever the pack exceeds its
// http.postBuffer) is read whole first, as nginx does. It answers the
// request itself when ok is false; release frees what it took.
func (h *Handler) body(w http.ResponseWriter, r *http.Request, log *slog.Logger) (stdin io.Reader, n int64, release func(), ok bool) {
	max := h.opts.MaxBody
	none := func() {}
	switch {
	case r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody:
		return nil, 0, none, true
	case r.ContentLength > 0:
		if max > 0 && r.ContentLength > max {
			h.tooLarge(w, r)
			return nil, 0, none, false
		}
		// A script may print its headers before it reads its input; without
		// full duplex, net/http would close the body once they are sent.
		http.NewResponseController(w).EnableFullDuplex()
		return r.Body, r.ContentLength, none, true
	}

	// Spooled in the system's temporary folder, not the served tree: the
	// body is the script's input, not a file of the share, and the tree
	// may be read-only. The file is private (0600) and, where the system
	// allows, loses its name at once: nothing else can open it, and it
	// goes away with its last descriptor whatever happens to ferry.
	f, err := os.CreateTemp(h.opts.TempDir, "ferry-cgi-body-*")
	if err != nil {
		log.Warn("cgi: cannot spool a chunked request body", "error", err.Error())
		httperr.Write(w, r, http.StatusInternalServerError, "")
		return nil, 0, none, false
	}
	unlinked := os.Remove(f.Name()) == nil
	release = func() {
		f.Close()
		if !unlinked {
			os.Remove(f.Name())
		}
	}
	src := &readTracker{r: r.Body}
	var in io.Reader = src
	if max > 0 {
		in = io.LimitReader(src, max+1)
	}
	n, err = io.Copy(f, in)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	switch {
	case src.err != nil:
		release()
		httperr.Write(w, r, http.StatusBadRequest, "request body ended early")
		return nil, 0, none, false
	case err != nil:
		release()
		log.Warn("cgi: cannot spool a chunked request body", "error", err.Error())
		status, msg, _ := httperr.ForStorage(rootfs.WriteErr(err))
		if status == http.StatusInsufficientStorage {
			msg = "not enough space on the server for the request body"
		}
		httperr.NoteErr(w, err)
		httperr.Write(w, r, status, msg)
		return nil, 0, none, false
	case max > 0 && n > max:
		release()
		h.tooLarge(w, r)
		return nil, 0, none, false
	case n == 0:
		release()
		return nil, 0, none, true
	}
	return f, n, release, true
}

func (h *Handler) tooLarge(w http.ResponseWriter, r *http.Request) {
	httperr.Write(w, r, http.StatusRequestEntityTooLarge,
		"request body larger than the limit of "+strconv.FormatInt(h.opts.MaxBody, 10)+" bytes")
}

// readTracker remembers a failed read, to tell a client's broken body
// from a disk's failed write.
type readTracker struct {
	r   io.Reader
	err error
}

func (t *readTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

// responseStatus picks the status from a script's headers (RFC 3875 §6.3):
// Status if given, else 302 for a Location, else 200, which requires a
// Content-Type. An empty header block is no CGI response at all.
func responseStatus(h textproto.MIMEHeader) (int, error) {
	if len(h) == 0 {
		return 0, errors.New("no headers")
	}
	if s, ok := h["Status"]; ok {
		return ParseStatus(s[0])
	}
	if h.Get("Location") != "" {
		return http.StatusFound, nil
	}
	if h.Get("Content-Type") == "" {
		return 0, errors.New("no Content-Type")
	}
	return http.StatusOK, nil
}

// ParseStatus reads a Status header value, "418 I'm a teapot" or "418".
// Informational codes are refused: a script cannot take part in that
// exchange, and net/http would wait for a second status.
func ParseStatus(v string) (int, error) {
	v = strings.TrimSpace(v)
	digits, _, _ := strings.Cut(v, " ")
	if len(digits) != 3 {
		return 0, errors.New("bad Status")
	}
	code, err := strconv.Atoi(digits)
	if err != nil || code < 200 || code > 599 {
		return 0, errors.New("bad Status")
	}
	return code, nil
}

// hopByHop are headers of one connection (RFC 9110 §7.6.1) that a script
// cannot set for ferry's connection to the client.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Transfer-Encoding": true, "Te": true, "Trailer": true, "Upgrade": true,
}

// copyFlushing copies the script's body, flushing whenever the script
// pauses, so that a script streaming its output is seen as it writes.
func copyFlushing(w http.ResponseWriter, br *bufio.Reader) error {
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := br.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil // the client left; the context ends the script
			}
			if br.Buffered() == 0 {
				rc.Flush()
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Env builds a script's environment as net/http/cgi does, with ferry's
// SERVER_SOFTWARE, the decoded SCRIPT_NAME (as given) and PATH_INFO, and
// without HTTP_PROXY (httpoxy, Go issue 16405: a "Proxy:" request header must
// not become the script's proxy setting). Credentials are not passed on as
// HTTP_AUTHORIZATION, as Apache does not: user, the name ferry verified
// ("" when none was), arrives as REMOTE_USER. Header names with "_" are dropped, as nginx and Apache do,
// so that "X_Forwarded_For" cannot pose as "X-Forwarded-For".
func Env(r *http.Request, user, scriptName, pathInfo, exe string, contentLength int64) []string {
	port := "80"
	if r.TLS != nil {
		port = "443"
	}
	serverName := r.Host
	if h, p, err := net.SplitHostPort(r.Host); err == nil {
		serverName, port = h, p
	}
	env := []string{
		"SERVER_SOFTWARE=ferry/" + version.Version,
		"SERVER_NAME=" + serverName,
		"SERVER_PORT=" + port,
		"SERVER_PROTOCOL=" + r.Proto,
		"GATEWAY_INTERFACE=CGI/1.1",
		"REQUEST_METHOD=" + r.Method,
		"REQUEST_URI=" + r.RequestURI,
		"QUERY_STRING=" + r.URL.RawQuery,
		"SCRIPT_NAME=" + scriptName,
		"SCRIPT_FILENAME=" + exe,
		"PATH_INFO=" + pathInfo,
		"HTTP_HOST=" + r.Host,
	}
	if ip, p, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		env = append(env, "REMOTE_ADDR="+ip, "REMOTE_HOST="+ip, "REMOTE_PORT="+p)
	} else {
		env = append(env, "REMOTE_ADDR="+r.RemoteAddr, "REMOTE_HOST="+r.RemoteAddr)
	}
	if r.TLS != nil {
		env = append(env, "HTTPS=on")
	}
	if user != "" {
		env = append(env, "AUTH_TYPE=Basic", "REMOTE_USER="+user)
	}
	if contentLength > 0 {
		env = append(env, "CONTENT_LENGTH="+strconv.FormatInt(contentLength, 10))
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		env = append(env, "CONTENT_TYPE="+ct)
	}
	for k, vv := range r.Header {
		if strings.ContainsRune(k, '_') {
			continue
		}
		name := strings.ToUpper(strings.ReplaceAll(k, "-", "_"))
		switch name {
		case "PROXY", "AUTHORIZATION", "PROXY_AUTHORIZATION", "CONTENT_LENGTH", "CONTENT_TYPE":
			continue
		}
		sep := ", "
		if name == "COOKIE" {
			sep = "; "
		}
		env = append(env, "HTTP_"+name+"="+strings.Join(vv, sep))
	}
	path := os.Getenv("PATH")
	if path == "" {
		path = "/bin:/usr/bin:/usr/local/bin"
	}
	env = append(env, "PATH="+path)
	for _, k := range []string{"LD_LIBRARY_PATH", "SYSTEMROOT", "TZ", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func exitText(err error) string {
	if err == nil {
		return "0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ProcessState.String()
	}
	return err.Error()
}

// limitedReader fails once more than n bytes were read; n < 0 lifts the
// limit. Unlike io.LimitReader it reports the excess as an error rather
// than a clean EOF, so an endless header block is a bad response.
type limitedReader struct {
	r io.Reader
	n int64
}

var errHeaderTooLong = errors.New("header block too long")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return l.r.Read(p)
	}
	if l.n == 0 {
		return 0, errHeaderTooLong
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

type discard struct{}

func (discard) Enabled(context.Context, slog.Level) bool  { return false }
func (discard) Handle(context.Context, slog.Record) error { return nil }
func (d discard) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discard) WithGroup(string) slog.Handler           { return d }
