// Package share serves a fixed set of named files (and folders) that may live
// in different folders, as `ferry FILE...` does: each at /NAME, the root
// listing just them, nothing else reachable. Every parent folder is opened as
// its own storage tree (the local backend under the policy layer),
// restricted to the names shared from it, so reads, archives and the
// dotfile and symlink rules are the ordinary ones.
package share

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ferry-sh/ferry/internal/archive"
	"github.com/ferry-sh/ferry/internal/fileserver"
	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/jobs"
	"github.com/ferry-sh/ferry/internal/listing"
	"github.com/ferry-sh/ferry/internal/qrcode"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/local"
	"github.com/ferry-sh/ferry/internal/storage/policy"
)

// RootName names the archive of the whole set and the folder it unpacks to.
const RootName = "files"

// Item is one shared name.
type Item struct {
	Name  string // the URL name: the base name of the path given
	IsDir bool
	tree  storage.Tree
	srv   *fileserver.Server
}

// Server answers reads for the set.
type Server struct {
	items     map[string]*Item
	order     []*Item
	trees     []storage.Tree
	servers   []*fileserver.Server // one per tree, each with its cache of open files
	noListing bool
	can       listing.Capabilities
	links     *qrcode.Links
	jobs      *jobs.Limiter
}

// UsageError is a problem with the paths given, worded for the command line.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Open checks and opens paths, each folder under the folder rules p and the
// name rules r. read is the fileserver configuration each tree gets (its
// Only and Archive are set here); archives take slots of lim.
func Open(paths []string, p rootfs.Policy, r policy.Rules, read fileserver.Options, lim *jobs.Limiter) (*Server, error) {
	if len(paths) == 0 {
		return nil, &UsageError{"no files to share"}
	}
	s := &Server{items: map[string]*Item{}, noListing: read.NoListing, can: read.Can, links: read.Links, jobs: lim}
	byParent := map[string][]string{}
	var parents []string
	seen := map[string]bool{}
	for _, arg := range paths {
		abs, err := filepath.Abs(arg)
		if err != nil {
			return nil, &UsageError{fmt.Sprintf("%s: %v", arg, err)}
		}
		if seen[abs] {
			continue
		}
		seen[abs] = true
		name := filepath.Base(abs)
		if abs == string(filepath.Separator) || name == "." || name == ".." {
			return nil, &UsageError{fmt.Sprintf("%s: cannot share the file system root as a file", arg)}
		}
		switch {
		case r.Visible(name):
		case strings.HasPrefix(name, rootfs.TempPrefix):
			return nil, &UsageError{fmt.Sprintf("%s is a partial upload", arg)}
		case !r.Hidden:
			return nil, &UsageError{fmt.Sprintf("%s is a dotfile; add --hidden to share it", arg)}
		default:
			return nil, &UsageError{fmt.Sprintf("%s: %s is ferry's own name, reserved for its pages", arg, name)}
		}
		if _, ok := s.items[name]; ok {
			return nil, &UsageError{fmt.Sprintf("two shared files are named %s; rename one or share their folder", name)}
		}
		parent := filepath.Dir(abs)
		if _, ok := byParent[parent]; !ok {
			parents = append(parents, parent)
		}
		byParent[parent] = append(byParent[parent], name)
		s.items[name] = &Item{Name: name}
	}
	for _, parent := range parents {
		backend, err := local.Open(parent, p)
		if err != nil {
			s.Close()
			return nil, err
		}
		tree := policy.Wrap(backend, r)
		s.trees = append(s.trees, tree)
		only := map[string]bool{}
		for _, name := range byParent[parent] {
			only[name] = true
		}
		o := read
		o.Only = only
		o.Archive = archive.Hook(tree, RootName, lim)
		srv := fileserver.New(tree, o)
		s.servers = append(s.servers, srv)
		for _, name := range byParent[parent] {
			info, err := tree.Stat(context.Background(), name)
			if err != nil {
				s.Close()
				if errors.Is(err, os.ErrPermission) {
					return nil, &UsageError{fmt.Sprintf("%s: permission denied", filepath.Join(parent, name))}
				}
				return nil, &UsageError{fmt.Sprintf("%s: no such file, or a symlink that leads out of its folder (see --follow-symlinks)", filepath.Join(parent, name))}
			}
			it := s.items[name]
			it.IsDir, it.tree, it.srv = info.IsDir, tree, srv
		}
	}
	for _, arg := range paths {
		abs, _ := filepath.Abs(arg)
		it := s.items[filepath.Base(abs)]
		if !slices.Contains(s.order, it) {
			s.order = append(s.order, it)
		}
	}
	return s, nil
}

// Close releases every tree and the descriptors its file server cached.
func (s *Server) Close() error {
	for _, srv := range s.servers {
		srv.Close()
	}
	var errs []error
	for _, t := range s.trees {
		errs = append(errs, t.Close())
	}
	return errors.Join(errs...)
}

// Items lists the shared names in the order given.
func (s *Server) Items() []*Item { return s.order }

// URLPaths are the paths whose complete download means each item was
// fetched once: /NAME for a file, /NAME/ (as an archive) for a folder.
func (s *Server) URLPaths() []string {
	out := make([]string, 0, len(s.order))
	for _, it := range s.order {
		p := "/" + it.Name
		if it.IsDir {
			p += "/"
		}
		out = append(out, p)
	}
	return out
}

// Serve answers GET and HEAD for a clean relative name, as fileserver does.
func (s *Server) Serve(w http.ResponseWriter, r *http.Request, name string, dir bool) {
	if name == "." {
		s.serveRoot(w, r)
		return
	}
	top, _, _ := strings.Cut(name, "/")
	it := s.items[top]
	if it == nil {
		httperr.Write(w, r, http.StatusNotFound, "")
		return
	}
	it.srv.Serve(w, r, name, dir)
}

func (s *Server) serveRoot(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.noListing {
		for _, format := range archive.Formats {
			if q.Has(format) {
				srcs := make([]archive.Source, 0, len(s.order))
				for _, it := range s.order {
					srcs = append(srcs, archive.Source{Tree: it.tree, Path: it.Name, Name: it.Name})
				}
				archive.Serve(w, r, format, RootName, RootName, srcs, s.jobs)
				return
			}
		}
	}
	if s.noListing {
		httperr.Write(w, r, http.StatusNotFound, "")
		return
	}
	page := listing.Page{Path: "/", Can: s.can, Sort: listing.ParseSort(q)}
	page.QR = s.links.PageURL(r, page.Path)
	for _, it := range s.order {
		info, err := it.tree.Stat(r.Context(), it.Name)
		if err != nil {
			continue // removed since ferry started
		}
		e := listing.Entry{Name: it.Name, IsDir: info.IsDir, ModTime: info.ModTime, Size: info.Size}
		page.Entries = append(page.Entries, e)
	}
	fileserver.WritePage(w, r, &page)
}

// LinkNames are the URL path segments of the items, for the banner.
func (s *Server) LinkNames() []string {
	out := make([]string, 0, len(s.order))
	for _, it := range s.order {
		n := url.PathEscape(it.Name)
		if it.IsDir {
			n += "/"
		}
		out = append(out, n)
	}
	return out
}
