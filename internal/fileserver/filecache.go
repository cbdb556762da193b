package fileserver

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/transfer"
)

// Bounds of the cache of open files. Only small files are kept: they are the
// ones whose open, fstat and close weigh against the bytes sent, and a file
// deleted while cached keeps its blocks until its descriptor is closed (at
// the next request for its name, or when it falls out of the cache), which
// at these bounds is at most 64 MiB.
const (
	cacheEntries = 256
	cacheMaxSize = 256 << 10
)

// openFiles keeps descriptors of recently served small files by name, so
// that a request costs one fstatat instead of openat, fstat and close (and
// the runtime's attempt to add the file to epoll).
//
// Only files of the local backend are cached, and a cached one is used only
// if the backend says a fresh stat of the name shows the same file
// (unchanged): same device and inode (which the kernel cannot give to
// another file while the descriptor holds this one open), and the same
// size, modification and change times and mode (ctime moves on any write,
// chmod, chown or rename). A file replaced by rename (as ferry's uploads
// do), deleted, truncated or rewritten thus shows as changed and is opened
// anew; the bytes sent are always read from the file as it is at that
// moment, as they would be from a descriptor opened for the request.
//
// Several requests read one descriptor at once, so they read with pread and
// never move its offset (content.shared); sendfile, which reads from the
// offset, is therefore not available to them, and requests that would send
// more than a small body from a larger file open their own descriptor.
type openFiles struct {
	mu      sync.Mutex
	entries map[string]*openFile
	head    *openFile // most recently used; head.prev is the least
}

type openFile struct {
	name string
	obj  cachedObject
	info storage.Info
	refs int // requests using f, plus one while cached

	// Header values, shared read-only by every response. lastModified,
	// ctype and length are what http.ServeContent would send for a 200;
	// ctype is nil when the extension does not tell (ServeContent sniffs).
	etag, lastModified, ctype, length []string

	prev, next *openFile
}

func newOpenFiles() *openFiles {
	if !canCache {
		return nil
	}
	return &openFiles{entries: make(map[string]*openFile)}
}

// cachedObject is an opened local file (the local backend's Object) that
// can tell whether its name still names it, unchanged, and give readers
// of its descriptor to several requests at once (pread only).
type cachedObject interface {
	storage.Object
	Unchanged() bool
	Share() storage.Object
}

// cacheable reports whether a freshly opened file may be shared through the
// cache by this request.
func cacheable(r *http.Request, info storage.Info) bool {
	return canCache && info.Size <= cacheMaxSize && smallResponse(r, info.Size)
}

// get returns the cached descriptor of name, or nil when there is none or
// the file changed. A non-nil result must be released.
func (c *openFiles) get(r *http.Request, name string) *openFile {
	c.mu.Lock()
	e := c.entries[name]
	if e == nil || !smallResponse(r, e.info.Size) {
		c.mu.Unlock()
		return nil
	}
	e.refs++
	c.touch(e)
	c.mu.Unlock()
	if e.obj.Unchanged() {
		return e
	}
	c.mu.Lock()
	if c.entries[name] == e {
		c.unlink(e)
	}
	c.releaseLocked(e)
	c.mu.Unlock()
	return nil
}

// put caches obj, just opened for name, replacing what was cached under
// that name; nil (and obj left to the caller) when obj cannot be shared.
// The caller holds a reference to the result and must release it.
func (c *openFiles) put(name string, obj storage.Object) *openFile {
	co, ok := obj.(cachedObject)
	if !ok {
		return nil
	}
	info := obj.Info()
	e := &openFile{name: name, obj: co, info: info, refs: 2,
		etag:   []string{ETag(info)},
		length: []string{strconv.FormatInt(info.Size, 10)},
	}
	if t := info.ModTime; !t.IsZero() && !t.Equal(time.Unix(0, 0)) {
		e.lastModified = []string{t.UTC().Format(http.TimeFormat)}
	}
	if ct := TypeByExtension(name); ct != "" {
		e.ctype = []string{ct}
	}
	c.mu.Lock()
	if old := c.entries[name]; old != nil {
		c.unlink(old)
	}
	c.entries[name] = e
	c.touch(e)
	if len(c.entries) > cacheEntries {
		c.unlink(c.head.prev)
	}
	c.mu.Unlock()
	return e
}

func (c *openFiles) release(e *openFile) {
	c.mu.Lock()
	c.releaseLocked(e)
	c.mu.Unlock()
}

func (c *openFiles) releaseLocked(e *openFile) {
	e.refs--
	if e.refs == 0 {
		e.obj.Close()
	}
}

// close empties the cache; descriptors still in use close when released.
func (c *openFiles) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	for c.head != nil {
		c.unlink(c.head)
	}
	c.mu.Unlock()
}

// touch moves e to the front of the recency list, adding it if new.
func (c *openFiles) touch(e *openFile) {
	if c.head == e {
		return
	}
	if e.next != nil { // in the list: take it out
		e.prev.next, e.next.prev = e.next, e.prev
	}
	if c.head == nil {
		e.prev, e.next = e, e
	} else {
		e.next, e.prev = c.head, c.head.prev
		c.head.prev.next = e
		c.head.prev = e
	}
	c.head = e
}

// unlink drops e from the cache and the cache's reference to it.
func (c *openFiles) unlink(e *openFile) {
	delete(c.entries, e.name)
	if e.next == e {
		c.head = nil
	} else {
		e.prev.next, e.next.prev = e.next, e.prev
		if c.head == e {
			c.head = e.next
		}
	}
	e.prev, e.next = nil, nil
	c.releaseLocked(e)
}

// smallResponse reports whether a request for a file of this size can send
// at most a small body (which is copied, never sent with sendfile): the file
// is small, or the request is a HEAD, or it asks for small ranges without
// If-Range (whose failure would send the whole file).
func smallResponse(r *http.Request, size int64) bool {
	if size <= transfer.SmallBody || r.Method == http.MethodHead {
		return true
	}
	v := r.Header.Get("Range")
	if v == "" || r.Header.Get("If-Range") != "" {
		return false
	}
	if _, n, ok := simpleRange(v, size); ok {
		return n <= transfer.SmallBody
	}
	n, ok := rangeLength(v, size)
	return ok && n <= transfer.SmallBody
}
