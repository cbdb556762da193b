// Package sharelink makes and checks share links: URLs that open one file
// or folder of the tree without credentials until they expire, and, when
// asked, for a number of complete downloads only.
//
// A link is a signed token (see token.go) and a record kept in the
// backend's reserved area (.ferry/shares/ID.json), so that links survive a
// restart, every node of a shared store knows them, their maker can list
// and revoke them, and the downloads they allow are counted in one place.
// A download takes a slot (.ferry/shares/ID.d/N), created create-only, so
// that of racing downloads, on one node or many, no more than the limit
// proceed; a slot is given back when its download is cut short.
package sharelink

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
)

// Dir is where records and slots live in the backend.
const Dir = rootfs.Reserved + "/shares"

// Bounds on what one user may ask for.
const (
	MaxTTL       = 7 * 24 * time.Hour
	MinTTL       = time.Second
	MaxDownloads = 1000
	MaxPerOwner  = 500 // links alive at once
	maxRecord    = 16 << 10
)

// Link is one share link as its maker sees it.
type Link struct {
	ID      string    `json:"id"`
	Path    string    `json:"path"` // decoded URL path of the entry, "/docs/" for a folder
	Owner   string    `json:"owner"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Downloads is the number of complete downloads allowed, 0 for no
	// limit; Used how many happened (or are under way).
	Downloads int `json:"downloads,omitempty"`
	Used      int `json:"used"`
	// Token is the link's secret part; a record never holds it, it is
	// computed again from the claims for the maker.
	Token string `json:"token,omitempty"`
}

// Dir reports whether the link is to a folder.
func (l Link) Dir() bool { return strings.HasSuffix(l.Path, "/") }

// Name is the entry's clean relative name in the tree ("." for the root).
func (l Link) Name() string {
	n := strings.Trim(l.Path, "/")
	if n == "" {
		return "."
	}
	return n
}

// record is what the store keeps of a link.
type record struct {
	Path      string    `json:"path"`
	Owner     string    `json:"owner"`
	Created   time.Time `json:"created"`
	Expires   int64     `json:"expires"`
	Downloads uint32    `json:"downloads,omitempty"`
}

// Errors a lookup reports; the handler maps them to statuses.
var (
	ErrInvalid  = errors.New("this share link is not valid: it was revoked, or never made here")
	ErrExpired  = errors.New("this share link has expired")
	ErrUsedUp   = errors.New("this share link's downloads are used up")
	ErrBusy     = errors.New("every download this share link allows is under way; try again when one ends")
	ErrTooMany  = fmt.Errorf("too many share links alive (at most %d each)", MaxPerOwner)
	ErrNotOwner = errors.New("not a share link of yours")
)

// InputError is a request Create refuses; its text is for the client.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Manager keeps the links of one tree.
type Manager struct {
	state  storage.Tree // the backend below the policy layer: .ferry/ is reachable
	secret func() ([]byte, error)
	now    func() time.Time

	mu sync.Mutex // one creation at a time counts a user's links
}

// New makes a Manager keeping records in state. secret gives the HMAC key;
// it is asked for on first use, so a server that never makes a link never
// creates one.
func New(state storage.Tree, secret func() ([]byte, error)) *Manager {
	return &Manager{state: state, secret: secret, now: time.Now}
}

func recordName(id string) string { return path.Join(Dir, id+".json") }
func slotsDir(id string) string   { return path.Join(Dir, id+".d") }

// Create makes a link to p (a decoded URL path; a trailing slash for a
// folder) for owner.
func (m *Manager) Create(ctx context.Context, owner, p string, ttl time.Duration, downloads int) (Link, error) {
	key, err := m.secret()
	if err != nil {
		return Link{}, err
	}
	if ttl < MinTTL || ttl > MaxTTL {
		return Link{}, &InputError{fmt.Sprintf("expires must be between %s and %s", MinTTL, MaxTTL)}
	}
	if downloads < 0 || downloads > MaxDownloads {
		return Link{}, &InputError{fmt.Sprintf("downloads must be between 1 and %d, or none for no limit", MaxDownloads)}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mine, err := m.List(ctx, owner)
	if err != nil {
		return Link{}, err
	}
	if len(mine) >= MaxPerOwner {
		return Link{}, ErrTooMany
	}
	now := m.now()
	var c claims
	rand.Read(c.id[:])
	c.expires = now.Add(ttl).Unix()
	c.limit = uint32(downloads)
	rec := record{Path: p, Owner: owner, Created: now.UTC().Truncate(time.Second), Expires: c.expires, Downloads: c.limit}
	data, _ := json.Marshal(rec)
	if err := storage.WriteSmall(ctx, m.state, recordName(c.ID()), data, false); err != nil {
		return Link{}, err
	}
	return m.link(c.ID(), rec, 0, sign(key, c, p)), nil
}

func (m *Manager) link(id string, rec record, used int, token string) Link {
	return Link{
		ID: id, Path: rec.Path, Owner: rec.Owner, Created: rec.Created,
		Expires: time.Unix(rec.Expires, 0).UTC(), Downloads: int(rec.Downloads), Used: used, Token: token,
	}
}

// Lookup checks a token and returns its link (without Token and Used).
func (m *Manager) Lookup(ctx context.Context, tok string) (Link, error) {
	c, t, err := parseToken(tok)
	if err != nil {
		return Link{}, ErrInvalid
	}
	key, err := m.secret()
	if err != nil {
		return Link{}, err
	}
	rec, err := m.read(ctx, c.ID())
	if errors.Is(err, fs.ErrNotExist) {
		return Link{}, ErrInvalid
	}
	if err != nil {
		return Link{}, err
	}
	// The tag covers the path and the claims; the record must say the same.
	want := tag(key, c, rec.Path)
	if !hmacEqual(t, want) || rec.Expires != c.expires || rec.Downloads != c.limit {
		return Link{}, ErrInvalid
	}
	if c.expired(m.now()) {
		return Link{}, ErrExpired
	}
	return m.link(c.ID(), rec, 0, ""), nil
}

func (m *Manager) read(ctx context.Context, id string) (record, error) {
	var rec record
	data, err := storage.ReadSmall(ctx, m.state, recordName(id), maxRecord)
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, fmt.Errorf("share record %s: %w", id, err)
	}
	return rec, nil
}

// List returns owner's links that have not expired, newest first, each
// with its token and the downloads used. Records long expired are removed
// on the way.
func (m *Manager) List(ctx context.Context, owner string) ([]Link, error) {
	key, err := m.secret()
	if err != nil {
		return nil, err
	}
	now := m.now()
	var out []Link
	for info, err := range m.state.List(ctx, Dir) {
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, err
		}
		id, ok := strings.CutSuffix(info.Name, ".json")
		if !ok || info.IsDir || len(id) != 2*idLen {
			continue
		}
		rec, err := m.read(ctx, id)
		if err != nil {
			continue // gone meanwhile, or damaged: it opens nothing
		}
		if now.Unix() >= rec.Expires {
			if now.Unix() >= rec.Expires+int64(24*time.Hour/time.Second) {
				m.remove(ctx, id)
			}
			continue
		}
		if rec.Owner != owner {
			continue
		}
		var c claims
		if _, err := hexDecode(c.id[:], id); err != nil {
			continue
		}
		c.expires, c.limit = rec.Expires, rec.Downloads
		used := 0
		if rec.Downloads > 0 {
			used = len(m.slots(ctx, id))
		}
		out = append(out, m.link(id, rec, used, sign(key, c, rec.Path)))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// Revoke removes owner's link id.
func (m *Manager) Revoke(ctx context.Context, owner, id string) error {
	if len(id) != 2*idLen || !isHex(id) {
		return ErrInvalid
	}
	rec, err := m.read(ctx, id)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrInvalid
	}
	if err != nil {
		return err
	}
	if rec.Owner != owner {
		return ErrNotOwner
	}
	return m.remove(ctx, id)
}

func (m *Manager) remove(ctx context.Context, id string) error {
	// The record first: without it the link opens nothing.
	err := m.state.Remove(ctx, recordName(id))
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	if rerr := m.state.Remove(ctx, slotsDir(id)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}

// slots lists the download slots taken of link id.
func (m *Manager) slots(ctx context.Context, id string) map[int]bool {
	taken := map[int]bool{}
	for info, err := range m.state.List(ctx, slotsDir(id)) {
		if err != nil {
			break
		}
		if n, err := strconv.Atoi(info.Name); err == nil {
			taken[n] = true
		}
	}
	return taken
}

// Slot is a download under way through a limited link.
type Slot struct {
	id string
	n  int
}

// Claim takes one of a limited link's downloads before the download
// starts; it fails with ErrUsedUp when every one is spent, ErrBusy when
// some are still under way. A link without a limit needs none (nil).
func (m *Manager) Claim(ctx context.Context, l Link) (*Slot, error) {
	if l.Downloads == 0 {
		return nil, nil
	}
	taken := m.slots(ctx, l.ID)
	for n := 1; n <= l.Downloads; n++ {
		if taken[n] {
			continue
		}
		// Create-only: of racers for one number, exactly one gets it,
		// whichever node they run on.
		err := storage.WriteSmall(ctx, m.state, path.Join(slotsDir(l.ID), strconv.Itoa(n)), []byte("under way\n"), false)
		if err == nil {
			return &Slot{id: l.ID, n: n}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	// Every number is taken: spent, or some still under way.
	for n := 1; n <= l.Downloads; n++ {
		data, err := storage.ReadSmall(ctx, m.state, path.Join(slotsDir(l.ID), strconv.Itoa(n)), 64)
		if err == nil && bytes.HasPrefix(data, []byte("under way")) {
			return nil, ErrBusy
		}
	}
	return nil, ErrUsedUp
}

// Done settles a slot: a complete download keeps it (the link has one
// download less), anything else gives it back.
func (m *Manager) Done(ctx context.Context, s *Slot, complete bool) error {
	if s == nil {
		return nil
	}
	name := path.Join(slotsDir(s.id), strconv.Itoa(s.n))
	if complete {
		return storage.WriteSmall(ctx, m.state, name, []byte("downloaded "+m.now().UTC().Format(time.RFC3339)+"\n"), true)
	}
	err := m.state.Remove(ctx, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
