package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// COPY stores new data as an upload does, so --max-upload bounds it: with
// alternating COPY and MOVE a folder doubled each round (issue 11, item 8).
// A refused copy writes nothing, not even a temporary folder.
func TestOverloadCopyMaxUpload(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"f/a.bin":   string(bytes.Repeat([]byte("a"), 300<<10)),
		"big.bin":   string(bytes.Repeat([]byte("b"), 1100<<10)),
		"small.bin": "s",
	})
	p := Start(t, dir, "-p", "0", "-w", "--max-upload", "1M")
	dest := func(path string) string { return p.URL + path }

	// Round by round the folder doubles until a copy of it would pass 1 MiB.
	for round := 1; ; round++ {
		r, b := Do(t, "COPY", p.URL+"/f/", nil, "Destination", dest("/f2/"))
		if round <= 2 {
			if r.StatusCode != 201 {
				t.Fatalf("round %d: COPY %d %s", round, r.StatusCode, b)
			}
			if r, b := Do(t, "MOVE", p.URL+"/f2/", nil, "Destination", dest("/f/copy"+string(rune('0'+round))+"/")); r.StatusCode != 201 {
				t.Fatalf("round %d: MOVE %d %s", round, r.StatusCode, b)
			}
			continue
		}
		// 1200 KiB now: refused, and nothing appears.
		if r.StatusCode != 413 || !bytes.Contains(b, []byte("1048576")) {
			t.Fatalf("round %d: COPY of 1200 KiB under --max-upload 1M: %d %s", round, r.StatusCode, b)
		}
		break
	}
	for _, c := range []struct {
		src, dst string
		want     int
	}{
		{"/big.bin", "/big2.bin", 413},
		{"/f/", "/f3/", 413},
		{"/small.bin", "/small2.bin", 201},
		{"/f/copy1/", "/f1/", 201},
	} {
		if r, b := Do(t, "COPY", p.URL+c.src, nil, "Destination", dest(c.dst)); r.StatusCode != c.want {
			t.Errorf("COPY %s: %d %s, want %d", c.src, r.StatusCode, bytes.TrimSpace(b), c.want)
		}
	}
	want := []string{
		"big.bin", "f/", "f/a.bin", "f/copy1/", "f/copy1/a.bin", "f/copy2/", "f/copy2/a.bin", "f/copy2/copy1/",
		"f/copy2/copy1/a.bin", "f1/", "f1/a.bin", "small.bin", "small2.bin",
	}
	if got := wrTree(t, dir); !slices.Equal(got, want) {
		t.Errorf("folder holds\n%v\nwant\n%v", got, want)
	}
}

// A COPY larger than the free space answers 507 before anything is written:
// the destination folder is not touched (its modification time stays).
func TestOverloadCopyFreeSpace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs CAP_SYS_ADMIN): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	WriteFiles(t, dir, map[string]string{
		"f/a.bin": string(wrRandom(t, 1200<<10)),
		"f/b.bin": string(wrRandom(t, 1200<<10)),
		"dst/x":   "x",
	})
	p := Start(t, dir, "-p", "0", "-w")
	dst := filepath.Join(dir, "dst")
	before, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	// Modification times on tmpfs have nanoseconds, but a write in the
	// same clock tick would hide; step past it.
	time.Sleep(20 * time.Millisecond)
	for _, src := range []string{"/f/", "/f/a.bin"} {
		r, b := Do(t, "COPY", p.URL+src, nil, "Destination", p.URL+"/dst/copy")
		// The folder (2400 KiB) does not fit in the 1.6 MiB left; the file
		// (1200 KiB) does.
		want := 507
		if src == "/f/a.bin" {
			want = 201
		}
		if r.StatusCode != want {
			t.Errorf("COPY %s: %d %s, want %d", src, r.StatusCode, bytes.TrimSpace(b), want)
		}
		if want == 507 {
			after, _ := os.Stat(dst)
			if !after.ModTime().Equal(before.ModTime()) {
				t.Errorf("COPY %s was refused, but its destination folder was written to", src)
			}
		}
	}
	if got := wrNoTemps(t, dir); !slices.Equal(got, []string{"dst/", "dst/copy", "dst/x", "f/", "f/a.bin", "f/b.bin"}) {
		t.Errorf("folder holds %v", got)
	}
}

// ovFrom is an HTTP client whose connections come from the loopback
// address ip, a client of its own as far as ferry can tell.
func ovFrom(ip string) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext,
	}}
}

// ovGet fetches url with c and returns the status, headers and body.
func ovGet(t *testing.T, c *http.Client, method, url string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return 0, nil, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("%s %s: body: %v", method, url, err)
	}
	return resp.StatusCode, resp.Header, b
}

// ovReadBytes is how many bytes the process pid has read from files and
// sockets so far (rchar of /proc/PID/io, which counts page-cache hits too).
func ovReadBytes(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		t.Skipf("no /proc/PID/io here: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	t.Fatal("no rchar")
	return 0
}

// HEAD ?hash computes nothing, and a digest is computed once per version of
// a file: a second GET reads nothing of it; a changed file is hashed anew
// (issue 11, item 6).
func TestOverloadHashCache(t *testing.T) {
	dir := t.TempDir()
	data := wrRandom(t, 32<<20)
	os.WriteFile(filepath.Join(dir, "big.bin"), data, 0o644)
	p := Start(t, dir, "-p", "0", "-q")
	pid := p.cmd.Process.Pid
	url := p.URL + "/big.bin?hash=sha256"
	line := wrSHA(data) + "  big.bin\n"

	read := ovReadBytes(t, pid)
	resp, b := Do(t, "HEAD", url, nil)
	if resp.StatusCode != 200 || len(b) != 0 || resp.ContentLength != int64(len(line)) {
		t.Errorf("HEAD ?hash: %d, %d bytes, Content-Length %d", resp.StatusCode, len(b), resp.ContentLength)
	}
	if n := ovReadBytes(t, pid) - read; n > 1<<20 {
		t.Errorf("HEAD ?hash read %d bytes", n)
	}

	read = ovReadBytes(t, pid)
	if resp, b := Do(t, "GET", url, nil); resp.StatusCode != 200 || string(b) != line {
		t.Fatalf("GET ?hash: %d %q", resp.StatusCode, b)
	}
	if n := ovReadBytes(t, pid) - read; n < int64(len(data)) {
		t.Errorf("the first GET ?hash read only %d bytes", n)
	}
	read = ovReadBytes(t, pid)
	if resp, b := Do(t, "GET", url, nil); resp.StatusCode != 200 || string(b) != line {
		t.Fatalf("second GET ?hash: %d %q", resp.StatusCode, b)
	}
	if n := ovReadBytes(t, pid) - read; n > 1<<20 {
		t.Errorf("the second GET ?hash read %d bytes: not served from the cache", n)
	}
	t.Logf("a second GET ?hash of 32 MiB read %d bytes", ovReadBytes(t, pid)-read)

	// Appending changes the version: hashed again, the new digest.
	f, _ := os.OpenFile(filepath.Join(dir, "big.bin"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte("more"))
	f.Close()
	if resp, b := Do(t, "GET", url, nil); resp.StatusCode != 200 || string(b) != wrSHA(append(data, "more"...))+"  big.bin\n" {
		t.Fatalf("GET ?hash after a change: %d %q", resp.StatusCode, b)
	}
}

// ovStall sends GET path from ip on a raw connection, reads the status line
// and then reads no more, so the response stalls in the socket buffers and
// its job keeps its slot until the connection is closed.
func ovStall(t *testing.T, p *Proc, ip, path string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", secAddr(p))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	status := make([]byte, len("HTTP/1.1 200"))
	if _, err := io.ReadFull(c, status); err != nil || string(status) != "HTTP/1.1 200" {
		t.Fatalf("stalled GET %s from %s: %q %v", path, ip, status, err)
	}
	return c
}

// Archives and checksums run a few at once per client and overall; one
// more waits briefly and then gets 503 with Retry-After, while other
// clients' jobs and every HEAD go on (issue 11, item 6).
func TestOverloadJobLimits(t *testing.T) {
	dir := t.TempDir()
	// Random, so that neither side compresses it: the stalled archives
	// fill the socket buffers and stay put.
	WriteFiles(t, dir, map[string]string{"tree/a.bin": string(wrRandom(t, 24<<20)), "b.bin": "b"})
	sums := map[string]string{}
	for i := range 8 {
		data := wrRandom(t, 4<<20+i)
		name := fmt.Sprintf("f%d.bin", i)
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
		sums[name] = wrSHA(data)
	}
	// With two CPUs ferry runs at most four jobs overall, two per client.
	t.Setenv("GOMAXPROCS", "2")
	p := Start(t, dir, "-p", "0", "-q")

	// Eight checksums at once from one client: each is right or refused
	// with Retry-After, never wrong.
	var wg sync.WaitGroup
	for name, sum := range sums {
		wg.Go(func() {
			code, h, b := ovGet(t, ovFrom("127.0.0.4"), "GET", p.URL+"/"+name+"?hash=sha256")
			switch {
			case code == 200 && string(b) == sum+"  "+name+"\n":
			case code == 503 && h.Get("Retry-After") != "":
			default:
				t.Errorf("GET /%s?hash: %d %.200q", name, code, b)
			}
		})
	}
	wg.Wait()

	a1 := ovStall(t, p, "127.0.0.1", "/tree/?tar")
	ovStall(t, p, "127.0.0.1", "/tree/?tar")
	// A third archive for the same client waits, then is refused...
	begun := time.Now()
	code, h, b := ovGet(t, ovFrom("127.0.0.1"), "GET", p.URL+"/tree/?tar")
	if code != 503 || h.Get("Retry-After") == "" || h.Get("Content-Disposition") != "" || !bytes.Contains(b, []byte("busy")) {
		t.Errorf("third archive of one client: %d, Retry-After %q, Content-Disposition %q, %.80q", code, h.Get("Retry-After"), h.Get("Content-Disposition"), b)
	}
	t.Logf("the third archive of one client was refused after %s", time.Since(begun).Round(time.Millisecond))
	// ...while another client's goes through.
	if code, _, b := ovGet(t, ovFrom("127.0.0.2"), "GET", p.URL+"/tree/?tar"); code != 200 || len(b) < 24<<20 {
		t.Errorf("another client's archive: %d, %d bytes", code, len(b))
	}
	// Four jobs in all: a third client waits, then is refused, for an
	// archive as for a checksum; HEAD computes nothing and is answered.
	ovStall(t, p, "127.0.0.2", "/tree/?tar")
	ovStall(t, p, "127.0.0.2", "/tree/?tar")
	c3 := ovFrom("127.0.0.3")
	for _, u := range []string{"/b.bin?hash=sha256", "/tree/?zip"} {
		wg.Go(func() {
			if code, h, _ := ovGet(t, c3, "GET", p.URL+u); code != 503 || h.Get("Retry-After") == "" {
				t.Errorf("GET %s over the overall limit: %d, Retry-After %q", u, code, h.Get("Retry-After"))
			}
		})
	}
	for _, u := range []string{"/b.bin?hash=sha256", "/tree/?zip"} {
		if code, _, _ := ovGet(t, c3, "HEAD", p.URL+u); code != 200 {
			t.Errorf("HEAD %s over the overall limit: %d", u, code)
		}
	}
	if code, _, b := ovGet(t, c3, "GET", p.URL+"/b.bin"); code != 200 || string(b) != "b" {
		t.Errorf("a plain GET over the job limit: %d %q", code, b)
	}
	wg.Wait()
	// A slot given back serves the next job.
	a1.Close()
	if code, _, b := ovGet(t, c3, "GET", p.URL+"/b.bin?hash=sha256"); code != 200 || !bytes.HasSuffix(b, []byte("  b.bin\n")) {
		t.Errorf("checksum once a slot is free: %d %.200q", code, b)
	}
}
