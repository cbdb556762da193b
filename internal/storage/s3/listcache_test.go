package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/s3"
	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
)

// With --s3-list-cache a folder page may miss another node's write for up
// to the cache's age, never this node's own: every kind of write drops the
// listings it may change (the folder, the folders above, those under it).
// Listings that are not for a page always ask the store.
func TestListCache(t *testing.T) {
	store := weedtest.Shared(t)
	store.SetEnv(t)
	prefix := "t/" + strings.ToLower(rand.Text())
	ctx := context.Background()
	page := storage.ForPage(ctx)
	open := func(cache time.Duration) *s3.Tree {
		tr, err := s3.Open(ctx, s3.Config{Bucket: store.Bucket, Prefix: prefix, ListCache: cache})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	a, other, fresh := open(time.Hour), open(0), open(0)
	put := func(tr *s3.Tree, name string) {
		t.Helper()
		st, err := tr.Stage(ctx, name, 1)
		if err != nil {
			t.Fatal(err)
		}
		st.Write([]byte("x"))
		if _, err := st.Commit(ctx, true); err != nil {
			t.Fatalf("put %s: %v", name, err)
		}
	}
	names := func(ctx context.Context, tr *s3.Tree, dir string) string {
		t.Helper()
		var n []string
		for info, err := range tr.List(ctx, dir) {
			if err != nil {
				t.Fatalf("list %s: %v", dir, err)
			}
			n = append(n, info.Name)
		}
		slices.Sort(n)
		return strings.Join(n, " ")
	}
	want := func(ctx context.Context, tr *s3.Tree, dir, names_ string) {
		t.Helper()
		if got := names(ctx, tr, dir); got != names_ {
			t.Errorf("list %s: %q, want %q", dir, got, names_)
		}
	}

	put(a, "d/a.txt")
	want(page, a, "d", "a.txt")
	want(page, a, ".", "d")

	// Another node's writes: a's pages show them only once the cache is
	// dropped; a's other listings, and a node without a cache, at once.
	put(other, "d/b.txt")
	if _, err := store.Client().PutObject(ctx, &awss3.PutObjectInput{Bucket: &store.Bucket, Key: aws.String(prefix + "/e/c.txt"), Body: bytes.NewReader(nil)}); err != nil {
		t.Fatal(err)
	}
	want(page, a, "d", "a.txt")
	want(page, a, ".", "d")
	want(ctx, a, "d", "a.txt b.txt")
	want(page, fresh, "d", "a.txt b.txt")

	// a's own writes, each kind, show on its pages at once.
	put(a, "d/sub/deep/f.txt") // a new folder in d, and above it
	want(page, a, ".", "d e")
	want(page, a, "d", "a.txt b.txt sub")
	want(page, a, "d/sub", "deep")
	want(page, a, "d/sub/deep", "f.txt")
	if err := a.Mkdir(ctx, "d/made"); err != nil {
		t.Fatal(err)
	}
	want(page, a, "d", "a.txt b.txt made sub")
	put(other, "d/sub/deep/g.txt")
	want(page, a, "d/sub/deep", "f.txt") // another node's, not seen yet
	if _, err := a.Move(ctx, "d/sub", "d/moved", false); err != nil {
		t.Fatal(err)
	}
	want(page, a, "d", "a.txt b.txt made moved")
	want(page, a, "d/moved/deep", "f.txt g.txt")
	if _, err := a.Copy(ctx, "d/a.txt", "d/made/a.txt", false); err != nil {
		t.Fatal(err)
	}
	want(page, a, "d/made", "a.txt")
	if err := a.Remove(ctx, "d/moved"); err != nil {
		t.Fatal(err)
	}
	want(page, a, "d", "a.txt b.txt made")
	id, err := a.Begin(ctx, "d/tus.txt", 1, "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.Resume(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Append(ctx, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Commit(ctx, false); err != nil {
		t.Fatal(err)
	}
	want(page, a, "d", "a.txt b.txt made tus.txt")
}
