// Package rootfs is the only package that touches the served folder. Every
// access goes through an *os.Root, which refuses ".." escapes and symlinks
// that lead out of the folder; on top of it sit the rules that only a folder
// on this machine has: symlinks (followed out with FollowSymlinks), devices
// and FIFOs (never served), and withheld CGI folders. Which names clients
// may see (dotfiles, partial uploads, the reserved name) is decided once for
// every backend, by the policy layer above (internal/storage/policy).
package rootfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Reserved is the top-level name a handler keeps for its own pages
// (/.ferry/) and state: the policy layer never lists nor serves it, even
// with --hidden, since requests for it never reach the tree.
const Reserved = ".ferry"

// TempPrefix starts the names of partial uploads. The policy layer never
// lists nor serves them, even with --hidden.
const TempPrefix = Reserved + "-part-"

// Policy says how the folder's own kinds of entries are treated.
type Policy struct {
	FollowSymlinks bool // follow symlinks that lead outside the root
	// Withheld are clean relative folder names (CGI folders) whose members
	// are never read as files (Open, OpenIn): a script's text may hold
	// secrets, so no listing, download, archive or copy may hand it out.
	// Names compare without regard to case, as a case-insensitive disk
	// would.
	Withheld []string
}

// FS is a served folder.
type FS struct {
	root    *os.Root
	dir     string // absolute host path; used only for FollowSymlinks
	realDir string // dir with its own symlinks resolved, for absolute links inside
	policy  Policy
}

// Open opens dir as the served root.
func Open(dir string, p Policy) (*FS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, err
	}
	realDir, err := filepath.EvalSymlinks(abs)
	if err != nil {
		realDir = abs
	}
	return &FS{root: root, dir: abs, realDir: realDir, policy: p}, nil
}

// Close releases the root.
func (f *FS) Close() error { return f.root.Close() }

// Dir is the served folder's absolute host path. It is for the operator's
// eyes (banner) and for CGI, never for client responses.
func (f *FS) Dir() string { return f.dir }

// Policy returns the policy the tree is served with.
func (f *FS) Policy() Policy { return f.policy }

// Root exposes the *os.Root for packages that must hand a rooted handle to
// the standard library.
func (f *FS) Root() *os.Root { return f.root }

// Withheld reports whether a clean relative name is one of the policy's
// withheld folders or lies inside one.
func (f *FS) Withheld(name string) bool {
	for _, w := range f.policy.Withheld {
		if Within(name, w) {
			return true
		}
	}
	return false
}

// EnclosesWithheld reports whether a clean relative name is, lies inside or
// holds a withheld folder: moving or copying it would carry scripts out of a
// CGI folder, or files into one.
func (f *FS) EnclosesWithheld(name string) bool {
	for _, w := range f.policy.Withheld {
		if Within(name, w) || name == "." || Within(w, name) {
			return true
		}
	}
	return false
}

// Within reports whether the clean relative name is dir or lies below it,
// comparing components without regard to case.
func Within(name, dir string) bool {
	for d := range strings.SplitSeq(dir, "/") {
		if name == "" {
			return false
		}
		comp, rest, _ := strings.Cut(name, "/")
		if !strings.EqualFold(comp, d) {
			return false
		}
		name = rest
	}
	return true
}

// Open opens a clean relative name for reading, following the policy:
// symlinks that escape look absent.
func (f *FS) Open(name string) (*os.File, fs.FileInfo, error) {
	if f.Withheld(name) {
		return nil, nil, fs.ErrPermission
	}
	// O_NONBLOCK makes opening a FIFO return at once instead of waiting for
	// a writer (which would hang the request); it is then refused below.
	// Regular files and folders ignore the flag.
	const flags = os.O_RDONLY | syscall.O_NONBLOCK
	file, err := f.root.OpenFile(name, flags, 0)
	if err != nil && f.policy.FollowSymlinks && !errors.Is(err, fs.ErrNotExist) {
		// The lexical name holds no "..", so the only way out is through a
		// symlink, which the operator allowed.
		file, err = os.OpenFile(filepath.Join(f.dir, filepath.FromSlash(name)), flags, 0)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		if inside, ok := f.resolveInside(name); ok {
			file, err = f.root.OpenFile(inside, flags, 0)
		}
	}
	if err != nil {
		return nil, nil, classify(err)
	}
	if f.heldBack(file, name) {
		file.Close()
		return nil, nil, fs.ErrPermission
	}
	return servable(file)
}

// heldBack reports whether file, just opened as name, lies in a withheld
// folder once the symlinks on its way are resolved: a link elsewhere in the
// tree (pub/peek -> ../cgi-bin/app.sh, pub/bin -> ../cgi-bin, an absolute
// one, or one followed out and back in) must not hand out what the CGI
// folder's own name withholds. Without withheld folders it costs nothing;
// with them, what the descriptor itself leads to is asked (one readlink on
// Linux), so a link swapped after the open changes nothing. A file whose
// place cannot be learnt is held back.
func (f *FS) heldBack(file *os.File, name string) bool {
	if len(f.policy.Withheld) == 0 {
		return false
	}
	host, ok := hostPath(file)
	if !ok {
		var err error
		if host, err = filepath.EvalSymlinks(filepath.Join(f.dir, filepath.FromSlash(name))); err != nil {
			return true
		}
	}
	rel, inside := f.relInside(host)
	return inside && f.Withheld(rel)
}

// relInside turns a host path with no symlinks left into a clean relative
// name; inside is false when it lies outside the served folder.
func (f *FS) relInside(host string) (rel string, inside bool) {
	rel, err := filepath.Rel(f.realDir, host)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// ReachesWithheld is EnclosesWithheld for where name leads once the
// symlinks of its parent folders are resolved, and its own with follow (a
// copy reads what a link points to; a move renames the link itself): a MOVE
// or COPY through a link must not carry a CGI folder's scripts out, nor put
// anything in. Only with withheld folders; a name that cannot be resolved
// counts as reaching one.
func (f *FS) ReachesWithheld(name string, follow bool) bool {
	if len(f.policy.Withheld) == 0 {
		return false
	}
	rel, inside, err := f.resolve(name, follow)
	return err != nil || inside && f.EnclosesWithheld(rel)
}

// resolve gives the clean relative name that name leads to with the
// symlinks of its parent folders resolved, and its own with final; inside
// is false when that lies outside the served folder.
func (f *FS) resolve(name string, final bool) (rel string, inside bool, err error) {
	if !final && name != "." {
		dir, inside, err := f.resolve(path.Dir(name), true)
		if err != nil || !inside {
			return "", inside, err
		}
		return path.Join(dir, path.Base(name)), true, nil
	}
	host, err := filepath.EvalSymlinks(filepath.Join(f.dir, filepath.FromSlash(name)))
	if err != nil {
		return "", false, err
	}
	rel, inside = f.relInside(host)
	return rel, inside, nil
}

// servable stats an opened member and keeps it only if it is a regular file
// or a folder: devices, sockets and FIFOs are no files to share, and a FIFO
// would block the request forever.
func servable(file *os.File) (*os.File, fs.FileInfo, error) {
	info, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, nil, classify(err)
	}
	if !info.Mode().IsRegular() && !info.IsDir() {
		file.Close()
		return nil, nil, fs.ErrNotExist
	}
	return file, info, nil
}

// Stat returns the info of a name under the policy (symlinks followed as Open would).
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	info, err := f.root.Stat(name)
	if err != nil && f.policy.FollowSymlinks && !errors.Is(err, fs.ErrNotExist) {
		info, err = os.Stat(filepath.Join(f.dir, filepath.FromSlash(name)))
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		if inside, ok := f.resolveInside(name); ok {
			info, err = f.root.Stat(inside)
		}
	}
	if err != nil {
		return nil, classify(err)
	}
	return info, nil
}

// resolveInside handles what os.Root refuses although it stays in the tree:
// an absolute symlink whose target lies inside the served folder. It
// resolves every link of name and, when the result is inside, returns it as
// a link-free name relative to the root; the root still refuses it should a
// link be swapped in meanwhile.
func (f *FS) resolveInside(name string) (string, bool) {
	resolved, err := filepath.EvalSymlinks(filepath.Join(f.dir, filepath.FromSlash(name)))
	if err != nil {
		return "", false
	}
	return f.relInside(resolved)
}

// Lstat returns the info of a name without following a final symlink.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	info, err := f.root.Lstat(name)
	if err != nil {
		return nil, classify(err)
	}
	return info, nil
}

// Entry is one visible member of a folder.
type Entry struct {
	Name    string
	IsDir   bool
	Size    int64
	ModTime time.Time
}

// ReadDir lists an open folder under the policy: symlinks that lead out
// (unless FollowSymlinks) or nowhere are skipped, and so is anything that is
// neither a file nor a folder (FIFOs, devices, sockets). name is the
// folder's clean relative name. On Linux the folder is read with getdents
// and each entry stat'ed relative to the folder's descriptor
// (readdir_linux.go); elsewhere through os.File.ReadDir.
func (f *FS) ReadDir(dir *os.File, name string) ([]Entry, error) {
	return f.readDir(dir, name)
}

// ReadNames lists the names of an open folder without learning anything
// else of them: for walks that open every member anyway (archives), where
// OpenIn's fstat gives what ReadDir's stat would.
func (f *FS) ReadNames(dir *os.File, name string) ([]string, error) {
	return f.readNames(dir, name)
}

func (f *FS) readNamesPortable(dir *os.File) ([]string, error) {
	var out []string
	for {
		batch, err := dir.Readdirnames(1024)
		for _, n := range batch {
			if listable(n) {
				out = append(out, n)
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || len(batch) == 0 {
				return out, nil
			}
			return out, err
		}
	}
}

// OpenIn opens member, a name ReadNames gave, of the folder open as dir
// whose clean relative name is dirName. It answers as Open(dirName/member)
// would, with the same policy for symlinks, FIFOs and devices, but on Linux
// opens a plain file or folder with one openat on dir's descriptor instead of
// resolving the path from the root again.
func (f *FS) OpenIn(dir *os.File, dirName, member string) (*os.File, fs.FileInfo, error) {
	rel := path.Join(dirName, member)
	if !listable(member) || strings.IndexByte(member, '/') >= 0 {
		return nil, nil, fs.ErrNotExist
	}
	if f.Withheld(rel) {
		return nil, nil, fs.ErrPermission
	}
	file, ok, err := f.openIn(dir, member)
	if !ok {
		return f.Open(rel)
	}
	if err != nil {
		return nil, nil, err
	}
	file, info, err := servable(file)
	// dir came from Open or OpenIn, which held it back were it in a
	// withheld folder, and a member opened without following a link lies
	// in dir: only a folder can be a withheld one itself, reached through
	// a link to an ancestor (pub/top -> .., then pub/top/cgi-bin).
	if err == nil && info.IsDir() && f.heldBack(file, rel) {
		file.Close()
		return nil, nil, fs.ErrPermission
	}
	return file, info, err
}

// listable reports whether a folder member's base name names a member:
// not empty, ".", or "..".
func listable(n string) bool {
	return n != "" && n != "." && n != ".."
}

// symlinkEntry resolves a listed symlink the way Open would (inside the root,
// or anywhere with FollowSymlinks); ok is false for links that lead out,
// nowhere, or to something that is neither a file nor a folder.
func (f *FS) symlinkEntry(dirName, n string) (e Entry, ok bool) {
	info, err := f.Stat(path.Join(dirName, n))
	if err != nil {
		return Entry{}, false
	}
	return entryOf(n, info)
}

func entryOf(n string, info fs.FileInfo) (e Entry, ok bool) {
	e = Entry{Name: n, IsDir: info.IsDir(), ModTime: info.ModTime()}
	if !e.IsDir {
		if !info.Mode().IsRegular() {
			return Entry{}, false
		}
		e.Size = info.Size()
	}
	return e, true
}

// readDirPortable is ReadDir through os.File.ReadDir: the fallback where the
// descriptor cannot be used directly.
func (f *FS) readDirPortable(dir *os.File, name string) ([]Entry, error) {
	var out []Entry
	for {
		batch, err := dir.ReadDir(1024)
		for _, de := range batch {
			n := de.Name()
			if !listable(n) {
				continue
			}
			var e Entry
			var ok bool
			if de.Type()&fs.ModeSymlink != 0 {
				e, ok = f.symlinkEntry(name, n)
			} else if info, ierr := de.Info(); ierr == nil {
				e, ok = entryOf(n, info)
			}
			if ok {
				out = append(out, e)
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || len(batch) == 0 {
				return out, nil
			}
			return out, err
		}
	}
}

// classify maps errors from the filesystem to the few that handlers act on.
// os.Root's escape error is unexported, so anything that is not a known
// condition is reported as absent: to a client, a name that leads out of the
// tree must look exactly like one that does not exist.
func classify(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fs.ErrNotExist
	case errors.Is(err, fs.ErrPermission):
		return fs.ErrPermission
	default:
		return fs.ErrNotExist
	}
}
