package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/mount"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/transfer"
)

// Realm is sent in WWW-Authenticate.
const Realm = "ferry"

// Options tune the checker; the zero value is what ferry uses.
type Options struct {
	// AnonRead lets requests without credentials read (GET, HEAD, OPTIONS).
	AnonRead bool
	// MaxFailures failed attempts from one address within Window block that
	// address for Block (429). Defaults: 10, 1 minute, 1 minute.
	MaxFailures int
	Window      time.Duration
	Block       time.Duration
	// CacheTTL is how long a successful check is remembered (default 10 minutes).
	CacheTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Checker authenticates and authorizes requests.
type Checker struct {
	accounts []*account
	anonRead bool
	// dummy is compared when the user is unknown, so that the answer takes
	// as long as for a known user with a bcrypt password.
	dummy   []byte
	now     func() time.Time
	ttl     time.Duration
	noCache bool // benchmarks measure the cost without the cache

	// sem bounds concurrent bcrypt comparisons so that a flood of guesses
	// from many addresses cannot take every CPU from the clients being served.
	sem     chan struct{}
	salt    [32]byte
	limiter *limiter

	mu    sync.Mutex
	cache map[[32]byte]cacheEntry
}

// account is one user and password with every grant the rules give it.
type account struct {
	user   string
	secret string
	hashed bool
	sum    [32]byte // SHA-256 of a plain secret, compared in constant time
	grants []grant
}

type grant struct {
	path  string
	write bool
}

type cacheEntry struct {
	grants  []grant
	expires time.Time
}

const maxCache = 4096

// New builds a checker from parsed rules.
func New(rules []Rule, opts Options) *Checker {
	c := &Checker{
		anonRead: opts.AnonRead,
		now:      opts.Now,
		ttl:      opts.CacheTTL,
		sem:      make(chan struct{}, max(1, runtime.NumCPU())),
		cache:    map[[32]byte]cacheEntry{},
		limiter: &limiter{
			max:    opts.MaxFailures,
			window: opts.Window,
			block:  opts.Block,
			m:      map[string]*failures{},
		},
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.ttl <= 0 {
		c.ttl = 10 * time.Minute
	}
	if c.limiter.max <= 0 {
		c.limiter.max = 10
	}
	if c.limiter.window <= 0 {
		c.limiter.window = time.Minute
	}
	if c.limiter.block <= 0 {
		c.limiter.block = time.Minute
	}
	rand.Read(c.salt[:])
	for _, r := range rules {
		var acc *account
		for _, a := range c.accounts {
			if a.user == r.User && a.secret == r.Secret {
				acc = a
			}
		}
		if acc == nil {
			acc = &account{user: r.User, secret: r.Secret, hashed: r.Hashed, sum: sha256.Sum256([]byte(r.Secret))}
			c.accounts = append(c.accounts, acc)
		}
		acc.grants = append(acc.grants, grant{path: r.Path, write: r.Write})
		if r.Hashed && c.dummy == nil {
			cost, err := bcrypt.Cost([]byte(r.Secret))
			if err != nil {
				cost = bcrypt.DefaultCost
			}
			c.dummy, _ = bcrypt.GenerateFromPassword(c.salt[:8], cost)
		}
	}
	return c
}

// Middleware answers 401, 403 or 429 for requests that may not go on, and
// passes the others to next. It looks at nothing but the method, the path,
// the Destination header and the credentials, so it can run first.
func (c *Checker) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.allow(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

func (c *Checker) allow(w http.ResponseWriter, r *http.Request) bool {
	read := isRead(r.Method)
	hdr := r.Header.Get("Authorization")
	if hdr == "" {
		if c.anonRead && read {
			return true
		}
		challenge(w, r)
		return false
	}
	user, pass, ok := ParseBasic(hdr)
	if !ok {
		challenge(w, r)
		return false
	}
	grants, ok := c.authenticate(w, r, user, pass)
	if !ok {
		return false
	}
	// Only a verified name reaches the access log.
	transfer.FromContext(r.Context()).User = user
	if read && c.anonRead {
		return true
	}
	if !authorized(grants, r, read) {
		httperr.Write(w, r, http.StatusForbidden, "no access for this user")
		return false
	}
	return true
}

// authenticate checks the credentials, answering 401 or 429 itself.
func (c *Checker) authenticate(w http.ResponseWriter, r *http.Request, user, pass string) ([]grant, bool) {
	now := c.now()
	key := c.key(user, pass)
	// A cached success is answered even while the address is blocked: it
	// proves nothing an attacker does not already know, and keeps users
	// behind the same NAT working.
	if g, ok := c.cached(key, now); ok {
		return g, true
	}
	ip := clientKey(r.RemoteAddr)
	if wait := c.limiter.blocked(ip, now); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		httperr.Write(w, r, http.StatusTooManyRequests, "too many failed logins; try again later")
		return nil, false
	}
	grants, err := c.verify(r.Context(), user, pass)
	if err != nil {
		// The client went away while waiting for a bcrypt slot.
		httperr.Write(w, r, http.StatusServiceUnavailable, "")
		return nil, false
	}
	if grants == nil {
		c.limiter.fail(ip, c.now())
		challenge(w, r)
		return nil, false
	}
	c.store(key, grants, now)
	return grants, true
}

// verify returns the grants of every account the credentials match, or nil.
func (c *Checker) verify(ctx context.Context, user, pass string) ([]grant, error) {
	var grants []grant
	known := false
	sum := sha256.Sum256([]byte(pass))
	for _, a := range c.accounts {
		if subtle.ConstantTimeCompare([]byte(a.user), []byte(user)) != 1 {
			continue
		}
		known = true
		if !a.hashed {
			if subtle.ConstantTimeCompare(a.sum[:], sum[:]) == 1 {
				grants = append(grants, a.grants...)
			}
			continue
		}
		ok, err := c.bcrypt(ctx, []byte(a.secret), pass)
		if err != nil {
			return nil, err
		}
		if ok {
			grants = append(grants, a.grants...)
		}
	}
	if !known && c.dummy != nil {
		if _, err := c.bcrypt(ctx, c.dummy, pass); err != nil {
			return nil, err
		}
	}
	return grants, nil
}

func (c *Checker) bcrypt(ctx context.Context, hash []byte, pass string) (bool, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-c.sem }()
	return bcrypt.CompareHashAndPassword(hash, []byte(pass)) == nil, nil
}

// key identifies credentials in the cache by a salted SHA-256, so that the
// cache holds no password and no unsalted fast hash of one.
func (c *Checker) key(user, pass string) [32]byte {
	h := sha256.New()
	h.Write(c.salt[:])
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(pass))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (c *Checker) cached(k [32]byte, now time.Time) ([]grant, bool) {
	if c.noCache {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cache[k]
	if !ok || now.After(e.expires) {
		return nil, false
	}
	return e.grants, true
}

func (c *Checker) store(k [32]byte, g []grant, now time.Time) {
	if c.noCache {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cache) >= maxCache {
		for kk, e := range c.cache {
			if now.After(e.expires) {
				delete(c.cache, kk)
			}
		}
		if len(c.cache) >= maxCache {
			clear(c.cache)
		}
	}
	c.cache[k] = cacheEntry{grants: g, expires: now.Add(c.ttl)}
}

// isRead tells the methods that only read: WebDAV's PROPFIND is one.
func isRead(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == "PROPFIND"
}

func challenge(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`", charset="UTF-8"`)
	httperr.Write(w, r, http.StatusUnauthorized, "")
}

// authorized decides whether grants cover the request. Paths that ferry
// refuses anyway (400) are let through to that check: they reach nothing.
func authorized(grants []grant, r *http.Request, read bool) bool {
	if r.URL.Path == "*" && read {
		return true // OPTIONS *: the Allow header, nothing of the tree
	}
	escaped := r.URL.EscapedPath()
	if read && strings.HasPrefix(escaped, "/.ferry/") {
		return len(grants) > 0 // ferry's own assets, needed by every listing
	}
	if escaped == "/.ferry/shares" || strings.HasPrefix(escaped, "/.ferry/shares/") {
		// Making and revoking share links: a reader may share what it
		// reads, which the handler checks for the path asked for.
		return len(grants) > 0
	}
	name, _, err := rootfs.ParseURLPath(escaped)
	if err != nil {
		return true
	}
	switch r.Method {
	case "COPY":
		if !covers(grants, name, false) {
			return false
		}
		return destinationOK(grants, r)
	case "MOVE":
		if !covers(grants, name, true) {
			return false
		}
		return destinationOK(grants, r)
	}
	return covers(grants, name, !read)
}

// destinationOK checks the write grant on a MOVE or COPY target, read by
// the parser the write handler uses (mount prefix and all). A target that
// cannot be resolved is allowed only to users who may write anywhere (the
// handler then refuses it with the same parser); everyone else gets 403.
func destinationOK(grants []grant, r *http.Request) bool {
	if r.Header.Get("Destination") == "" {
		return true // the handler answers 400
	}
	name, err := mount.Destination(r)
	if err != nil {
		return covers(grants, ".", true)
	}
	return covers(grants, name, true)
}

func covers(grants []grant, name string, write bool) bool {
	for _, g := range grants {
		if write && !g.write {
			continue
		}
		if g.path == "." || name == g.path || strings.HasPrefix(name, g.path+"/") {
			return true
		}
	}
	return false
}
