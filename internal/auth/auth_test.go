package auth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newChecker(t testing.TB, opts Options, specs ...string) (http.Handler, *clock) {
	t.Helper()
	rules, err := ParseRules(specs)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	opts.Now = clk.Now
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	return New(rules, opts).Middleware(ok), clk
}

type req struct {
	method, path, user, pass, dest, remote string
}

func do(h http.Handler, q req) *httptest.ResponseRecorder {
	r := httptest.NewRequest(q.method, "http://x"+q.path, nil)
	if q.path == "*" {
		r = httptest.NewRequest(q.method, "*", nil)
	}
	if q.user != "" || q.pass != "" {
		r.SetBasicAuth(q.user, q.pass)
	}
	if q.dest != "" {
		r.Header.Set("Destination", q.dest)
	}
	r.RemoteAddr = "192.0.2.1:1234"
	if q.remote != "" {
		r.RemoteAddr = q.remote
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func mustHash(t testing.TB, pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestCheckerAccess(t *testing.T) {
	h, _ := newChecker(t, Options{},
		"admin:root-pw",
		"carol:"+mustHash(t, "hashed-pw"),
		"bob:bob-pw@/drop:rw",
		"bob:bob-pw@/docs:ro",
		"eve:eve-pw@/docs/public:ro",
	)
	const teapot = http.StatusTeapot
	tests := []struct {
		name string
		req
		want int
	}{
		{"no credentials", req{method: "GET", path: "/"}, 401},
		{"no credentials OPTIONS *", req{method: "OPTIONS", path: "*"}, 401},
		{"no credentials unknown method", req{method: "FUNC", path: "/cgi-bin/x"}, 401},
		{"wrong password", req{method: "GET", path: "/", user: "admin", pass: "nope"}, 401},
		{"unknown user", req{method: "GET", path: "/", user: "mallory", pass: "root-pw"}, 401},
		{"user case matters", req{method: "GET", path: "/", user: "Admin", pass: "root-pw"}, 401},
		{"admin reads", req{method: "GET", path: "/a/b", user: "admin", pass: "root-pw"}, teapot},
		{"admin writes", req{method: "PUT", path: "/a/b", user: "admin", pass: "root-pw"}, teapot},
		{"bcrypt user", req{method: "DELETE", path: "/x", user: "carol", pass: "hashed-pw"}, teapot},
		{"bcrypt wrong", req{method: "GET", path: "/x", user: "carol", pass: "hashed-pW"}, 401},
		{"bob writes drop", req{method: "PUT", path: "/drop/new.txt", user: "bob", pass: "bob-pw"}, teapot},
		{"bob writes drop itself", req{method: "MKCOL", path: "/drop/", user: "bob", pass: "bob-pw"}, teapot},
		{"bob reads docs", req{method: "HEAD", path: "/docs/a.pdf", user: "bob", pass: "bob-pw"}, teapot},
		{"bob cannot write docs", req{method: "PUT", path: "/docs/a.pdf", user: "bob", pass: "bob-pw"}, 403},
		{"bob cannot read root", req{method: "GET", path: "/", user: "bob", pass: "bob-pw"}, 403},
		{"bob prefix is not a subtree", req{method: "GET", path: "/docsecret/x", user: "bob", pass: "bob-pw"}, 403},
		{"bob encoded dot path", req{method: "GET", path: "/drop/%2e/../secret", user: "bob", pass: "bob-pw"}, teapot},
		{"bob double slash", req{method: "PUT", path: "//docs//a", user: "bob", pass: "bob-pw"}, 403},
		{"bob dot segment", req{method: "PUT", path: "/drop/./../docs/a", user: "bob", pass: "bob-pw"}, teapot},
		{"bob case", req{method: "PUT", path: "/DROP/a", user: "bob", pass: "bob-pw"}, 403},
		{"bob unknown method is a write", req{method: "FUNC", path: "/docs/a", user: "bob", pass: "bob-pw"}, 403},
		{"bob POST docs", req{method: "POST", path: "/docs/", user: "bob", pass: "bob-pw"}, 403},
		{"bob assets", req{method: "GET", path: "/.ferry/assets/app.css", user: "bob", pass: "bob-pw"}, teapot},
		{"bob OPTIONS *", req{method: "OPTIONS", path: "*", user: "bob", pass: "bob-pw"}, teapot},
		{"bob move within drop", req{method: "MOVE", path: "/drop/a", user: "bob", pass: "bob-pw", dest: "http://x/drop/b"}, teapot},
		{"bob move out of drop", req{method: "MOVE", path: "/drop/a", user: "bob", pass: "bob-pw", dest: "http://x/docs/a"}, 403},
		{"bob move from docs", req{method: "MOVE", path: "/docs/a", user: "bob", pass: "bob-pw", dest: "http://x/drop/a"}, 403},
		{"bob copy docs to drop", req{method: "COPY", path: "/docs/a", user: "bob", pass: "bob-pw", dest: "http://x/drop/a"}, teapot},
		{"bob move traversal dest", req{method: "MOVE", path: "/drop/a", user: "bob", pass: "bob-pw", dest: "http://x/drop/%2e%2e/docs/a"}, 403},
		{"bob move dest not a URL", req{method: "MOVE", path: "/drop/a", user: "bob", pass: "bob-pw", dest: "::"}, 403},
		{"admin move odd dest goes on", req{method: "MOVE", path: "/a", user: "admin", pass: "root-pw", dest: "http://x/%2e%2e/a"}, teapot},
		{"eve reads her subtree", req{method: "GET", path: "/docs/public/", user: "eve", pass: "eve-pw"}, teapot},
		{"eve not docs", req{method: "GET", path: "/docs/", user: "eve", pass: "eve-pw"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(h, tt.req)
			if w.Code != tt.want {
				t.Fatalf("%s %s as %q = %d, want %d", tt.method, tt.path, tt.user, w.Code, tt.want)
			}
			if w.Code == 401 && w.Header().Get("WWW-Authenticate") != `Basic realm="ferry", charset="UTF-8"` {
				t.Fatalf("WWW-Authenticate = %q", w.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestCheckerAnonRead(t *testing.T) {
	h, _ := newChecker(t, Options{AnonRead: true}, "bob:pw@/drop")
	tests := []struct {
		req
		want int
	}{
		{req{method: "GET", path: "/"}, http.StatusTeapot},
		{req{method: "HEAD", path: "/a"}, http.StatusTeapot},
		{req{method: "OPTIONS", path: "*"}, http.StatusTeapot},
		{req{method: "PUT", path: "/drop/a"}, 401},
		{req{method: "DELETE", path: "/a"}, 401},
		{req{method: "FUNC", path: "/a"}, 401},
		{req{method: "GET", path: "/", user: "bob", pass: "wrong"}, 401},
		{req{method: "GET", path: "/", user: "bob", pass: "pw"}, http.StatusTeapot},
		{req{method: "PUT", path: "/drop/a", user: "bob", pass: "pw"}, http.StatusTeapot},
		{req{method: "PUT", path: "/a", user: "bob", pass: "pw"}, 403},
	}
	for _, tt := range tests {
		if w := do(h, tt.req); w.Code != tt.want {
			t.Errorf("%s %s as %q = %d, want %d", tt.method, tt.path, tt.user, w.Code, tt.want)
		}
	}
}

func TestCheckerRateLimit(t *testing.T) {
	h, clk := newChecker(t, Options{}, "alice:"+mustHash(t, "right"), "bob:plain")
	good := req{method: "GET", path: "/", user: "alice", pass: "right"}
	if w := do(h, good); w.Code != http.StatusTeapot {
		t.Fatalf("good login = %d", w.Code)
	}
	for i := range 10 {
		if w := do(h, req{method: "GET", path: "/", user: "alice", pass: "guess"}); w.Code != 401 {
			t.Fatalf("guess %d = %d, want 401", i, w.Code)
		}
	}
	w := do(h, req{method: "GET", path: "/", user: "alice", pass: "guess"})
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "60" {
		t.Fatalf("11th guess = %d Retry-After %q, want 429 60", w.Code, w.Header().Get("Retry-After"))
	}
	// Even the right password of another account is not checked while blocked.
	if w := do(h, req{method: "GET", path: "/", user: "bob", pass: "plain"}); w.Code != http.StatusTooManyRequests {
		t.Fatalf("uncached login while blocked = %d, want 429", w.Code)
	}
	// A success already proven stays usable from behind the same address.
	if w := do(h, good); w.Code != http.StatusTeapot {
		t.Fatalf("cached login while blocked = %d, want 418", w.Code)
	}
	// Other addresses are unaffected, and IPv6 neighbours share a /64.
	if w := do(h, req{method: "GET", path: "/", user: "bob", pass: "plain", remote: "192.0.2.2:1"}); w.Code != http.StatusTeapot {
		t.Fatalf("other address = %d", w.Code)
	}
	for i := range 10 {
		do(h, req{method: "GET", path: "/", user: "x", pass: "y", remote: fmt.Sprintf("[2001:db8::%x]:1", i+1)})
	}
	if w := do(h, req{method: "GET", path: "/", user: "bob", pass: "other", remote: "[2001:db8::ff]:1"}); w.Code != http.StatusTooManyRequests {
		t.Fatalf("IPv6 /64 neighbour = %d, want 429", w.Code)
	}
	clk.Add(61 * time.Second)
	if w := do(h, req{method: "GET", path: "/", user: "bob", pass: "plain"}); w.Code != http.StatusTeapot {
		t.Fatalf("after the block = %d", w.Code)
	}
}

func TestCheckerCacheExpires(t *testing.T) {
	rules, _ := ParseRules([]string{"alice:" + mustHash(t, "pw")})
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	c := New(rules, Options{Now: clk.Now, CacheTTL: time.Minute})
	k := c.key("alice", "pw")
	g, err := c.verify(t.Context(), "alice", "pw")
	if err != nil || len(g) != 1 {
		t.Fatalf("verify = %v, %v", g, err)
	}
	c.store(k, g, clk.Now())
	if _, ok := c.cached(k, clk.Now()); !ok {
		t.Fatal("not cached")
	}
	if _, ok := c.cached(c.key("alice", "pW"), clk.Now()); ok {
		t.Fatal("other password cached")
	}
	clk.Add(2 * time.Minute)
	if _, ok := c.cached(k, clk.Now()); ok {
		t.Fatal("cache entry outlived its TTL")
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:5":               "192.0.2.1",
		"[::ffff:192.0.2.1]:5":      "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:80": "2001:db8:1:2::/64",
		"[fe80::1%eth0]:80":         "fe80::/64",
		"garbage":                   "garbage",
	} {
		if got := clientKey(in); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkAuthenticated measures authenticated requests per second with a
// bcrypt password (default cost), with and without the success cache.
func BenchmarkAuthenticated(b *testing.B) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	rules, _ := ParseRules([]string{"alice:" + string(hash)})
	for _, cached := range []bool{true, false} {
		name := "cached"
		if !cached {
			name = "uncached"
		}
		b.Run(name, func(b *testing.B) {
			c := New(rules, Options{})
			c.noCache = !cached
			h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			r := httptest.NewRequest("GET", "/file", nil)
			r.SetBasicAuth("alice", "s3cret")
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != 200 {
						b.Errorf("status %d", w.Code)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
