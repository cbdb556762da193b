package sharelink

import (
	"context"
	"io/fs"
	"iter"
	"path"

	"github.com/ferry-sh/ferry/internal/storage"
)

// Sub is the tree a link opens: the shared folder as a root, or a root
// holding just the shared file. It reads through t (the policy layer's
// view, so dotfiles and the reserved area stay hidden) and writes nothing.
func Sub(t storage.Tree, l Link) *SubTree {
	return &SubTree{t: t, root: l.Name(), file: !l.Dir()}
}

// SubTree is a read-only view of part of a tree.
type SubTree struct {
	t    storage.Tree
	root string // the shared entry's name in t
	file bool   // the entry is a file: the view's root holds just it
}

// Real maps a name of the view to the name in the underlying tree, false
// when the view has no such name.
func (s *SubTree) Real(name string) (string, bool) {
	if s.file {
		if name == path.Base(s.root) {
			return s.root, true
		}
		return "", false
	}
	if name == "." || name == "" {
		return s.root, true
	}
	if s.root == "." {
		return name, true
	}
	return s.root + "/" + name, true
}

// Root is the shared entry's name in the underlying tree.
func (s *SubTree) Root() string { return s.root }

func (s *SubTree) Stat(ctx context.Context, name string) (storage.Info, error) {
	if s.file && (name == "." || name == "") {
		info, err := s.t.Stat(ctx, s.root)
		if err != nil {
			return storage.Info{}, err
		}
		return storage.Info{Name: ".", IsDir: true, ModTime: info.ModTime}, nil
	}
	real, ok := s.Real(name)
	if !ok {
		return storage.Info{}, fs.ErrNotExist
	}
	info, err := s.t.Stat(ctx, real)
	if err == nil && s.file && info.IsDir {
		return storage.Info{}, fs.ErrNotExist // replaced by a folder since
	}
	return info, err
}

func (s *SubTree) Open(ctx context.Context, name string) (storage.Object, error) {
	if s.file && (name == "." || name == "") {
		return nil, storage.ErrIsDir
	}
	real, ok := s.Real(name)
	if !ok {
		return nil, fs.ErrNotExist
	}
	return s.t.Open(ctx, real)
}

func (s *SubTree) List(ctx context.Context, dir string) iter.Seq2[storage.Info, error] {
	return func(yield func(storage.Info, error) bool) {
		if s.file {
			if dir != "." && dir != "" {
				yield(storage.Info{}, fs.ErrNotExist)
				return
			}
			info, err := s.t.Stat(ctx, s.root)
			if err == nil && info.IsDir {
				err = fs.ErrNotExist
			}
			if err != nil {
				yield(storage.Info{}, err)
				return
			}
			info.Name = path.Base(s.root)
			yield(info, nil)
			return
		}
		real, _ := s.Real(dir)
		for info, err := range s.t.List(ctx, real) {
			if !yield(info, err) {
				return
			}
		}
	}
}

func (s *SubTree) Stage(context.Context, string, int64) (storage.Staged, error) {
	return nil, storage.ErrReadOnly
}
func (s *SubTree) Mkdir(context.Context, string) error  { return storage.ErrReadOnly }
func (s *SubTree) Remove(context.Context, string) error { return storage.ErrReadOnly }
func (s *SubTree) Move(context.Context, string, string, bool) (bool, error) {
	return false, storage.ErrReadOnly
}
func (s *SubTree) Copy(context.Context, string, string, bool) (bool, error) {
	return false, storage.ErrReadOnly
}

// Close leaves the underlying tree open: it is the server's.
func (s *SubTree) Close() error { return nil }

var _ storage.Tree = (*SubTree)(nil)
