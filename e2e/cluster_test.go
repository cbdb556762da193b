package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
)

// Two ferry nodes serving one bucket of a real SeaweedFS cluster (three
// masters, three volume servers keeping every volume twice, two filers, an
// S3 gateway) ride out what a cluster goes through: a tus upload begun on
// one node and cut is finished on the other; losing a volume server loses
// no download; a store that is down entirely gets clear 503s from both
// nodes, never a 500 with the store's insides nor a hang, and so does one
// that hangs; they serve again by themselves when it returns.
func TestS3ClusterFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a SeaweedFS cluster of nine processes")
	}
	start := time.Now()
	c := weedtest.StartCluster(t)
	c.SetEnv(t)
	nodeA := Start(t, t.TempDir(), "-p", "0", "-b", "127.0.0.1", "-w", "--s3-timeout", stallTimeout, "s3://"+c.Bucket)
	nodeB := Start(t, t.TempDir(), "-p", "0", "-b", "127.0.0.1", "-w", "--s3-timeout", stallTimeout, "s3://"+c.Bucket)
	a, b := nodeA.URL, nodeB.URL

	// A file of three 8 MiB parts, which the cluster spreads over volumes.
	big := make([]byte, 20<<20+12345)
	rand.Read(big)
	mustStatus(t, "PUT big.bin via A", 201, put(t, a+"/docs/big.bin", big))
	mustStatus(t, "PUT note.txt via A", 201, put(t, a+"/docs/note.txt", []byte("hello\n")))

	// A tus upload begun on A, cut after its first part and some bytes more.
	resumed := make([]byte, 13<<20)
	rand.Read(resumed)
	tusA, tusB := newTus(t, a), newTus(t, b)
	loc, status := tusA.create("/docs/", "resumed.bin", int64(len(resumed)))
	if status != http.StatusCreated {
		t.Fatalf("tus create on A: %d", status)
	}
	sendCut(t, loc, 0, resumed, 7<<20)
	// The upload's URL names node A; node B is asked for the same path.
	locB := b + strings.TrimPrefix(loc, a)
	off := stableOffset(t, tusB, locB)
	if off <= 0 || off > 7<<20 {
		t.Fatalf("offset on B after the cut on A = %d, want in (0, %d]", off, 7<<20)
	}

	// Lose the volume server holding the most data: every byte of it has a
	// copy on another.
	lost := 0
	for i := range c.Volumes() {
		if c.VolumeBytes(i) > c.VolumeBytes(lost) {
			lost = i
		}
	}
	held := c.VolumeBytes(lost)
	c.StopVolume(t, lost)
	t.Logf("cluster and nodes up in %s; volume server %d (holding %d bytes) killed", time.Since(start).Round(time.Second), lost+1, held)
	// The busiest server holds a good share of the three files' chunks
	// (which chunks lands where is the cluster's choice: it held a few KiB
	// less than big.bin once, and more than it in most runs); less than one
	// part's worth would prove little.
	if held < 8<<20 {
		t.Fatalf("the killed volume server held %d bytes, less than one part of big.bin: the loss proves little", held)
	}
	for _, node := range []string{a, b} {
		resp, body := Do(t, "GET", node+"/docs/big.bin", nil)
		if resp.StatusCode != 200 || !bytes.Equal(body, big) {
			t.Fatalf("GET big.bin from %s with a volume server down: %s, %d bytes", node, resp.Status, len(body))
		}
		resp, body = Do(t, "GET", node+"/docs/big.bin", nil, "Range", "bytes=10000000-10099999")
		if resp.StatusCode != 206 || !bytes.Equal(body, big[10000000:10100000]) {
			t.Fatalf("Range of big.bin from %s with a volume server down: %s, %d bytes", node, resp.Status, len(body))
		}
		if !listed(t, node+"/docs/", "note.txt") || !listed(t, node+"/docs/", "big.bin") {
			t.Fatalf("listing of /docs/ on %s misses a file", node)
		}
	}
	c.StartVolume(t, lost)

	// B finishes what A began, from the offset the store kept.
	off = tusB.offset(locB)
	if resp := tusB.patch(locB, off, resumed[off:]); resp.StatusCode != http.StatusNoContent || resp.Header.Get("Upload-Offset") != strconv.Itoa(len(resumed)) {
		t.Fatalf("resuming PATCH on B: %s, offset %q", resp.Status, resp.Header.Get("Upload-Offset"))
	}
	if _, body := Do(t, "GET", a+"/docs/resumed.bin", nil); sha256.Sum256(body) != sha256.Sum256(resumed) {
		t.Fatalf("resumed.bin read from A differs: %d bytes", len(body))
	}

	// The store hangs: its gateway takes connections and never answers. The
	// client gets its 503 after one timeout of the store's client, not after
	// every retry has waited out its own.
	c.FreezeGateway(t)
	hang := time.Now()
	resp, text := doBounded(t, "GET", a+"/docs/note.txt", nil)
	c.ThawGateway(t)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(text), "storage") {
		t.Fatalf("GET with the store hung: %s %q", resp.Status, text)
	}
	t.Logf("with the store hung: 503 after %s", time.Since(hang).Round(time.Millisecond))

	// The whole store goes away. Every kind of request, on both nodes, gets a
	// 503 that says so in words, within the client's bound.
	c.StopStore(t)
	down := time.Now()
	for _, node := range []string{a, b} {
		for _, req := range []struct{ method, path string }{
			{"GET", "/docs/big.bin"},
			{"GET", "/docs/big.bin?range"}, // a Range request, below
			{"HEAD", "/docs/note.txt"},
			{"GET", "/docs/"},
			{"GET", "/docs/?zip"},
			{"PUT", "/docs/new.txt"},
			{"DELETE", "/docs/note.txt"},
		} {
			var body io.Reader
			var hdr []string
			path := req.path
			if req.method == "PUT" {
				body = strings.NewReader("written while the store is down\n")
			}
			if p, ok := strings.CutSuffix(path, "?range"); ok {
				path, hdr = p, []string{"Range", "bytes=5-10"}
			}
			resp, got := doBounded(t, req.method, node+path, body, hdr...)
			text := string(got)
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("%s %s on %s with the store down: %s %q", req.method, req.path, node, resp.Status, text)
				continue
			}
			if req.method != "HEAD" && (!strings.Contains(text, "storage") || !strings.Contains(text, "try again")) {
				t.Errorf("%s %s with the store down: the reason %q does not say the storage is down", req.method, req.path, text)
			}
			for _, inside := range []string{"s3", "dial", "127.0.0.1", "refused", "operation error"} {
				if strings.Contains(strings.ToLower(text), inside) {
					t.Errorf("%s %s with the store down: %q tells the client %q", req.method, req.path, text, inside)
				}
			}
		}
	}
	if resp, _ := doBounded(t, "POST", a+"/.ferry/tus/", nil, "Tus-Resumable", "1.0.0", "Upload-Length", "5",
		"Upload-Metadata", tusMeta("filename", "t.bin", "folder", "/docs/")); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("tus create with the store down: %s", resp.Status)
	}
	t.Logf("every request answered 503 within %s of the store going down", time.Since(down).Round(time.Millisecond))

	// The store returns; the nodes serve again without being restarted.
	c.StartStore(t)
	deadline := time.Now().Add(60 * time.Second)
	for _, node := range []string{a, b} {
		for {
			resp, body := doBounded(t, "GET", node+"/docs/big.bin", nil)
			if resp.StatusCode == 200 {
				if !bytes.Equal(body, big) {
					t.Fatalf("big.bin from %s after the store returned: %d bytes differ", node, len(body))
				}
				break
			}
			if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
				t.Fatalf("GET big.bin from %s after the store returned: %s %q", node, resp.Status, body)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	mustStatus(t, "PUT after.txt via B once the store is back", 201, put(t, b+"/docs/after.txt", []byte("back\n")))
	if _, body := Do(t, "GET", a+"/docs/after.txt", nil); string(body) != "back\n" {
		t.Fatalf("after.txt via A: %q", body)
	}
	t.Logf("whole test: %s", time.Since(start).Round(time.Second))
}

// put stores data at u and returns the status.
func put(t *testing.T, u string, data []byte) int {
	t.Helper()
	resp, _ := Do(t, "PUT", u, bytes.NewReader(data))
	return resp.StatusCode
}

func mustStatus(t *testing.T, what string, want, got int) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status %d, want %d", what, got, want)
	}
}

// stableOffset is a tus upload's offset once the node a cut request went to
// has let go of it: bytes have arrived and two looks a moment apart agree.
func stableOffset(t *testing.T, c *tusClient, u string) int64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		off := c.offset(u)
		time.Sleep(300 * time.Millisecond)
		if off > 0 && c.offset(u) == off || time.Now().After(deadline) {
			return off
		}
	}
}

// stallTimeout is the --s3-timeout of the tests that make a store keep
// silent: short, so that they wait seconds, not the default's 15 s each
// time, yet far above a loaded SeaweedFS's slowest honest answer.
const stallTimeout = "5s"

// storeDownBound is how long a request may take while the store is down or
// hung: one timeout of ferry's store client (stallTimeout, or the default
// 15 s) and the backoff of its retries (seconds); the three attempts of a
// client that retried timeouts would take 45 s, and a hang forever.
const storeDownBound = 35 * time.Second

// doBounded is Do with a bound that a hang would overrun, reported as such.
func doBounded(t *testing.T, method, u string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{Timeout: storeDownBound, CheckRedirect: noRedirect.CheckRedirect}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: no answer within %s (%v)", method, u, storeDownBound, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, u, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Logf("%s %s took %s", method, u, d.Round(time.Millisecond))
	}
	return resp, b
}
