package storagetest

import (
	"context"
	"crypto/rand"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/local"
	"github.com/ferry-sh/ferry/internal/storage/policy"
	"github.com/ferry-sh/ferry/internal/storage/s3"
	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
)

// Kinds are the backends a handler's tests run on.
func Kinds() []string { return []string{"local", "s3"} }

// Place is a fresh, empty place for trees of one kind: a temporary folder,
// or a key prefix of its own in the shared SeaweedFS bucket.
type Place struct {
	Kind   string
	Dir    string          // local: the folder
	Store  *weedtest.Store // s3: the store; nil for local
	Prefix string          // s3: the key prefix, without a trailing slash
}

// NewPlace makes a place of kind; tag starts an S3 prefix, to tell tests'
// keys apart in the bucket. An S3 place needs weed (see weedtest.Shared).
func NewPlace(t *testing.T, kind, tag string) *Place {
	p := &Place{Kind: kind}
	switch kind {
	case "local":
		p.Dir = t.TempDir()
	case "s3":
		p.Store = weedtest.Shared(t)
		p.Store.SetEnv(t)
		p.Prefix = tag + "/" + strings.ToLower(rand.Text())
	default:
		t.Fatalf("no backend %q", kind)
	}
	return p
}

// Backend opens another tree on the place, as another node would (or the
// same after a restart); it is closed when the test ends.
func (p *Place) Backend(t *testing.T) storage.Tree {
	t.Helper()
	var b storage.Tree
	var err error
	if p.Kind == "s3" {
		b, err = s3.Open(context.Background(), s3.Config{Bucket: p.Store.Bucket, Prefix: p.Prefix})
	} else {
		b, err = local.Open(p.Dir, rootfs.Policy{})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Tree is Backend through the policy layer, with the default rules.
func (p *Place) Tree(t *testing.T) storage.Tree {
	t.Helper()
	return policy.Wrap(p.Backend(t), policy.Rules{})
}

// Read reads the file name whole.
func Read(t *testing.T, tr storage.Tree, name string) []byte {
	t.Helper()
	o, err := tr.Open(context.Background(), name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

// List is the sorted names of dir's entries, folders with a trailing slash.
func List(t *testing.T, tr storage.Tree, dir string) []string {
	t.Helper()
	var names []string
	for info, err := range tr.List(context.Background(), dir) {
		if err != nil {
			t.Fatalf("list %s: %v", dir, err)
		}
		n := info.Name
		if info.IsDir {
			n += "/"
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
