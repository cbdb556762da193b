package webdav

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
)

// Lock is one WebDAV write lock (RFC 4918 §6).
type Lock struct {
	Token    string        `json:"token"` // urn:uuid:...
	Root     string        `json:"root"`  // the locked name ("." for the root)
	Shared   bool          `json:"shared,omitempty"`
	Dir      bool          `json:"dir,omitempty"`      // the root is a folder
	Infinite bool          `json:"infinite,omitempty"` // Depth: infinity
	Owner    string        `json:"owner,omitempty"`    // DAV:owner as the client sent it (XML)
	User     string        `json:"user,omitempty"`     // who took it, with --auth
	Timeout  time.Duration `json:"timeout"`
	Expires  time.Time     `json:"expires"`
}

// covers reports whether the lock applies to name: its root, or a name
// under it when it has infinite depth.
func (l *Lock) covers(name string) bool {
	return l.Root == name || l.Infinite && under(name, l.Root)
}

// under reports whether name lies strictly inside the folder dir.
func under(name, dir string) bool {
	if dir == "." {
		return name != "."
	}
	return strings.HasPrefix(name, dir+"/")
}

// LockStore keeps the locks. A store in the backend (TreeLocks) lets every
// ferry node serving one bucket honour the same locks; MemLocks is for one
// process.
type LockStore interface {
	// Locks returns every lock, expired ones included (the handler drops
	// those).
	Locks(ctx context.Context) ([]Lock, error)
	// Save records a new lock or a refreshed one.
	Save(ctx context.Context, l Lock) error
	// Delete forgets a lock; an unknown token is no error.
	Delete(ctx context.Context, token string) error
}

// newToken makes a lock token: a random (version 4) UUID URN, as RFC 4918
// §6.5 suggests.
func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return "urn:uuid:" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// tokenID is the UUID of a token ferry made, "" for anything else: it
// names the lock's record, so it must never carry a path.
func tokenID(token string) string {
	id, ok := strings.CutPrefix(token, "urn:uuid:")
	if !ok || len(id) != 36 {
		return ""
	}
	for i, c := range id {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return ""
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		default:
			return ""
		}
	}
	return id
}

// MemLocks keeps locks in memory.
type MemLocks struct {
	mu sync.Mutex
	m  map[string]Lock
}

// NewMemLocks returns an empty in-memory store.
func NewMemLocks() *MemLocks { return &MemLocks{m: map[string]Lock{}} }

func (s *MemLocks) Locks(context.Context) ([]Lock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Lock, 0, len(s.m))
	for _, l := range s.m {
		out = append(out, l)
	}
	return out, nil
}

func (s *MemLocks) Save(_ context.Context, l Lock) error {
	s.mu.Lock()
	s.m[l.Token] = l
	s.mu.Unlock()
	return nil
}

func (s *MemLocks) Delete(_ context.Context, token string) error {
	s.mu.Lock()
	delete(s.m, token)
	s.mu.Unlock()
	return nil
}

// locksDir holds one JSON record per lock in the backend's reserved area.
const locksDir = rootfs.Reserved + "/locks"

// TreeLocks keeps locks as records in a tree (the backend itself, below
// the policy layer, which hides the reserved name): on an object store
// every node sees the same locks. Records already read are remembered by
// their listed size and time, so a check costs one listing of the folder.
type TreeLocks struct {
	t storage.Tree

	mu    sync.Mutex
	cache map[string]cachedLock
}

type cachedLock struct {
	size int64
	mod  time.Time
	etag string
	lock Lock
}

// NewTreeLocks keeps locks in t under .ferry/locks/.
func NewTreeLocks(t storage.Tree) *TreeLocks {
	return &TreeLocks{t: t, cache: map[string]cachedLock{}}
}

// maxLockRecord bounds one record: the owner XML is the only free part.
const maxLockRecord = 2 * maxBody

func (s *TreeLocks) Locks(ctx context.Context) ([]Lock, error) {
	var out []Lock
	seen := map[string]bool{}
	for info, err := range s.t.List(ctx, locksDir) {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				break
			}
			return nil, err
		}
		if info.IsDir || !strings.HasSuffix(info.Name, ".json") {
			continue
		}
		seen[info.Name] = true
		s.mu.Lock()
		c, ok := s.cache[info.Name]
		s.mu.Unlock()
		if ok && c.size == info.Size && c.mod.Equal(info.ModTime) && c.etag == info.ETag {
			out = append(out, c.lock)
			continue
		}
		l, err := s.read(ctx, path.Join(locksDir, info.Name))
		if errors.Is(err, fs.ErrNotExist) {
			continue // unlocked meanwhile
		}
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.cache[info.Name] = cachedLock{size: info.Size, mod: info.ModTime, etag: info.ETag, lock: l}
		s.mu.Unlock()
		out = append(out, l)
	}
	s.mu.Lock()
	for k := range s.cache {
		if !seen[k] {
			delete(s.cache, k)
		}
	}
	s.mu.Unlock()
	return out, nil
}

func (s *TreeLocks) read(ctx context.Context, name string) (Lock, error) {
	var l Lock
	data, err := storage.ReadSmall(ctx, s.t, name, maxLockRecord)
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(data, &l); err != nil || tokenID(l.Token) == "" {
		// A damaged record locks nothing; it goes when it is replaced.
		return Lock{Token: l.Token, Expires: time.Time{}}, nil
	}
	return l, nil
}

func (s *TreeLocks) Save(ctx context.Context, l Lock) error {
	id := tokenID(l.Token)
	if id == "" {
		return errors.New("webdav: lock token of another server")
	}
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return storage.WriteSmall(ctx, s.t, path.Join(locksDir, id+".json"), data, true)
}

func (s *TreeLocks) Delete(ctx context.Context, token string) error {
	id := tokenID(token)
	if id == "" {
		return nil
	}
	err := s.t.Remove(ctx, path.Join(locksDir, id+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// claimer is a LockStore that several ferry processes share (TreeLocks): a
// new lock is granted only once its resource is claimed, and only when no
// conflicting lock shows after its record is written (Handler.lock).
type claimer interface {
	// Claim takes l's resource for l; ok false means another lock, granted
	// or under way, holds it and l may not be granted. owned reports that
	// l made the claim (a shared lock may join another shared one's claim
	// without making its own), and so must Release it.
	Claim(ctx context.Context, l Lock, active []Lock, now time.Time) (ok, owned bool, err error)
	// Release drops l's claim, if l made it.
	Release(ctx context.Context, l Lock) error
}

// claimsDir holds one claim per locked resource, named by the SHA-256 of
// the resource's name (below locksDir, whose listing skips folders).
const claimsDir = locksDir + "/claims"

// claim is the record of a claim: the lock that made it.
type claim struct {
	Token   string    `json:"token"`
	Shared  bool      `json:"shared,omitempty"`
	Created time.Time `json:"created"`
}

// claimGrace is how long a claim whose lock has no record yet counts as a
// LOCK under way on some node; older, it was left by a node that stopped
// between the claim and the record, and is broken.
const claimGrace = 30 * time.Second

func claimName(root string) string {
	sum := sha256.Sum256([]byte(root))
	return path.Join(claimsDir, hex.EncodeToString(sum[:])+".json")
}

// Claim makes the claim with a create-only write, which of several LOCKs
// racing for one resource on any number of nodes exactly one wins: the
// store has no compare-and-swap over the lock records, but every backend
// has create-only writes. A stale claim (its lock expired or unlocked
// without the claim going, or never recorded within claimGrace) is broken.
// Two nodes breaking one claim at once could both win it; the check after
// the record is written still grants at most one of them.
func (s *TreeLocks) Claim(ctx context.Context, l Lock, active []Lock, now time.Time) (ok, owned bool, err error) {
	name := claimName(l.Root)
	data, err := json.Marshal(claim{Token: l.Token, Shared: l.Shared, Created: now})
	if err != nil {
		return false, false, err
	}
	for range 3 {
		err := storage.WriteSmall(ctx, s.t, name, data, false)
		if err == nil {
			return true, true, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return false, false, err
		}
		raw, err := storage.ReadSmall(ctx, s.t, name, maxLockRecord)
		if errors.Is(err, fs.ErrNotExist) {
			continue // released meanwhile
		}
		if err != nil {
			return false, false, err
		}
		var c claim
		json.Unmarshal(raw, &c) // a damaged claim is as good as a stale one
		live := false
		for i := range active {
			live = live || active[i].Token == c.Token && c.Token != ""
		}
		if live || c.Token != "" && now.Sub(c.Created) < claimGrace {
			// Shared locks go together; the record check decides.
			return l.Shared && c.Shared, false, nil
		}
		if err := s.t.Remove(ctx, name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, false, err
		}
	}
	return false, false, nil
}

// Release removes the claim when l made it. It goes before l's record, so
// that a claim never outlives its record unseen as stale: until the record
// goes, a new claim's record check still sees l.
func (s *TreeLocks) Release(ctx context.Context, l Lock) error {
	name := claimName(l.Root)
	raw, err := storage.ReadSmall(ctx, s.t, name, maxLockRecord)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var c claim
	if json.Unmarshal(raw, &c) != nil || c.Token != l.Token {
		return nil
	}
	if err := s.t.Remove(ctx, name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
