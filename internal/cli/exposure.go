package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferry-sh/ferry"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/server"
	"github.com/ferry-sh/ferry/internal/share"
	"github.com/ferry-sh/ferry/internal/storage/policy"
)

// Bounds of the startup walk: the banner must appear at once even for a
// home folder on a slow disk.
const (
	exposureMaxEntries = 100_000
	exposureMaxTime    = time.Second
	// refusedDepth: dotfiles and outside links are counted in the first
	// levels, where a forgotten .git or .env usually sits.
	refusedDepth = 2
)

// exposure is what a served tree exposes and refuses, as counted at startup.
type exposure struct {
	files, dirs int
	truncated   bool // stopped counting at a bound
	dotfiles    int  // in the first refusedDepth levels
	outLinks    int  // symlinks leading out of the folder, first levels
	noLinks     bool // an object store, which has no symlinks
}

// countExposure walks roots (the served folder, or the shared names) of a
// folder on this machine, with the policy layer's rules for names. It reads
// the folder directly, read-only, because it must also see what the policy
// and rootfs hide: dotfiles, and symlinks that lead out. (An object store
// is counted through the handler's tree: ferry.Handler.Survey.)
func countExposure(roots []string, hidden, followSymlinks bool) exposure {
	var e exposure
	rules := policy.Rules{Hidden: hidden}
	deadline := time.Now().Add(exposureMaxTime)
	type job struct {
		dir   string // host path
		root  string // the served folder it belongs to, for "leads out"
		rel   string // the name in the served tree
		depth int
	}
	var queue []job
	for _, r := range roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			continue
		}
		st, err := os.Stat(abs)
		if err != nil {
			continue
		}
		if !st.IsDir() {
			e.files++
			continue
		}
		rel := "."
		if len(roots) > 1 {
			e.dirs++
			rel = filepath.Base(abs)
		}
		queue = append(queue, job{abs, abs, rel, 1})
	}
	// Breadth first, so the top levels are counted before any bound hits.
	for len(queue) > 0 {
		j := queue[0]
		queue = queue[1:]
		d, err := os.Open(j.dir)
		if err != nil {
			continue
		}
		for {
			ents, rerr := d.ReadDir(512)
			for _, de := range ents {
				if e.files+e.dirs >= exposureMaxEntries || time.Now().After(deadline) {
					e.truncated = true
					d.Close()
					return e
				}
				name := de.Name()
				rel := path.Join(j.rel, name)
				if !rules.Visible(rel) {
					// ferry's own (partial uploads, WebDAV's state) are no
					// user's dotfiles.
					if j.depth <= refusedDepth && !strings.HasPrefix(name, rootfs.TempPrefix) && rel != rootfs.Reserved {
						e.dotfiles++
					}
					continue
				}
				full := filepath.Join(j.dir, name)
				isDir := de.IsDir()
				if de.Type()&fs.ModeSymlink != 0 {
					st, err := os.Stat(full)
					if err != nil {
						continue // dangling: refused, but nothing is exposed
					}
					if !inside(full, j.root) && !followSymlinks {
						if j.depth <= refusedDepth {
							e.outLinks++
						}
						continue
					}
					isDir = st.IsDir()
					if isDir {
						// Links are counted, not followed: a loop must not
						// keep the banner waiting.
						e.dirs++
						continue
					}
				}
				if isDir {
					e.dirs++
					queue = append(queue, job{full, j.root, rel, j.depth + 1})
				} else if de.Type().IsRegular() || de.Type()&fs.ModeSymlink != 0 {
					e.files++
				}
			}
			if rerr != nil {
				break
			}
		}
		d.Close()
	}
	return e
}

// inside reports whether the symlink at link resolves to a place under root.
func inside(link, root string) bool {
	target, err := filepath.EvalSymlinks(link)
	if err != nil {
		return false
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(realRoot, target)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// writeExposure prints the summary lines of the banner.
func writeExposure(w io.Writer, roots []string, f *serveFlags, ls *server.Listeners, tls bool, survey *ferry.Survey) {
	var e exposure
	if survey != nil {
		e = exposure{files: survey.Files, dirs: survey.Folders, truncated: survey.Truncated, dotfiles: survey.Dotfiles, noLinks: true}
	} else {
		e = countExposure(roots, f.Hidden, f.FollowSymlinks)
	}
	count := func(n int, one, many string) string {
		s := fmt.Sprintf("%d %s", n, many)
		if n == 1 {
			s = "1 " + one
		}
		if e.truncated {
			s = "more than " + s
		}
		return s
	}
	fmt.Fprintf(w, "exposed: %s and %s", count(e.files, "file", "files"), count(e.dirs, "folder", "folders"))
	if e.truncated {
		fmt.Fprintf(w, " (stopped counting)")
	}
	fmt.Fprintln(w)

	var refused []string
	if f.Hidden {
		refused = append(refused, "dotfiles are SHARED (--hidden)")
	} else {
		refused = append(refused, fmt.Sprintf("%d dotfile(s) near the top", e.dotfiles))
	}
	switch {
	case e.noLinks:
	case f.FollowSymlinks:
		refused = append(refused, "symlinks leading out are FOLLOWED (--follow-symlinks)")
	default:
		refused = append(refused, fmt.Sprintf("%d symlink(s) leading out", e.outLinks))
	}
	fmt.Fprintf(w, "refused: %s\n", strings.Join(refused, "; "))

	writes := f.Writes()
	if f.RunsCGI() {
		writes = append(writes, "CGI scripts run")
	}
	if len(writes) == 0 {
		writes = append(writes, "none (read-only)")
	}
	fmt.Fprintf(w, "writes: %s\n", strings.Join(writes, ", "))

	var addrs []string
	for _, ln := range ls.List {
		addrs = append(addrs, boundLabel(ln.Addr()))
	}
	authState := "off: anyone who can reach these addresses can " + anyoneCan(f)
	if len(f.Auth) > 0 {
		authState = fmt.Sprintf("on (%d user(s))", len(f.Auth))
		if f.AuthAnonRead {
			authState += ", anyone may read"
		}
	}
	tlsState := "off (plain HTTP)"
	if tls {
		tlsState = "on"
	}
	fmt.Fprintf(w, "bound: %s; auth %s; TLS %s\n", strings.Join(addrs, ", "), authState, tlsState)
	writeHosts(w, f)
	if f.LimitRate.IsSet() || f.LimitTotal.IsSet() {
		var lim []string
		if f.LimitRate.IsSet() {
			lim = append(lim, f.LimitRate.String()+"/s per connection")
		}
		if f.LimitTotal.IsSet() {
			lim = append(lim, f.LimitTotal.String()+"/s in total")
		}
		fmt.Fprintf(w, "rate limit: %s\n", strings.Join(lim, ", "))
	}
}

// boundLabel says where a listener listens. A wildcard address is put in
// words: "[::]:8000" tells a newcomer nothing, and 0.0.0.0 looks like no
// address at all.
func boundLabel(a net.Addr) string {
	if a.Network() == "unix" {
		return server.UnixPrefix + a.String()
	}
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip, _ := netip.AddrFromSlice(ta.IP)
	switch {
	case !ip.IsUnspecified() && !ip.Unmap().IsUnspecified():
		return ta.String()
	case ip.Unmap().Is4():
		return fmt.Sprintf("every IPv4 interface, port %d", ta.Port)
	default:
		// Go's "tcp" listener on [::] is dual-stack: it takes IPv4 too.
		return fmt.Sprintf("every interface, IPv4 and IPv6, port %d", ta.Port)
	}
}

// anyoneCan words what a client without credentials may do: with writes on
// and no --auth, that is far more than reading, and the banner must say so.
func anyoneCan(f *serveFlags) string {
	can := append([]string{"read"}, f.Writes()...)
	if f.RunsCGI() {
		can = append(can, "run CGI scripts")
	}
	if len(can) == 1 {
		return can[0]
	}
	return strings.Join(can[:len(can)-1], ", ") + " and " + can[len(can)-1]
}

// openHandler makes the handler for a folder, or for a set of named files.
// With a folder, --once means the first complete download (a file, or the
// folder as an archive) ends the share, as --exit-after 1.
func openHandler(dir string, files []string, opts ferry.Options) (*ferry.Handler, error) {
	if files == nil {
		if opts.Once && opts.ExitAfter == 0 {
			opts.ExitAfter = 1
		}
		h, err := ferry.New(dir, opts)
		switch {
		case err == nil:
			return h, nil
		case errors.Is(err, ferry.ErrUnreachable):
			// Not a mistake on the command line: the store may be back
			// later (exit status 1).
			return nil, fmt.Errorf("cannot serve %s: %w", dir, err)
		case ferry.IsObjectStore(dir):
			return nil, usagef("cannot serve %s: %v", dir, err)
		}
		return nil, usagef("cannot serve %s: %v", dir, describeFSErr(err))
	}
	h, err := ferry.NewFiles(files, opts)
	var ue *share.UsageError
	switch {
	case err == nil:
		return h, nil
	case errors.Is(err, ferry.ErrFilesReadOnly):
		return nil, usagef("--upload, --delete, --overwrite, -w, --cgi and --webdav need a folder to serve; named files are shared read-only")
	case errors.As(err, &ue):
		return nil, usagef("%s", ue.Msg)
	default:
		return nil, usagef("cannot share %s: %v", strings.Join(files, " "), describeFSErr(err))
	}
}

// servedLabel says what the banner serves: the folder, or the named files.
func servedLabel(dir string, shared []string) string {
	if shared == nil {
		return dir
	}
	if len(shared) == 1 {
		return "1 named file or folder"
	}
	return fmt.Sprintf("%d named files and folders", len(shared))
}

// bannerFiles lists the names to print a direct link for.
func bannerFiles(dir string, f *serveFlags, survey *ferry.Survey) []string {
	if survey != nil {
		return survey.Top
	}
	if f.shared == nil {
		return topFiles(dir, f.Hidden)
	}
	out := make([]string, 0, len(f.shared))
	for _, p := range f.shared {
		abs, err := filepath.Abs(p)
		if err == nil {
			out = append(out, filepath.Base(abs))
		}
	}
	return out
}

func exposureRoots(dir string, shared []string) []string {
	if shared != nil {
		return shared
	}
	return []string{dir}
}

func onceDoneMessage(shared []string) string {
	if shared == nil {
		return "the folder was downloaded once; exiting as asked (--once)"
	}
	return "every shared file was downloaded completely once; exiting as asked (--once)"
}
