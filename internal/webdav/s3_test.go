package webdav

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/policy"
	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
	"github.com/ferry-sh/ferry/internal/storage/storagetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	weedtest.StopShared()
	os.Exit(code)
}

// s3Trees serves a place in the shared SeaweedFS bucket as ferry serves an
// object store: the policy over the bucket for clients, the bare bucket for
// ferry's own state. Each call is another node on the same place.
func s3Trees(t *testing.T, place *storagetest.Place) (tree, state storage.Tree) {
	t.Helper()
	b := place.Backend(t)
	return policy.Wrap(b, policy.Rules{}), b
}

// TestS3 runs WebDAV on SeaweedFS: dead properties and locks in the bucket
// (seen by a second node), and times a client sets kept as properties.
func TestS3(t *testing.T) {
	place := storagetest.NewPlace(t, "s3", "dav")
	tree, state := s3Trees(t, place)
	s := newTestServer(t, tree, state, Options{})
	tree2, state2 := s3Trees(t, place)
	s2 := newTestServer(t, tree2, state2, Options{})

	if r, _ := do(t, "MKCOL", s.URL+"/d/", ""); r.StatusCode != 201 {
		t.Fatalf("MKCOL = %d", r.StatusCode)
	}
	if r, _ := do(t, "PUT", s.URL+"/d/f.txt", "hello", "X-OC-Mtime", "1500000000"); r.StatusCode != 201 || r.Header.Get("X-OC-Mtime") != "accepted" {
		t.Fatalf("PUT = %d %q", r.StatusCode, r.Header.Get("X-OC-Mtime"))
	}
	if r, b := do(t, "PROPPATCH", s.URL+"/d/f.txt", patchBody); r.StatusCode != 207 || strings.Contains(b, "HTTP/1.1 4") {
		t.Fatalf("PROPPATCH = %d %s", r.StatusCode, b)
	}
	// The other node sees the properties and the kept time.
	_, body := do(t, "PROPFIND", s2.URL+"/d/", "", "Depth", "1")
	f := multistatus(t, body)["/d/f.txt"]
	if f["{urn:z}author"].inner != "Zoë" || f["{DAV:}getlastmodified"].inner != time.Unix(1500000000, 0).UTC().Format(timeFormat) {
		t.Errorf("other node: %+v", f)
	}
	// Windows' time too, on a store that cannot set it itself.
	do(t, "PROPPATCH", s.URL+"/d/f.txt", `<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop><Z:Win32LastModifiedTime>Thu, 07 Mar 2019 10:00:00 GMT</Z:Win32LastModifiedTime></D:prop></D:set></D:propertyupdate>`)
	if p := propfindOne(t, s2.URL+"/d/f.txt"); p["{DAV:}getlastmodified"].inner != "Thu, 07 Mar 2019 10:00:00 GMT" {
		t.Errorf("Win32 time: %+v", p["{DAV:}getlastmodified"])
	}
	// New content without a time: the kept one goes.
	do(t, "PUT", s.URL+"/d/f.txt", "changed")
	if p := propfindOne(t, s2.URL+"/d/f.txt"); strings.Contains(p["{DAV:}getlastmodified"].inner, "2019") || p["{urn:z}author"].inner != "Zoë" {
		t.Errorf("after a new PUT: %+v", p)
	}

	// Locks live in the bucket: the other node honours them.
	tok := lockRes(t, s.URL+"/d/f.txt", exclusiveBody, 200)
	if r, _ := do(t, "PUT", s2.URL+"/d/f.txt", "x"); r.StatusCode != 423 {
		t.Errorf("PUT on the other node = %d", r.StatusCode)
	}
	if r, _ := do(t, "PUT", s2.URL+"/d/f.txt", "x", "If", "(<"+tok+">)"); r.StatusCode != 204 {
		t.Errorf("PUT with token on the other node = %d", r.StatusCode)
	}
	if r, _ := do(t, "UNLOCK", s2.URL+"/d/f.txt", "", "Lock-Token", "<"+tok+">"); r.StatusCode != 204 {
		t.Errorf("UNLOCK on the other node = %d", r.StatusCode)
	}
	// Properties travel with a folder's MOVE.
	if r, _ := do(t, "MOVE", s.URL+"/d/", "", "Destination", s.URL+"/e/"); r.StatusCode != 201 {
		t.Fatalf("MOVE = %d", r.StatusCode)
	}
	if p := propfindOne(t, s2.URL+"/e/f.txt"); p["{urn:z}author"].inner != "Zoë" {
		t.Errorf("after MOVE: %+v", p)
	}
	// The state never shows.
	if _, b := do(t, "PROPFIND", s.URL+"/", "", "Depth", "1"); strings.Contains(b, ".ferry") {
		t.Errorf("state listed: %s", b)
	}
}

const timeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// TestS3Litmus runs the WebDAV conformance suite against WebDAV on
// SeaweedFS (with this package's small write server standing in for
// ferry's write handler, which still works on a local folder only).
func TestS3Litmus(t *testing.T) {
	bin := needTool(t, "litmus")
	tree, state := s3Trees(t, storagetest.NewPlace(t, "s3", "dav"))
	s := newTestServer(t, tree, state, Options{})
	out := runLitmusCmd(t, bin, s.URL+"/")
	t.Logf("litmus on SeaweedFS:\n%s", litmusTable(out))
}

var litmusLineRE = regexp.MustCompile("<- summary for `([a-z]+)': of (\\d+) tests run: (\\d+) passed, (\\d+) failed")

func runLitmusCmd(t *testing.T, bin, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-k", url)
	cmd.Dir = t.TempDir()
	b, _ := cmd.CombinedOutput()
	out := string(b)
	groups := 0
	for _, m := range litmusLineRE.FindAllStringSubmatch(out, -1) {
		groups++
		if m[2] != m[3] || m[4] != "0" {
			t.Errorf("litmus %s: %s run, %s passed, %s failed", m[1], m[2], m[3], m[4])
		}
	}
	if groups != 5 || strings.Contains(out, "FAIL") || strings.Contains(out, "WARNING") || strings.Contains(out, "skipped") {
		t.Errorf("litmus is not clean:\n%s", out)
	}
	return out
}

func litmusTable(out string) string {
	var b strings.Builder
	for _, m := range litmusLineRE.FindAllStringSubmatch(out, -1) {
		fmt.Fprintf(&b, "%-9s run %3s passed %3s failed %s\n", m[1], m[2], m[3], m[4])
	}
	return b.String()
}
