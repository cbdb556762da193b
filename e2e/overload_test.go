package e2e

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
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

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
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
	dir := Tmpfs(t, "4m")
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
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, secAddr(p))
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

// ovStartLimited runs ferry allowed at most nofile descriptors (soft and
// hard limit, set by the shell that then becomes ferry), and waits for its
// banner.
func ovStartLimited(t *testing.T, dir string, nofile int, args ...string) *Proc {
	t.Helper()
	script := fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, nofile)
	p := startCmd(t, exec.Command("/bin/sh", append([]string{"-c", script, ferryBin}, args...)...), dir, args)
	p.WaitBanner()
	return p
}

// A hundred parallel downloads from one address, all in flight at once
// (each waits for the others' headers before reading its body), are all
// served whole: the old cap of 64 connections per address reset 36 of them
// (issue 11, item 5).
func TestOverloadParallelDownloads(t *testing.T) {
	dir := t.TempDir()
	data := wrRandom(t, 2<<20)
	os.WriteFile(filepath.Join(dir, "big.bin"), data, 0o644)
	p := Start(t, dir, "-p", "0", "-q")
	tr := &http.Transport{MaxIdleConnsPerHost: 100}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	const n = 100
	var headers sync.WaitGroup
	headers.Add(n)
	allHeaders := make(chan struct{})
	go func() { headers.Wait(); close(allHeaders) }()
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := client.Get(p.URL + "/big.bin")
			headers.Done()
			if err != nil {
				errs <- fmt.Errorf("download %d: %v", i, err)
				return
			}
			defer resp.Body.Close()
			select {
			case <-allHeaders:
			case <-time.After(20 * time.Second):
				// Some were not answered while others wait: read on, so
				// that the test ends and reports what it got.
			}
			b, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 || !bytes.Equal(b, data) {
				errs <- fmt.Errorf("download %d: %d, %d bytes, %v", i, resp.StatusCode, len(b), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if failed++; failed <= 5 {
			t.Error(err)
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d parallel downloads failed", failed, n)
	}
}

// ovIdle opens n keep-alive connections from ip, each after one complete
// request, and leaves them open and idle. It returns how many got an answer.
func ovIdle(t *testing.T, addr, ip string, n int) (conns []net.Conn, answered int) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("idle connection %d: %v", len(conns), err)
		}
		conns = append(conns, c)
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET /a.txt HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				answered++
			}
		}
		c.SetDeadline(time.Time{})
	}
	return conns, answered
}

// 200 idle keep-alive connections from one address do not keep that address
// from a normal request, and at the server's connection capacity (here a
// descriptor limit of 256) the idle ones make room for newcomers: the
// longest idle is closed first, and the newcomer is answered.
func TestOverloadIdleConnections(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "hello"})
	t.Run("plenty of descriptors", func(t *testing.T) {
		p := Start(t, dir, "-p", "0", "-q")
		conns, answered := ovIdle(t, secAddr(p), "127.0.0.1", 200)
		if answered != len(conns) {
			t.Errorf("%d of %d idle connections were answered", answered, len(conns))
		}
		start := time.Now()
		code, _, b := ovGet(t, ovFrom("127.0.0.1"), "GET", p.URL+"/a.txt")
		if code != 200 || string(b) != "hello" {
			t.Fatalf("normal request with 200 idle connections open: %d %q", code, b)
		}
		t.Logf("a normal request with 200 idle connections open took %s", time.Since(start).Round(time.Microsecond))
	})
	t.Run("at capacity", func(t *testing.T) {
		p := ovStartLimited(t, dir, 256, "-p", "0", "-q")
		conns, answered := ovIdle(t, secAddr(p), "127.0.0.1", 200)
		if answered != len(conns) {
			t.Errorf("%d of %d idle connections were answered", answered, len(conns))
		}
		for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
			start := time.Now()
			code, _, b := ovGet(t, ovFrom(ip), "GET", p.URL+"/a.txt")
			if code != 200 || string(b) != "hello" {
				t.Fatalf("normal request from %s at capacity: %d %q", ip, code, b)
			}
			t.Logf("at capacity, a normal request from %s took %s", ip, time.Since(start).Round(time.Microsecond))
		}
		// The first idle connections were closed to make room; the last
		// ones are still open.
		if !ovClosed(conns[0]) {
			t.Error("the longest idle connection is still open")
		}
		if ovClosed(conns[len(conns)-1]) {
			t.Error("the most recent idle connection was closed")
		}
		if !strings.Contains(p.Stderr(), "at capacity") {
			t.Errorf("no warning about shedding; stderr:\n%s", p.Stderr())
		}
	})
}

// ovClosed reports whether the server has closed c.
func ovClosed(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// ovH2Stall opens streams requests for path on each of conns HTTP/2
// connections from ip, having told ferry that it may send no body bytes at
// all (SETTINGS_INITIAL_WINDOW_SIZE 0): every response stalls at its first
// DATA frame. The frames ferry sends are read and dropped. It returns the
// connections once every request is sent.
func ovH2Stall(t *testing.T, addr, ip, path string, conns, streams int) (open []net.Conn) {
	t.Helper()
	for range conns {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
		if err != nil {
			t.Fatalf("attack connection: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		open = append(open, c)
		if c.ConnectionState().NegotiatedProtocol != "h2" {
			t.Fatalf("attack connection speaks %q", c.ConnectionState().NegotiatedProtocol)
		}
		var mu sync.Mutex // the framer's writes
		fr := http2.NewFramer(c, c)
		io.WriteString(c, http2.ClientPreface)
		fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
		go func() {
			for {
				f, err := fr.ReadFrame()
				if err != nil {
					return
				}
				if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
					mu.Lock()
					fr.WriteSettingsAck()
					mu.Unlock()
				}
			}
		}()
		var hb bytes.Buffer
		enc := hpack.NewEncoder(&hb)
		for i := range streams {
			hb.Reset()
			for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", addr}, {":path", path}} {
				enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
			}
			mu.Lock()
			err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
			mu.Unlock()
			if err != nil {
				t.Fatalf("stream %d: %v", i, err)
			}
		}
	}
	return open
}

// Twenty HTTP/2 connections from one address, each opening 250 streams
// with a zero window, neither exhaust ferry's descriptors (here 4096) nor
// its memory, and a new client is answered meanwhile. Before, every stream
// held a descriptor and buffers: 60 such connections took every descriptor
// and 1.4 GB, and a normal client timed out (issue 11, item 5).
func TestOverloadHTTP2StalledStreams(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "hello"})
	os.WriteFile(filepath.Join(dir, "big.bin"), wrRandom(t, 4<<20), 0o644)
	p := ovStartLimited(t, dir, 4096, "-p", "0", "-q", "--tls")
	pid := p.cmd.Process.Pid
	addr := secAddr(p)
	before := procStatus(t, pid, "VmRSS")

	attack := ovH2Stall(t, addr, "127.0.0.1", "/big.bin", 20, 250)
	time.Sleep(2 * time.Second) // let every stream reach its handler

	normal := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext:       (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		ForceAttemptHTTP2: true,
	}}
	var worst time.Duration
	for i := range 5 {
		start := time.Now()
		resp, err := normal.Get(p.URL + "/a.txt")
		if err != nil {
			t.Fatalf("normal client during the attack: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		worst = max(worst, d)
		if resp.StatusCode != 200 || string(b) != "hello" {
			t.Fatalf("normal client during the attack: %d %q (%s)", resp.StatusCode, b, resp.Proto)
		}
		if i == 0 {
			t.Logf("normal client over %s during the attack: answered in %s", resp.Proto, d.Round(time.Microsecond))
		}
	}
	// Generous: the machine may be busy; the point is an answer, not a hang.
	if worst > 5*time.Second {
		t.Errorf("a normal request took %s during the attack", worst)
	}
	during := procStatus(t, pid, "VmRSS")
	t.Logf("ferry's RSS: %d MiB before, %d MiB during the attack (slowest normal request %s)", before>>10, during>>10, worst.Round(time.Microsecond))
	// The race detector's shadow memory is several times the program's
	// own and is not given back: the figures say nothing there.
	race := os.Getenv("FERRY_RACE") == "1"
	if during > 256<<10 && !race {
		t.Errorf("ferry's RSS grew to %d MiB under the attack", during>>10)
	}

	// Once the attack ends, the memory goes back to the system (within a
	// few seconds; the bound is generous).
	for _, c := range attack {
		c.Close()
	}
	after := procStatus(t, pid, "VmRSS")
	for deadline := time.Now().Add(20 * time.Second); !race && after > before+(during-before)/2 && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		after = procStatus(t, pid, "VmRSS")
	}
	t.Logf("ferry's RSS after the attack: %d MiB", after>>10)
	if after > before+(during-before)/2 && !race {
		t.Errorf("ferry's RSS stayed at %d MiB after the attack (%d MiB before, %d MiB during)", after>>10, before>>10, during>>10)
	}
	if code, _, b := ovGet(t, normal, "GET", p.URL+"/a.txt"); code != 200 || string(b) != "hello" {
		t.Errorf("normal client after the attack: %d %q", code, b)
	}
}
