package webdav

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/maphash"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
)

// Dead properties (RFC 4918 §4) live in sidecar records in the backend's
// reserved area, one JSON record per resource that has any, in a tree that
// mirrors the served one:
//
//	.ferry/props/r               the served root's own
//	.ferry/props/dDIR/.../pNAME  the file or folder DIR/.../NAME
//
// Every folder of the mirror starts with "d" and every record with "p", so
// that a folder's record and its members' never collide whatever the names
// are; a name too long for one more byte is stored by its SHA-256 ("hd",
// "hp"). A resource's record and its members' thus move and copy with it by
// one Move or Copy of the record and of its folder, and a PROPFIND of a
// folder learns which members have any from one listing of its mirror.
const propsDir = rootfs.Reserved + "/props"

// record is what one resource carries besides its content.
type record struct {
	Props []deadProp `json:"props,omitempty"`
	// Mtime is a modification time a client set (Win32LastModifiedTime,
	// X-OC-Mtime) on a backend that cannot set it itself (an object store).
	Mtime *time.Time `json:"mtime,omitempty"`
}

type deadProp struct {
	Space string `json:"ns"`
	Local string `json:"name"`
	Lang  string `json:"lang,omitempty"`
	XML   string `json:"xml"` // the value as canonical inner XML
}

func (r *record) empty() bool { return len(r.Props) == 0 && r.Mtime == nil }

// maxRecord bounds a record: a PROPPATCH body is bounded by maxBody, but a
// resource may collect properties over many.
const maxRecord = 4 * maxBody

// propStore reads and writes the records in t (nil: no dead properties).
type propStore struct {
	t    storage.Tree
	seed maphash.Seed
	// mu serializes read-modify-write of one record within this process;
	// striped by the record's name.
	mu [64]sync.Mutex

	// listed keeps records a folder's PROPFIND read, by sidecar name, with
	// the sidecar as its folder's listing showed it: the next PROPFIND
	// reads again only the records whose listing changed. On an object
	// store every record is a GET, and a folder rclone synced (X-OC-Mtime)
	// has one for every file.
	listedMu sync.Mutex
	listed   map[string]listedRecord
}

type listedRecord struct {
	size int64
	mod  time.Time
	etag string
	rec  record
}

// Bounds of the listed records: small ones only (a kept time, a few
// properties), and so many at most before they are all forgotten.
const (
	maxListedRecord  = 4 << 10
	maxListedRecords = 1 << 16
)

func newPropStore(t storage.Tree) *propStore {
	return &propStore{t: t, seed: maphash.MakeSeed(), listed: map[string]listedRecord{}}
}

// getListed is get for a member whose sidecar a listing of its folder
// showed as info.
func (s *propStore) getListed(ctx context.Context, name string, info storage.Info) (record, error) {
	key := sidecar(name)
	s.listedMu.Lock()
	c, ok := s.listed[key]
	s.listedMu.Unlock()
	if ok && c.size == info.Size && c.mod.Equal(info.ModTime) && c.etag == info.ETag {
		return c.rec, nil
	}
	rec, err := s.get(ctx, name)
	if err != nil || info.Size > maxListedRecord {
		return rec, err
	}
	s.listedMu.Lock()
	if len(s.listed) >= maxListedRecords {
		clear(s.listed)
	}
	s.listed[key] = listedRecord{size: info.Size, mod: info.ModTime, etag: info.ETag, rec: rec}
	s.listedMu.Unlock()
	return rec, nil
}

func (s *propStore) lock(name string) *sync.Mutex {
	return &s.mu[maphash.String(s.seed, name)%uint64(len(s.mu))]
}

// leaf is one component of the mirror: kind ("d" folder, "p" record) and
// the name, or its hash when the name is at the limit of a file name.
func leaf(kind, comp string) string {
	if len(comp) < 250 {
		return kind + comp
	}
	sum := sha256.Sum256([]byte(comp))
	return "h" + kind + hex.EncodeToString(sum[:])
}

// mirror is the folder that holds the records of dir's members.
func mirror(dir string) string {
	if dir == "." || dir == "" {
		return propsDir
	}
	var b strings.Builder
	b.WriteString(propsDir)
	for comp := range strings.SplitSeq(dir, "/") {
		b.WriteByte('/')
		b.WriteString(leaf("d", comp))
	}
	return b.String()
}

// sidecar is the name of name's record.
func sidecar(name string) string {
	if name == "." || name == "" {
		return propsDir + "/r"
	}
	return mirror(path.Dir(name)) + "/" + leaf("p", path.Base(name))
}

func (s *propStore) get(ctx context.Context, name string) (record, error) {
	var rec record
	if s == nil || s.t == nil {
		return rec, nil
	}
	data, err := storage.ReadSmall(ctx, s.t, sidecar(name), maxRecord)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, storage.ErrNotDir) || errors.Is(err, storage.ErrIsDir) {
		return rec, nil
	}
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return record{}, nil // a damaged record is as good as none
	}
	return rec, nil
}

func (s *propStore) put(ctx context.Context, name string, rec record) error {
	if rec.empty() {
		err := s.t.Remove(ctx, sidecar(name))
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		return err
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return storage.WriteSmall(ctx, s.t, sidecar(name), data, true)
}

// update applies fn to name's record under the record's lock.
func (s *propStore) update(ctx context.Context, name string, fn func(*record) error) error {
	if s == nil || s.t == nil {
		return errNoProps
	}
	mu := s.lock(sidecar(name))
	mu.Lock()
	defer mu.Unlock()
	rec, err := s.get(ctx, name)
	if err != nil {
		return err
	}
	if err := fn(&rec); err != nil {
		return err
	}
	return s.put(ctx, name, rec)
}

var errNoProps = errors.New("webdav: no place for dead properties")

// warmers bounds the records warm reads at once.
const warmers = 8

// warm reads the records of dir's members that are not kept yet, warmers
// at a time, before the answer streams: on an object store each is a GET,
// which one after the other cost a second per 1,000 files. Records it
// cannot keep (too many, too large, a hashed name) are left to getListed.
func (s *propStore) warm(ctx context.Context, dir string, members map[string]storage.Info) {
	if len(members) < 2 || len(members) > maxListedRecords/2 {
		return
	}
	sem := make(chan struct{}, warmers)
	var wg sync.WaitGroup
	for lf, info := range members {
		comp, ok := strings.CutPrefix(lf, "p")
		if !ok || info.Size > maxListedRecord {
			continue
		}
		name := path.Join(dir, comp)
		s.listedMu.Lock()
		c, kept := s.listed[sidecar(name)]
		s.listedMu.Unlock()
		if kept && c.size == info.Size && c.mod.Equal(info.ModTime) && c.etag == info.ETag {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.getListed(ctx, name, info) // a failure shows when the answer reads it
		})
	}
	wg.Wait()
}

// members lists the members of the folder dir that have a record: the
// record as listed, by its leaf name (leaf("p", member)).
func (s *propStore) members(ctx context.Context, dir string) (map[string]storage.Info, error) {
	if s == nil || s.t == nil {
		return nil, nil
	}
	var out map[string]storage.Info
	for info, err := range s.t.List(ctx, mirror(dir)) {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, storage.ErrNotDir) {
				return out, nil
			}
			return nil, err
		}
		if !info.IsDir {
			if out == nil {
				out = map[string]storage.Info{}
			}
			out[info.Name] = info
		}
	}
	return out, nil
}

// remove forgets name's record and its members'.
func (s *propStore) remove(ctx context.Context, name string) error {
	if s == nil || s.t == nil {
		return nil
	}
	var first error
	targets := []string{sidecar(name)}
	if name != "." {
		targets = append(targets, mirror(name))
	}
	for _, n := range targets {
		if err := s.t.Remove(ctx, n); err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	return first
}

// transfer moves (or copies) src's records to dst, replacing what dst had.
func (s *propStore) transfer(ctx context.Context, src, dst string, keep bool) error {
	if s == nil || s.t == nil {
		return nil
	}
	if err := s.remove(ctx, dst); err != nil {
		return err
	}
	op := s.t.Move
	if keep {
		op = s.t.Copy
	}
	for _, p := range [][2]string{{sidecar(src), sidecar(dst)}, {mirror(src), mirror(dst)}} {
		if _, err := s.t.Stat(ctx, p[0]); err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, storage.ErrNotDir) {
				continue
			}
			return err
		}
		if err := s.mkdirAll(ctx, path.Dir(p[1])); err != nil {
			return err
		}
		if _, err := op(ctx, p[0], p[1], true); err != nil {
			return err
		}
	}
	return nil
}

// mkdirAll makes the folder dir of the state tree and its parents.
func (s *propStore) mkdirAll(ctx context.Context, dir string) error {
	cur := ""
	for comp := range strings.SplitSeq(dir, "/") {
		cur = path.Join(cur, comp)
		if err := s.t.Mkdir(ctx, cur); err != nil && !errors.Is(err, fs.ErrExist) {
			if info, serr := s.t.Stat(ctx, cur); serr == nil && info.IsDir {
				continue
			}
			return err
		}
	}
	return nil
}
