// Package policy is the one place that decides which names of a tree
// clients may see, whatever backend holds it: dotfiles only with Hidden,
// partial uploads never, and the reserved top-level name (ferry's own pages
// and state, /.ferry) never. A hidden name looks absent, to reads and writes
// alike.
package policy

import (
	"context"
	"errors"
	"io/fs"
	"iter"
	"slices"
	"strings"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
)

// Rules say what of the tree is exposed.
type Rules struct {
	Hidden bool // list and serve dotfiles
}

// Tree is a backend seen through the rules.
type Tree struct {
	storage.Tree
	rules Rules
}

// Wrap applies the rules to t.
func Wrap(t storage.Tree, r Rules) *Tree { return &Tree{Tree: t, rules: r} }

// Unwrap gives the backend, for its optional capabilities.
func (t *Tree) Unwrap() storage.Tree { return t.Tree }

// Reserved reports whether a clean relative name is the reserved top-level
// name (ferry's own pages and state) or lies under it.
func Reserved(name string) bool {
	first, _, _ := strings.Cut(name, "/")
	return reservedName(first)
}

// reservedName and tempName compare without regard to case: on a
// case-insensitive disk (macOS, Windows) ".FERRY" opens ferry's own
// .ferry folder (share records, locks, dead properties) and
// ".Ferry-Part-X" a partial upload, so those spellings must be as invisible
// as the canonical ones, everywhere.
func reservedName(n string) bool { return strings.EqualFold(n, rootfs.Reserved) }

func tempName(n string) bool {
	return len(n) >= len(rootfs.TempPrefix) && strings.EqualFold(n[:len(rootfs.TempPrefix)], rootfs.TempPrefix)
}

// Visible reports whether a clean relative name may be seen at all.
func (t *Tree) Visible(name string) bool { return t.rules.Visible(name) }

// Visible reports whether a clean relative name may be seen at all.
func (r Rules) Visible(name string) bool {
	if name == "." || name == "" {
		return true
	}
	if Reserved(name) {
		return false
	}
	for comp := range strings.SplitSeq(name, "/") {
		if !r.member(comp) {
			return false
		}
	}
	return true
}

// ValidateName checks one name component a client asks ferry to create:
// a name any store can hold (rootfs.ValidateName), and one the rules let
// clients see. The reason is safe to show to clients.
func (r Rules) ValidateName(comp string) error {
	if err := rootfs.ValidateName(comp); err != nil {
		return err
	}
	switch {
	case tempName(comp):
		return &rootfs.NameError{Reason: "name is reserved"}
	case !r.member(comp):
		return &rootfs.NameError{Reason: "names starting with a dot are not allowed (the server runs without --hidden)"}
	}
	return nil
}

// ValidateRelPath checks a slash-separated relative name to create
// component by component (a folder upload sends "sub/x.txt").
func (r Rules) ValidateRelPath(rel string) error {
	if rel == "" {
		return &rootfs.NameError{Reason: "empty name"}
	}
	for comp := range strings.SplitSeq(rel, "/") {
		if err := r.ValidateName(comp); err != nil {
			return err
		}
	}
	return nil
}

// member reports whether one name inside a folder may be listed.
func (r Rules) member(n string) bool {
	return n != "" && !tempName(n) && (r.Hidden || n[0] != '.')
}

func (t *Tree) Stat(ctx context.Context, name string) (storage.Info, error) {
	if !t.Visible(name) {
		return storage.Info{}, fs.ErrNotExist
	}
	return t.Tree.Stat(ctx, name)
}

func (t *Tree) Open(ctx context.Context, name string) (storage.Object, error) {
	if !t.Visible(name) {
		return nil, fs.ErrNotExist
	}
	return t.Tree.Open(ctx, name)
}

func (t *Tree) List(ctx context.Context, dir string) iter.Seq2[storage.Info, error] {
	return func(yield func(storage.Info, error) bool) {
		if !t.Visible(dir) {
			yield(storage.Info{}, fs.ErrNotExist)
			return
		}
		root := dir == "." || dir == ""
		for info, err := range t.Tree.List(ctx, dir) {
			if err == nil && (!t.rules.member(info.Name) || root && reservedName(info.Name)) {
				continue
			}
			if !yield(info, err) {
				return
			}
		}
	}
}

func (t *Tree) Stage(ctx context.Context, name string, size int64) (storage.Staged, error) {
	if !t.Visible(name) {
		return nil, fs.ErrPermission
	}
	return t.Tree.Stage(ctx, name, size)
}

func (t *Tree) Mkdir(ctx context.Context, name string) error {
	if !t.Visible(name) {
		return fs.ErrPermission
	}
	return t.Tree.Mkdir(ctx, name)
}

func (t *Tree) Remove(ctx context.Context, name string) error {
	if !t.Visible(name) {
		return fs.ErrNotExist
	}
	return t.Tree.Remove(ctx, name)
}

func (t *Tree) Move(ctx context.Context, src, dst string, replace bool) (bool, error) {
	if !t.Visible(src) {
		return false, fs.ErrNotExist
	}
	if !t.Visible(dst) {
		return false, fs.ErrPermission
	}
	return t.Tree.Move(ctx, src, dst, replace)
}

func (t *Tree) Copy(ctx context.Context, src, dst string, replace bool) (bool, error) {
	if !t.Visible(src) {
		return false, fs.ErrNotExist
	}
	if !t.Visible(dst) {
		return false, fs.ErrPermission
	}
	return t.Tree.Copy(ctx, src, dst, replace)
}

// OpenFolder opens a folder through the backend's own Folders, with the
// rules applied to its names and members; errors.ErrUnsupported when the
// backend has none (storage.OpenFolder then walks through List and Open).
func (t *Tree) OpenFolder(ctx context.Context, name string) (storage.Folder, error) {
	fo, ok := t.Tree.(storage.Folders)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	if !t.Visible(name) {
		return nil, fs.ErrNotExist
	}
	f, err := fo.OpenFolder(ctx, name)
	if err != nil {
		return nil, err
	}
	return &folder{Folder: f, t: t, root: name == "." || name == ""}, nil
}

type folder struct {
	storage.Folder
	t    *Tree
	root bool
}

func (f *folder) shown(n string) bool {
	return f.t.rules.member(n) && !(f.root && reservedName(n))
}

func (f *folder) Names() ([]string, error) {
	names, err := f.Folder.Names()
	return slices.DeleteFunc(names, func(n string) bool { return !f.shown(n) }), err
}

func (f *folder) Open(member string) (storage.Object, storage.Folder, error) {
	if !f.shown(member) {
		return nil, nil, fs.ErrNotExist
	}
	o, sub, err := f.Folder.Open(member)
	if sub != nil {
		sub = &folder{Folder: sub, t: f.t}
	}
	return o, sub, err
}
