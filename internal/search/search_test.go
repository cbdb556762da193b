package search

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage/local"
	"github.com/ferry-sh/ferry/internal/storage/policy"
)

func TestFoldAndMatch(t *testing.T) {
	for in, want := range map[string]string{"Résumé": "resume", "ÉTÉ": "ete", "ABC": "abc", "Straße": "straße", "naïve café": "naive cafe"} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
	words, err := Words("  Resume  FINAL ")
	if err != nil || len(words) != 2 {
		t.Fatal(words, err)
	}
	if !Match("Résumé final.txt", words) || Match("resume.txt", words) {
		t.Error("Match")
	}
	for _, bad := range []string{"", " \t ", string(make([]byte, MaxQuery+1))} {
		if _, err := Words(bad); err == nil {
			t.Errorf("Words(%q) accepted", bad)
		}
	}
}

func tree(t *testing.T, folders int) *policy.Tree {
	dir := t.TempDir()
	for i := range folders {
		p := filepath.Join(dir, fmt.Sprintf("f%d", i))
		os.MkdirAll(p, 0o755)
		os.WriteFile(filepath.Join(p, "hit.txt"), nil, 0o644)
	}
	os.WriteFile(filepath.Join(dir, ".hit.txt"), nil, 0o644)
	fsys, err := rootfs.Open(dir, rootfs.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	tr := policy.Wrap(local.New(fsys), policy.Rules{})
	t.Cleanup(func() { tr.Close() })
	return tr
}

func TestWalkBounds(t *testing.T) {
	tr := tree(t, 5)
	ctx := context.Background()
	words := []string{"hit"}
	hits, limit, err := Walk(ctx, tr, ".", words, Limits{Results: 100, Folders: 100, Budget: time.Minute}, nil)
	if err != nil || limit != "" || len(hits) != 5 {
		t.Fatalf("whole: %d hits, %q, %v", len(hits), limit, err)
	}
	// The root and two folders: two hits.
	if hits, limit, _ = Walk(ctx, tr, ".", words, Limits{Results: 100, Folders: 3, Budget: time.Minute}, nil); limit != LimitFolders || len(hits) != 2 {
		t.Fatalf("folders: %d hits, %q", len(hits), limit)
	}
	if hits, limit, _ = Walk(ctx, tr, ".", words, Limits{Results: 3, Folders: 100, Budget: time.Minute}, nil); limit != LimitResults || len(hits) != 3 {
		t.Fatalf("results: %d hits, %q", len(hits), limit)
	}
	if _, limit, _ = Walk(ctx, tr, ".", words, Limits{Results: 100, Folders: 100, Budget: time.Nanosecond}, nil); limit != LimitTime {
		t.Fatalf("time: %q", limit)
	}
	// keep refuses a folder: neither shown nor entered.
	keep := func(n string) bool { return n != "f1" }
	if hits, _, _ = Walk(ctx, tr, ".", []string{"f"}, Limits{Results: 100, Folders: 100, Budget: time.Minute}, keep); len(hits) != 4 {
		t.Fatalf("keep: %d hits", len(hits))
	}
	if _, _, err = Walk(ctx, tr, "missing", words, Limits{Results: 1, Folders: 1, Budget: time.Minute}, nil); err == nil {
		t.Fatal("a missing folder searched")
	}
}

func FuzzWords(f *testing.F) {
	for _, s := range []string{"résumé final", "  ", "ÉTÉ\u0301", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		words, err := Words(q)
		if err != nil {
			return
		}
		for _, w := range words {
			if w == "" || Fold(w) != w {
				t.Fatalf("Words(%q) gave %q, not folded", q, w)
			}
		}
		Match(q, words)
	})
}
