package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tusFrom is a client whose one keep-alive connection leaves from the
// loopback address src (127.0.0.2 and so on are all this machine), so that
// one test can be many clients.
func tusFrom(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext:     func(ctx context.Context, n, a string) (net.Conn, error) { return d.DialContext(ctx, n, a) },
		MaxConnsPerHost: 1,
	}}
}

// tusCreate asks for an upload of length bytes and returns the status, the
// body and the Location.
func tusCreate(t *testing.T, c *http.Client, base, name string, length int64, meta string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/.ferry/tus/", nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.FormatInt(length, 10))
	req.Header.Set("Upload-Metadata", tusMeta("filename", name)+meta)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b), resp.Header.Get("Location")
}

// tusHidden counts the hidden files uploads keep in dir (and below).
func tusHidden(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), wrTempPrefix) {
			n++
		}
		return nil
	})
	return n
}

// Thousands of creations, from one keep-alive connection or from many
// addresses, cost the server a bounded amount: lengths beyond the disk are
// refused, unfinished uploads are capped per client (429) and overall
// (503) with a reason, and nothing is written to disk before data comes.
func TestTusCreationsBounded(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "--upload")
	pid := p.cmd.Process.Pid
	one := tusFrom("127.0.0.1")
	// As in the report: Upload-Length 2^63-1, metadata as large as allowed.
	pad := ",pad " + strings.Repeat("A", 7<<10)

	counts := map[int]int{}
	for i := range 3000 {
		status, body, _ := tusCreate(t, one, p.URL, fmt.Sprintf("huge-%d.bin", i), 1<<63-1, pad)
		counts[status]++
		if status != 507 && counts[status] == 1 {
			t.Errorf("huge creation: %d %s", status, body)
		} else if i == 0 && !strings.Contains(body, "larger than the free space") {
			t.Errorf("507 without its reason: %q", body)
		}
	}
	if counts[507] != 3000 {
		t.Errorf("huge creations: %v, want 3000 × 507", counts)
	}

	var locs []string
	clear(counts)
	for i := range 3000 {
		status, body, loc := tusCreate(t, one, p.URL, fmt.Sprintf("f-%d.bin", i), 10, pad)
		counts[status]++
		switch {
		case status == 201:
			locs = append(locs, loc)
		case status == 429 && counts[429] == 1 && !strings.Contains(body, "too many unfinished uploads from your address (64)"):
			t.Errorf("429 without its reason: %q", body)
		}
	}
	if counts[201] != 64 || counts[429] != 2936 {
		t.Errorf("creations from one client: %v, want 64 × 201 and the rest 429", counts)
	}
	if n := tusHidden(t, dir); n != 0 {
		t.Errorf("%d hidden files after creations alone", n)
	}

	// Many clients: 1024 unfinished uploads in all, then 503.
	clear(counts)
	var refusal string
	for a := 2; a < 20; a++ {
		c := tusFrom(fmt.Sprintf("127.0.0.%d", a))
		for i := range 64 {
			status, body, _ := tusCreate(t, c, p.URL, fmt.Sprintf("c%d-%d.bin", a, i), 10, "")
			counts[status]++
			if status == 503 && refusal == "" {
				refusal = body
			}
		}
	}
	if counts[201] != 1024-64 || counts[503] != 18*64-(1024-64) {
		t.Errorf("creations from 18 more clients: %v, want %d × 201 and the rest 503", counts, 1024-64)
	}
	if !strings.Contains(refusal, "too many unfinished uploads on this server (1024)") {
		t.Errorf("503 without its reason: %q", refusal)
	}
	if n := tusHidden(t, dir); n != 0 {
		t.Errorf("%d hidden files after creations alone", n)
	}
	rss := procStatus(t, pid, "VmHWM")
	t.Logf("ferry's peak RSS after 6,000 creations from one connection and 1,152 from 18 more: %d KiB", rss)
	if rss > 64<<10 {
		t.Errorf("peak RSS %d KiB", rss)
	}

	// A finished or cancelled upload gives its place back.
	c := newTus(t, p.URL)
	first := p.URL + "/.ferry/tus/" + locs[0]
	if r := c.patch(first, 0, []byte("0123456789")); r.StatusCode != 204 {
		t.Fatalf("PATCH: %s", r.Status)
	}
	if r, _ := c.do("DELETE", p.URL+"/.ferry/tus/"+locs[1], nil); r.StatusCode != 204 {
		t.Fatalf("DELETE: %s", r.Status)
	}
	for i := range 2 {
		if status, body, _ := tusCreate(t, one, p.URL, fmt.Sprintf("again-%d.bin", i), 10, ""); status != 201 {
			t.Errorf("creation after one upload finished and one was cancelled: %d %s", status, body)
		}
	}
	if status, _, _ := tusCreate(t, one, p.URL, "one-too-many.bin", 10, ""); status != 503 {
		t.Errorf("creation beyond the cap again: %d", status)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "f-0.bin")); string(b) != "0123456789" {
		t.Errorf("f-0.bin = %q", b)
	}
	// Only the one upload that got bytes has files; a restart reloads
	// nothing else.
	p.Signal(syscall.SIGINT)
	p.Wait(10 * time.Second)
	if n := tusHidden(t, dir); n != 0 {
		t.Errorf("%d hidden files left at exit", n)
	}
}

func tusFree(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// On a full disk: a creation longer than the free space is refused (507),
// and a PATCH that runs out of space answers 507 and discards the upload,
// giving back the space its bytes took.
func TestTusFullDisk(t *testing.T) {
	dir := Tmpfs(t, "4m")
	WriteFiles(t, dir, map[string]string{"keep.txt": "keep"})
	p := Start(t, dir, "-p", "0", "-w")
	c := newTus(t, p.URL)
	if u, status := c.create("/", "huge.bin", 8<<20); status != 507 || u != "" {
		t.Errorf("creation beyond the free space: %d", status)
	}
	u, status := c.create("/", "big.bin", 3<<20)
	if status != 201 {
		t.Fatalf("creation that fits: %d", status)
	}
	if r := c.patch(u, 0, make([]byte, 1<<20)); r.StatusCode != 204 {
		t.Fatalf("first MiB: %s", r.Status)
	}
	// Someone else fills the disk meanwhile.
	filler := bytes.Repeat([]byte("f"), 2<<20+512<<10)
	if err := os.WriteFile(filepath.Join(dir, "filler.bin"), filler, 0o644); err != nil {
		t.Fatal(err)
	}
	before := tusFree(t, dir)
	r, body := c.do("PATCH", u, bytes.NewReader(make([]byte, 2<<20)), "Content-Type", "application/offset+octet-stream", "Upload-Offset", strconv.Itoa(1<<20))
	if r.StatusCode != 507 || !strings.Contains(string(body), "the upload was discarded") {
		t.Errorf("PATCH beyond the disk: %s %s", r.Status, body)
	}
	if n := tusHidden(t, dir); n != 0 {
		t.Errorf("%d hidden files left after the full disk", n)
	}
	// The upload's first MiB and what the failed PATCH wrote are free again.
	if after := tusFree(t, dir); after < before+1<<20 {
		t.Errorf("free space %d KiB after the failed PATCH, %d KiB before: the partial upload keeps it", after>>10, before>>10)
	}
	if r, _ := c.do("HEAD", u, nil); r.StatusCode != 404 {
		t.Errorf("HEAD of the discarded upload: %s", r.Status)
	}
	os.Remove(filepath.Join(dir, "filler.bin"))
	u, status = c.create("/", "big.bin", 3<<20)
	if status != 201 {
		t.Fatalf("creation once space is back: %d", status)
	}
	if r := c.patch(u, 0, make([]byte, 3<<20)); r.StatusCode != 204 {
		t.Fatalf("upload once space is back: %s", r.Status)
	}
	if got := wrNoTemps(t, dir); strings.Join(got, " ") != "big.bin keep.txt" {
		t.Errorf("folder holds %v", got)
	}
}
