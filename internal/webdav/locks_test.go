package webdav

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/storage"
)

const (
	exclusiveBody = `<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>mailto:me@example.com</D:href></D:owner></D:lockinfo>`
	sharedBody    = `<lockinfo xmlns="DAV:"><lockscope><shared/></lockscope><locktype><write/></locktype><owner>someone</owner></lockinfo>`
)

var lockTokenRE = regexp.MustCompile(`^<(urn:uuid:[0-9a-f-]{36})>$`)

// lockRes takes a lock and returns its token.
func lockRes(t *testing.T, url, body string, want int, hdr ...string) string {
	t.Helper()
	resp, b := do(t, "LOCK", url, body, hdr...)
	if resp.StatusCode != want {
		t.Fatalf("LOCK %s = %d, want %d: %s", url, resp.StatusCode, want, b)
	}
	if want >= 300 {
		return ""
	}
	m := lockTokenRE.FindStringSubmatch(resp.Header.Get("Lock-Token"))
	if m == nil {
		t.Fatalf("Lock-Token %q", resp.Header.Get("Lock-Token"))
	}
	if !strings.Contains(b, m[1]) || !strings.Contains(b, "<lockdiscovery>") {
		t.Errorf("LOCK body lacks the lock: %s", b)
	}
	return m[1]
}

func TestLocks(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"f.txt": "x", "d/g.txt": "y"})
	tree, state := localTrees(t, dir)
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := newTestServer(t, tree, state, Options{Now: clock.now})
	u := s.URL

	tok := lockRes(t, u+"/f.txt", exclusiveBody, 200, "Timeout", "Second-60")
	// Another exclusive or shared lock conflicts.
	lockRes(t, u+"/f.txt", exclusiveBody, 423)
	lockRes(t, u+"/f.txt", sharedBody, 423)
	// Writes without the token are refused; with it they go through.
	for _, c := range []struct {
		method, path string
		hdr          []string
	}{
		{"PUT", "/f.txt", nil}, {"DELETE", "/f.txt", nil}, {"PROPPATCH", "/f.txt", nil},
		{"MOVE", "/f.txt", []string{"Destination", u + "/moved.txt"}},
		{"COPY", "/d/g.txt", []string{"Destination", u + "/f.txt"}},
	} {
		body := ""
		if c.method == "PROPPATCH" {
			body = `<propertyupdate xmlns="DAV:"><set><prop><x xmlns="urn:x">1</x></prop></set></propertyupdate>`
		}
		resp, b := do(t, c.method, u+c.path, body, c.hdr...)
		if resp.StatusCode != 423 || !strings.Contains(b, "<lock-token-submitted><href>/f.txt</href>") {
			t.Errorf("%s %s without token = %d %s", c.method, c.path, resp.StatusCode, b)
		}
	}
	if resp, _ := do(t, "PUT", u+"/f.txt", "new", "If", "(<"+tok+">)"); resp.StatusCode != 204 {
		t.Errorf("PUT with token = %d", resp.StatusCode)
	}
	// A wrong token: the header holds (Not no-lock) but the token is not
	// submitted (litmus's cond_put_corrupt_token).
	if resp, _ := do(t, "PUT", u+"/f.txt", "x", "If", "(<urn:uuid:00000000-0000-4000-8000-000000000000>) (Not <DAV:no-lock>)"); resp.StatusCode != 423 {
		t.Errorf("PUT with a wrong token = %d", resp.StatusCode)
	}
	// A condition that does not hold: 412.
	if resp, _ := do(t, "PUT", u+"/f.txt", "x", "If", `(<`+tok+`> ["nope"])`); resp.StatusCode != 412 {
		t.Errorf("PUT with a wrong etag = %d", resp.StatusCode)
	}
	if resp, _ := do(t, "PUT", u+"/f.txt", "x", "If", `(<`+tok+``); resp.StatusCode != 400 {
		t.Errorf("PUT with a malformed If = %d", resp.StatusCode)
	}
	// A tagged list for the resource works too.
	if resp, _ := do(t, "PUT", u+"/f.txt", "tagged", "If", "<"+u+"/f.txt> (<"+tok+">)"); resp.StatusCode != 204 {
		t.Errorf("PUT with a tagged token = %d", resp.StatusCode)
	}
	// lockdiscovery shows it.
	if p := propfindOne(t, u+"/f.txt"); !strings.Contains(p["{DAV:}lockdiscovery"].inner, tok) || !strings.Contains(p["{DAV:}lockdiscovery"].inner, "mailto:me@example.com") {
		t.Errorf("lockdiscovery: %q", p["{DAV:}lockdiscovery"].inner)
	}
	// Refresh, then let it expire.
	clock.t = clock.t.Add(50 * time.Second)
	if resp, b := do(t, "LOCK", u+"/f.txt", "", "If", "(<"+tok+">)", "Timeout", "Second-100"); resp.StatusCode != 200 || !strings.Contains(b, "Second-100") {
		t.Errorf("refresh = %d %s", resp.StatusCode, b)
	}
	clock.t = clock.t.Add(90 * time.Second)
	if resp, _ := do(t, "PUT", u+"/f.txt", "x"); resp.StatusCode != 423 {
		t.Errorf("PUT before the refreshed timeout = %d", resp.StatusCode)
	}
	clock.t = clock.t.Add(20 * time.Second)
	if resp, _ := do(t, "PUT", u+"/f.txt", "expired"); resp.StatusCode != 204 {
		t.Errorf("PUT after expiry = %d", resp.StatusCode)
	}

	// Shared locks share; UNLOCK needs the right token on the right URL.
	a := lockRes(t, u+"/f.txt", sharedBody, 200)
	b := lockRes(t, u+"/f.txt", sharedBody, 200)
	lockRes(t, u+"/f.txt", exclusiveBody, 423)
	if resp, _ := do(t, "UNLOCK", u+"/d/g.txt", "", "Lock-Token", "<"+a+">"); resp.StatusCode != 409 {
		t.Errorf("UNLOCK elsewhere = %d", resp.StatusCode)
	}
	if resp, _ := do(t, "UNLOCK", u+"/f.txt", ""); resp.StatusCode != 400 {
		t.Errorf("UNLOCK without token = %d", resp.StatusCode)
	}
	for _, tk := range []string{a, b} {
		if resp, _ := do(t, "UNLOCK", u+"/f.txt", "", "Lock-Token", "<"+tk+">"); resp.StatusCode != 204 {
			t.Errorf("UNLOCK = %d", resp.StatusCode)
		}
	}
	if resp, _ := do(t, "UNLOCK", u+"/f.txt", "", "Lock-Token", "<"+a+">"); resp.StatusCode != 409 {
		t.Errorf("second UNLOCK = %d", resp.StatusCode)
	}

	// A depth-infinity lock on a folder guards its members and membership;
	// a depth-0 one guards membership only.
	d := lockRes(t, u+"/d/", exclusiveBody, 200)
	if resp, _ := do(t, "PUT", u+"/d/g.txt", "x"); resp.StatusCode != 423 {
		t.Errorf("PUT in a locked folder = %d", resp.StatusCode)
	}
	if resp, _ := do(t, "PUT", u+"/d/g.txt", "x", "If", "(<"+d+">)"); resp.StatusCode != 204 {
		t.Errorf("PUT in a locked folder with its token = %d", resp.StatusCode)
	}
	if resp, _ := do(t, "DELETE", u+"/", ""); resp.StatusCode != 423 {
		t.Errorf("DELETE of the root over a locked folder = %d", resp.StatusCode)
	}
	do(t, "UNLOCK", u+"/d/", "", "Lock-Token", "<"+d+">")
	d0 := lockRes(t, u+"/d/", exclusiveBody, 200, "Depth", "0")
	if resp, _ := do(t, "PUT", u+"/d/g.txt", "existing member"); resp.StatusCode != 204 {
		t.Errorf("PUT of an existing member under a depth-0 lock = %d", resp.StatusCode)
	}
	if resp, _ := do(t, "PUT", u+"/d/new.txt", "x"); resp.StatusCode != 423 {
		t.Errorf("PUT of a new member under a depth-0 lock = %d", resp.StatusCode)
	}
	do(t, "UNLOCK", u+"/d/", "", "Lock-Token", "<"+d0+">")
	lockRes(t, u+"/d/", exclusiveBody, 400, "Depth", "1")

	// Lock-null: LOCK of an unmapped name makes an empty file, 201.
	n := lockRes(t, u+"/new.txt", exclusiveBody, 201)
	if fi, err := os.Stat(filepath.Join(dir, "new.txt")); err != nil || fi.Size() != 0 {
		t.Errorf("lock-null file: %v %v", fi, err)
	}
	if resp, _ := do(t, "PUT", u+"/new.txt", "content", "If", "(<"+n+">)"); resp.StatusCode != 204 {
		t.Errorf("PUT to the lock-null file = %d", resp.StatusCode)
	}
	lockRes(t, u+"/nodir/x.txt", exclusiveBody, 409)
	lockRes(t, u+"/d//y.txt", exclusiveBody, 400)
	lockRes(t, u+"/newdir/", exclusiveBody, 400)
	// Deleting a locked file (with its token) drops its lock.
	if resp, _ := do(t, "DELETE", u+"/new.txt", "", "If", "(<"+n+">)"); resp.StatusCode != 204 {
		t.Errorf("DELETE with token = %d", resp.StatusCode)
	}
	if locks, _ := s.h.activeLocks(t.Context()); len(locks) != 0 {
		t.Errorf("locks left: %+v", locks)
	}
	for _, body := range []string{"<lockinfo", `<lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope></lockinfo>`,
		`<lockinfo xmlns="DAV:"><lockscope><exclusive/><shared/></lockscope><locktype><write/></locktype></lockinfo>`} {
		lockRes(t, u+"/f.txt", body, 400)
	}
}

// TestLocksShared: the locks live in the backend, so a second server over
// the same storage (another ferry node) honours them.
func TestLocksShared(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"f.txt": "x"})
	tree1, state1 := localTrees(t, dir)
	tree2, state2 := localTrees(t, dir)
	s1 := newTestServer(t, tree1, state1, Options{})
	s2 := newTestServer(t, tree2, state2, Options{})
	tok := lockRes(t, s1.URL+"/f.txt", exclusiveBody, 200)
	if resp, _ := do(t, "PUT", s2.URL+"/f.txt", "other node"); resp.StatusCode != 423 {
		t.Errorf("PUT on the other node = %d", resp.StatusCode)
	}
	lockRes(t, s2.URL+"/f.txt", exclusiveBody, 423)
	if resp, _ := do(t, "UNLOCK", s2.URL+"/f.txt", "", "Lock-Token", "<"+tok+">"); resp.StatusCode != 204 {
		t.Errorf("UNLOCK on the other node = %d", resp.StatusCode)
	}
	if resp, _ := do(t, "PUT", s1.URL+"/f.txt", "free"); resp.StatusCode != 204 {
		t.Errorf("PUT after UNLOCK = %d", resp.StatusCode)
	}
}

func TestTokenID(t *testing.T) {
	for i := 0; i < 100; i++ {
		if tok := newToken(); tokenID(tok) == "" {
			t.Fatalf("own token %q refused", tok)
		}
	}
	for _, bad := range []string{"", "urn:uuid:../../etc/passwd-000000000000000000", "opaquelocktoken:x", "urn:uuid:" + strings.Repeat("g", 36), "urn:uuid:00000000/0000-4000-8000-000000000000"} {
		if tokenID(bad) != "" {
			t.Errorf("tokenID(%q) accepted", bad)
		}
	}
}

// TestLockClaims: LOCKs racing for one resource on two servers over the
// same storage (two ferry nodes) grant exactly one exclusive lock; a claim
// left behind by a node that stopped, or by a lock that expired, blocks
// only for a while.
func TestLockClaims(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"f.txt": "x"})
	clock := &fakeClock{t: time.Now()}
	var servers []*testServer
	for range 2 {
		tree, state := localTrees(t, dir)
		servers = append(servers, newTestServer(t, tree, state, Options{Now: clock.now}))
	}
	for round := range 5 {
		name := fmt.Sprintf("/race%d.txt", round)
		var won, lost atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 6 {
			wg.Go(func() {
				<-start
				resp, b := do(t, "LOCK", servers[i%2].URL+name, exclusiveBody)
				switch resp.StatusCode {
				case 200, 201:
					won.Add(1)
				case 423:
					lost.Add(1)
				default:
					t.Errorf("LOCK %s = %d %s", name, resp.StatusCode, b)
				}
			})
		}
		close(start)
		wg.Wait()
		if won.Load() != 1 || lost.Load() != 5 {
			t.Errorf("%s: %d LOCKs won, %d refused; want 1 and 5", name, won.Load(), lost.Load())
		}
	}
	// Shared locks go together.
	lockRes(t, servers[0].URL+"/f.txt", sharedBody, 200)
	lockRes(t, servers[1].URL+"/f.txt", sharedBody, 200)
	lockRes(t, servers[1].URL+"/f.txt", exclusiveBody, 423)

	// A claim whose lock was never recorded: a LOCK under way on a node
	// that then stopped. It blocks for claimGrace, then is broken.
	state := servers[0].state
	c, _ := json.Marshal(claim{Token: newToken(), Created: clock.now()})
	if err := storage.WriteSmall(context.Background(), state, claimName("g.txt"), c, false); err != nil {
		t.Fatal(err)
	}
	lockRes(t, servers[1].URL+"/g.txt", exclusiveBody, 423)
	clock.t = clock.t.Add(claimGrace + time.Second)
	tok := lockRes(t, servers[1].URL+"/g.txt", exclusiveBody, 201, "Timeout", "Second-5")
	// An expired lock's claim blocks nobody.
	clock.t = clock.t.Add(6 * time.Second)
	lockRes(t, servers[0].URL+"/g.txt", exclusiveBody, 200)
	if resp, _ := do(t, "UNLOCK", servers[0].URL+"/g.txt", "", "Lock-Token", "<"+tok+">"); resp.StatusCode != 409 {
		t.Errorf("UNLOCK of the expired lock = %d", resp.StatusCode)
	}
}
