package s3

import (
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/storage"
)

// The listing cache's own rules, on a clock of its own: listings age out,
// one read while a write finished is not kept, and the total it holds is
// bounded.
func TestListCacheRules(t *testing.T) {
	now := time.Unix(1e9, 0)
	c := newListCache(time.Minute)
	c.now = func() time.Time { return now }
	c.limit = 10
	entries := func(n int) []storage.Info { return make([]storage.Info, n) }

	gen, at := c.begin()
	c.put("a", gen, at, entries(3))
	if _, ok := c.get("a"); !ok {
		t.Fatal("a listing just read is not held")
	}
	now = now.Add(time.Minute)
	if _, ok := c.get("a"); ok {
		t.Error("a listing a minute old is still served")
	}

	gen, at = c.begin()
	c.wrote("x/y")
	c.put("b", gen, at, entries(3))
	if _, ok := c.get("b"); ok {
		t.Error("a listing read while a write finished was kept")
	}

	for _, d := range []string{"c", "d", "e", "f"} {
		gen, at = c.begin()
		c.put(d, gen, at, entries(3))
	}
	if c.held > c.limit || len(c.dirs) != 3 {
		t.Errorf("held %d entries in %d folders, limit %d", c.held, len(c.dirs), c.limit)
	}
	gen, at = c.begin()
	c.put("huge", gen, at, entries(11))
	if _, ok := c.get("huge"); ok {
		t.Error("a listing over the limit was kept")
	}

	for _, tc := range []struct {
		dir, name string
		related   bool
	}{
		{".", "a/b", true}, {"a", "a/b", true}, {"a/b", "a/b", true}, {"a/b/c", "a/b", true},
		{"a/bc", "a/b", false}, {"ab", "a/b", false}, {"b", "a/b", false},
	} {
		if got := related(tc.dir, tc.name); got != tc.related {
			t.Errorf("related(%q, %q) = %v", tc.dir, tc.name, got)
		}
	}
}
