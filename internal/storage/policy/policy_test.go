package policy_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage/local"
	"github.com/ferry-sh/ferry/internal/storage/policy"
)

func TestVisible(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.txt", ".env", "sub/.git/config", "sub/ok", ".ferry/x", rootfs.TempPrefix + "abc", "sub/.ferry"} {
		p := filepath.Join(dir, filepath.FromSlash(n))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("x"), 0o644)
	}
	// The backend shows everything; the policy layer alone decides.
	backend, err := local.Open(dir, rootfs.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	ctx := context.Background()
	for _, c := range []struct {
		hidden bool
		list   []string
		seen   []string
		absent []string
	}{
		{false, []string{"a.txt", "sub"}, []string{"a.txt", "sub/ok"}, []string{".env", "sub/.git/config", ".ferry/x", rootfs.TempPrefix + "abc", "sub/.ferry"}},
		{true, []string{".env", "a.txt", "sub"}, []string{".env", "sub/.git/config", "sub/.ferry"}, []string{".ferry/x", ".ferry", rootfs.TempPrefix + "abc"}},
	} {
		tr := policy.Wrap(backend, policy.Rules{Hidden: c.hidden})
		var got []string
		for info, err := range tr.List(ctx, ".") {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, info.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.list) {
			t.Errorf("hidden=%v: list = %v, want %v", c.hidden, got, c.list)
		}
		for _, n := range c.seen {
			if _, err := tr.Stat(ctx, n); err != nil {
				t.Errorf("hidden=%v: %s not visible: %v", c.hidden, n, err)
			}
		}
		for _, n := range c.absent {
			if _, err := tr.Stat(ctx, n); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("hidden=%v: %s visible: %v", c.hidden, n, err)
			}
			if _, err := tr.Open(ctx, n); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("hidden=%v: %s opens: %v", c.hidden, n, err)
			}
			if err := tr.Remove(ctx, n); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("hidden=%v: %s removable: %v", c.hidden, n, err)
			}
			if _, err := tr.Stage(ctx, n, 1); err == nil {
				t.Errorf("hidden=%v: %s writable", c.hidden, n)
			}
		}
	}
}
