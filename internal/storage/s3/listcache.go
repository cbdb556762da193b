package s3

import (
	"strings"
	"sync"
	"time"

	"github.com/ferry-sh/ferry/internal/storage"
)

// listCacheEntries bounds what the listing cache holds, in entries across
// every folder (about 150 bytes each: some 40 MiB at most). A folder larger
// than that is listed from the store every time.
const listCacheEntries = 1 << 18

// listCache keeps complete folder listings for folder pages (Config.ListCache),
// so that a large folder shown again and again is not paged through the store
// each time. A listing is dropped when it is older than ttl, and as soon as
// this node writes anything in the folder or under it (a name created or
// removed below a folder can make a subfolder appear or vanish in every
// folder above it), so a node is never stale for its own writes; another
// node's writes show within ttl. The generation keeps a listing that was under
// way while a write finished from being kept.
type listCache struct {
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	gen   uint64
	held  int // entries across dirs
	dirs  map[string]cachedList
	limit int
}

type cachedList struct {
	at      time.Time
	entries []storage.Info
}

func newListCache(ttl time.Duration) *listCache {
	if ttl <= 0 {
		return nil
	}
	return &listCache{ttl: ttl, now: time.Now, dirs: map[string]cachedList{}, limit: listCacheEntries}
}

// get returns dir's listing when one is held and young enough.
func (c *listCache) get(dir string) ([]storage.Info, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.dirs[dir]
	if !ok {
		return nil, false
	}
	if c.now().Sub(l.at) >= c.ttl {
		c.drop(dir)
		return nil, false
	}
	return l.entries, true
}

// begin is called before a listing is read from the store; put keeps the
// listing only if no write finished in between.
func (c *listCache) begin() (gen uint64, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, c.now()
}

func (c *listCache) put(dir string, gen uint64, at time.Time, entries []storage.Info) {
	if len(entries) > c.limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	c.drop(dir)
	if c.held+len(entries) > c.limit {
		now := c.now()
		for d, l := range c.dirs {
			if now.Sub(l.at) >= c.ttl {
				c.drop(d)
			}
		}
		for d := range c.dirs {
			if c.held+len(entries) <= c.limit {
				break
			}
			c.drop(d)
		}
	}
	c.dirs[dir] = cachedList{at: at, entries: entries}
	c.held += len(entries)
}

func (c *listCache) drop(dir string) {
	if l, ok := c.dirs[dir]; ok {
		c.held -= len(l.entries)
		delete(c.dirs, dir)
	}
}

// wrote forgets what a write to name may have changed: the listings of the
// folders above it, of name itself and of every folder under it. It is
// called once the write is over (done or failed).
func (c *listCache) wrote(names ...string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for d := range c.dirs {
		for _, n := range names {
			if related(d, n) {
				c.drop(d)
				break
			}
		}
	}
}

// related reports whether dir is ".", name, a folder above name or one
// under it.
func related(dir, name string) bool {
	if dir == "." || dir == name {
		return true
	}
	return strings.HasPrefix(name, dir+"/") || strings.HasPrefix(dir, name+"/")
}
