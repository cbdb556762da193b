package e2e

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

const mib = 1 << 20

// measure returns bytes per second of a download of path.
func measureGet(t *testing.T, url string) (int64, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return n, time.Since(start)
}

func checkRate(t *testing.T, what string, n int64, el time.Duration, want float64, tol float64) {
	t.Helper()
	got := float64(n) / el.Seconds()
	dev := (got - want) / want
	t.Logf("%s: %d bytes in %s = %.3f MiB/s against %.3f MiB/s: %+.1f%%", what, n, el.Round(time.Millisecond), got/mib, want/mib, dev*100)
	if math.Abs(dev) > tol {
		t.Errorf("%s: rate off by %+.1f%% (tolerance %.0f%%)", what, dev*100, tol*100)
	}
}

// TestLimitRate measures a 2M per-connection limit on a download and an
// upload of ~3 s each (10 s with FERRY_BIG=1).
func TestLimitRate(t *testing.T) {
	if testing.Short() {
		t.Skip("takes seconds by design")
	}
	secs := int64(3)
	if os.Getenv("FERRY_BIG") == "1" {
		secs = 10
	}
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"f.bin": strings.Repeat("r", int(2*mib*secs))})
	p := Start(t, dir, "-p", "0", "-q", "--upload", "--overwrite", "--limit-rate", "2M")

	n, el := measureGet(t, p.URL+"/f.bin")
	if n != 2*mib*secs {
		t.Fatalf("downloaded %d bytes", n)
	}
	checkRate(t, "download", n, el, 2*mib, 0.10)

	body := bytes.Repeat([]byte("u"), int(2*mib*secs))
	start := time.Now()
	resp, _ := Do(t, "PUT", p.URL+"/up.bin", bytes.NewReader(body))
	el = time.Since(start)
	if resp.StatusCode != 201 {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	// The sender's and receiver's socket buffers hold a few hundred KiB that
	// the server has not read yet when the client finishes writing; the
	// server's answer comes only after reading it all, so the time to the
	// answer is the server's paced time.
	checkRate(t, "upload", int64(len(body)), el, 2*mib, 0.10)
}

// TestLimitTotal shares a 2M total between parallel downloads: their sum
// keeps to it, and each gets its share.
func TestLimitTotal(t *testing.T) {
	if testing.Short() {
		t.Skip("takes seconds by design")
	}
	secs := int64(3)
	if os.Getenv("FERRY_BIG") == "1" {
		secs = 10
	}
	const conns = 3
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"f.bin": strings.Repeat("t", int(2*mib*secs/conns))})
	p := Start(t, dir, "-p", "0", "-q", "--limit-total", "2M")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total int64
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Separate transports, so each download has its own connection.
			c := &http.Client{Transport: &http.Transport{}}
			resp, err := c.Get(p.URL + "/f.bin")
			if err != nil {
				t.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	checkRate(t, "3 downloads under --limit-total", total, time.Since(start), 2*mib, 0.10)
}

// Without a limit nothing is paced: a large file goes at loopback speed.
func TestNoLimitIsFast(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"f.bin": strings.Repeat("n", 64*mib)})
	p := Start(t, dir, "-p", "0", "-q")
	n, el := measureGet(t, p.URL+"/f.bin")
	if rate := float64(n) / el.Seconds(); rate < 50*mib {
		t.Errorf("unlimited download at %.0f MiB/s", rate/mib)
	}
}
