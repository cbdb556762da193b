package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
)

// A store that stops taking an upload's body in does not hold the upload
// (and its client) for ever: after the store's idle time (15 s) the PUT
// answers 503 and the log says so (refused, not complete, not cut short by
// the client). Both ways an upload reaches the store stall: one PUT of a
// small file at the end (6 MiB, beyond what the sockets between ferry and
// the store buffer) and a part of a multipart upload (12 MiB).
func TestS3StalledUpload(t *testing.T) {
	store := weedtest.NewStalling(t, 1)
	store.SetEnv(t)
	p := Start(t, t.TempDir(), "-p", "0", "-b", "127.0.0.1", "-w", "--log", "json", "--s3-timeout", stallTimeout, "--s3-endpoint", store.Endpoint, "s3://b")
	sizes := map[string]int{"/small": 6 << 20, "/multipart": 12 << 20}
	type result struct {
		path   string
		status int
		err    error
	}
	results := make(chan result, len(sizes))
	client := &http.Client{Timeout: 90 * time.Second}
	for path, size := range sizes {
		go func() {
			req, _ := http.NewRequest("PUT", p.URL+path, bytes.NewReader(make([]byte, size)))
			resp, err := client.Do(req)
			if err != nil {
				results <- result{path, 0, err}
				return
			}
			resp.Body.Close()
			results <- result{path, resp.StatusCode, nil}
		}()
	}
	for range sizes {
		r := <-results
		if r.err != nil || r.status != http.StatusServiceUnavailable {
			t.Errorf("PUT %s to a store that stopped reading: %d %v, want 503\n%s", r.path, r.status, r.err, p.Stdout())
		}
	}
	lines := upLogLines(t, p, len(sizes))
	for _, l := range lines {
		if l["method"] != "PUT" {
			continue
		}
		if fmt.Sprint(l["status"]) != "503" || l["outcome"] != "refused" {
			t.Errorf("log line of a stalled upload: status %v, outcome %v, want 503 refused: %v", l["status"], l["outcome"], l)
		}
	}
}
