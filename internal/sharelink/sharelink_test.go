package sharelink

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/local"
	"github.com/ferry-sh/ferry/internal/storage/policy"
)

func newManager(t *testing.T) (*Manager, storage.Tree, string) {
	dir := t.TempDir()
	for n, c := range map[string]string{"docs/a.txt": "alpha", "docs/.env": "x", "top.txt": "top"} {
		p := filepath.Join(dir, filepath.FromSlash(n))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(c), 0o644)
	}
	// As ferry.New gives them: the state is the backend below the policy.
	state, err := local.Open(dir, rootfs.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { state.Close() })
	key := []byte("0123456789abcdef0123456789abcdef")
	return New(state, func() ([]byte, error) { return key, nil }), policy.Wrap(state, policy.Rules{}), dir
}

func TestLinkLifecycle(t *testing.T) {
	m, _, dir := newManager(t)
	ctx := context.Background()
	l, err := m.Create(ctx, "bob", "/docs/", time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Token) != TokenLen || !l.Dir() || l.Name() != "docs" {
		t.Fatalf("link %+v", l)
	}
	got, err := m.Lookup(ctx, l.Token)
	if err != nil || got.ID != l.ID || got.Path != "/docs/" || got.Owner != "bob" {
		t.Fatalf("lookup: %+v %v", got, err)
	}
	// Records live in the reserved area, and hold no token.
	rec, err := os.ReadFile(filepath.Join(dir, ".ferry", "shares", l.ID+".json"))
	if err != nil || strings.Contains(string(rec), l.Token) || strings.Contains(string(rec), strings.Split(l.Token, ".")[1]) {
		t.Errorf("record %s: %v", rec, err)
	}
	// A record changed behind the server's back (another path) opens
	// nothing: the token's tag covers the path.
	os.WriteFile(filepath.Join(dir, ".ferry", "shares", l.ID+".json"), []byte(strings.Replace(string(rec), "/docs/", "/", 1)), 0o644)
	if _, err := m.Lookup(ctx, l.Token); !errors.Is(err, ErrInvalid) {
		t.Errorf("lookup with a changed record: %v", err)
	}
	os.WriteFile(filepath.Join(dir, ".ferry", "shares", l.ID+".json"), rec, 0o644)

	if err := m.Revoke(ctx, "alice", l.ID); !errors.Is(err, ErrNotOwner) {
		t.Errorf("revoke by another: %v", err)
	}
	if err := m.Revoke(ctx, "bob", l.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Lookup(ctx, l.Token); !errors.Is(err, ErrInvalid) {
		t.Errorf("lookup after revoke: %v", err)
	}

	// Expiry, on a clock that moves.
	now := time.Now()
	m.now = func() time.Time { return now }
	e, _ := m.Create(ctx, "bob", "/top.txt", time.Minute, 0)
	now = now.Add(61 * time.Second)
	if _, err := m.Lookup(ctx, e.Token); !errors.Is(err, ErrExpired) {
		t.Errorf("expired: %v", err)
	}
	if ls, _ := m.List(ctx, "bob"); len(ls) != 0 {
		t.Errorf("expired link listed: %+v", ls)
	}
	// A day after, its record goes.
	now = now.Add(25 * time.Hour)
	m.List(ctx, "bob")
	if _, err := os.Stat(filepath.Join(dir, ".ferry", "shares", e.ID+".json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a long-expired record stays: %v", err)
	}
}

// Of many claims racing for a limited link, exactly its limit succeed; a
// slot given back can be claimed again; a kept one cannot.
func TestClaimRace(t *testing.T) {
	m, _, _ := newManager(t)
	ctx := context.Background()
	l, _ := m.Create(ctx, "bob", "/top.txt", time.Hour, 3)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var slots []*Slot
	busy := 0
	for range 20 {
		wg.Go(func() {
			s, err := m.Claim(ctx, l)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				slots = append(slots, s)
			case errors.Is(err, ErrBusy):
				busy++
			default:
				t.Errorf("claim: %v", err)
			}
		})
	}
	wg.Wait()
	if len(slots) != 3 || busy != 17 {
		t.Fatalf("20 racing claims for 3: %d got one, %d busy", len(slots), busy)
	}
	m.Done(ctx, slots[0], true)
	m.Done(ctx, slots[1], false) // cut short: back
	if _, err := m.Claim(ctx, l); err != nil {
		t.Fatalf("claim after one came back: %v", err)
	}
	if _, err := m.Claim(ctx, l); !errors.Is(err, ErrBusy) {
		t.Errorf("claim with all taken, some under way: %v", err)
	}
	if ls, _ := m.List(ctx, "bob"); len(ls) != 1 || ls[0].Used != 3 {
		t.Errorf("list: %+v", ls)
	}
}

func TestSub(t *testing.T) {
	m, view, _ := newManager(t)
	ctx := context.Background()
	dl, _ := m.Create(ctx, "bob", "/docs/", time.Hour, 0)
	s := Sub(view, dl)
	if _, err := s.Stat(ctx, "a.txt"); err != nil {
		t.Errorf("a.txt in the folder view: %v", err)
	}
	if _, err := s.Open(ctx, ".env"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a dotfile through the view: %v", err)
	}
	var names []string
	for info, err := range s.List(ctx, ".") {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, info.Name)
	}
	if strings.Join(names, ",") != "a.txt" {
		t.Errorf("folder view lists %v", names)
	}
	if _, err := s.Stage(ctx, "x", 1); !errors.Is(err, storage.ErrReadOnly) {
		t.Errorf("a write through the view: %v", err)
	}
	fl, _ := m.Create(ctx, "bob", "/docs/a.txt", time.Hour, 0)
	f := Sub(view, fl)
	if info, err := f.Stat(ctx, "."); err != nil || !info.IsDir {
		t.Errorf("file view's root: %+v %v", info, err)
	}
	for _, n := range []string{"top.txt", ".env", "docs/a.txt", "b.txt"} {
		if _, err := f.Open(ctx, n); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s through a file view: %v", n, err)
		}
	}
	if o, err := f.Open(ctx, "a.txt"); err != nil {
		t.Errorf("the file through its view: %v", err)
	} else {
		o.Close()
	}
}

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "conf", "ferry", "share-secret")
	a, err := SecretFile(f)()
	if err != nil || len(a) != 64 {
		t.Fatalf("made secret %q: %v", a, err)
	}
	if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
		t.Errorf("secret mode %v", fi.Mode())
	}
	b, _ := SecretFile(f)()
	if string(a) != string(b) {
		t.Error("the secret changed on a second read")
	}
	os.WriteFile(f, []byte("short\n"), 0o600)
	if _, err := SecretFile(f)(); err == nil {
		t.Error("a short secret was accepted")
	}
}

func FuzzParseToken(f *testing.F) {
	var c claims
	c.expires, c.limit = 1700000000, 3
	f.Add(sign([]byte("0123456789abcdef"), c, "/docs/"))
	f.Add("AAAA.BBBB")
	f.Add(strings.Repeat("A", TokenLen))
	f.Fuzz(func(t *testing.T, tok string) {
		c, tag, err := parseToken(tok)
		if err != nil {
			return
		}
		if len(tag) != tagLen {
			t.Fatalf("tag of %d bytes", len(tag))
		}
		// A token that parses re-encodes to itself (one spelling each).
		again := b64.EncodeToString(c.payload()) + "." + b64.EncodeToString(tag)
		if again != tok {
			t.Fatalf("%q parses but encodes as %q", tok, again)
		}
	})
}
