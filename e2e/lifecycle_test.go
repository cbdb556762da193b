package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var summaryRE = regexp.MustCompile(`summary: (\d+) requests, (.+) sent, (.+) received, (\d+) downloads completed, (\d+) cut short`)

func summaryOf(t *testing.T, out string) (requests, completed, cut int) {
	t.Helper()
	m := summaryRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary line:\n%s", out)
	}
	requests, _ = strconv.Atoi(m[1])
	completed, _ = strconv.Atoi(m[4])
	cut, _ = strconv.Atoi(m[5])
	return
}

func TestSIGINTSummary(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "hello"})
	// Big enough that socket buffers cannot absorb what the client leaves unread.
	writeBig(t, dir, "big.bin", 24<<20)
	p := Start(t, dir, "-p", "0")
	Do(t, "GET", p.URL+"/a.txt", nil)
	Do(t, "GET", p.URL+"/a.txt", nil)
	Do(t, "PUT", p.URL+"/x", strings.NewReader("body"))
	cutDownload(t, hostPort(p), "/big.bin", 1<<20, "")
	p.WaitOutput("cut short", 5*time.Second)
	p.Signal(syscall.SIGINT)
	if code := p.Wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGINT", code)
	}
	req, completed, cut := summaryOf(t, p.Stdout())
	if req != 4 || completed != 2 || cut != 1 {
		t.Errorf("summary: %d requests, %d completed, %d cut; want 4, 2, 1\n%s", req, completed, cut, p.Stdout())
	}
	if strings.Contains(p.Stderr(), "goroutine") || strings.Contains(p.Stderr(), "panic") {
		t.Errorf("stderr: %s", p.Stderr())
	}
	p2 := Start(t, dir, "-p", "0")
	p2.Signal(syscall.SIGTERM)
	if code := p2.Wait(5 * time.Second); code != 0 || !strings.Contains(p2.Stdout(), "summary:") {
		t.Errorf("SIGTERM: exit %d\n%s", code, p2.Stdout())
	}
}

// slowDownload starts a GET of path and reads only the response head, leaving
// the body waiting in the socket.
func slowDownload(t *testing.T, addr, path string) (net.Conn, *bufio.Reader, int64) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.(*net.TCPConn).SetReadBuffer(64 << 10)
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path)
	br := bufio.NewReader(conn)
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, br, 256<<10); err != nil {
		t.Fatal(err)
	}
	return conn, br, resp.ContentLength - 256<<10
}

func TestSIGINTLetsDownloadsFinish(t *testing.T) {
	dir := t.TempDir()
	writeBig(t, dir, "big.bin", 24<<20)
	p := Start(t, dir, "-p", "0")
	conn, br, rest := slowDownload(t, hostPort(p), "/big.bin")
	p.Signal(syscall.SIGINT)
	time.Sleep(300 * time.Millisecond)
	// The listener is closed at once…
	if c, err := net.DialTimeout("tcp", hostPort(p), time.Second); err == nil {
		c.Close()
		t.Errorf("still accepting after SIGINT")
	}
	// …but the transfer in flight finishes.
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	n, err := io.CopyN(io.Discard, br, rest)
	if err != nil || n != rest {
		t.Fatalf("download after SIGINT: %d of %d bytes: %v", n, rest, err)
	}
	if code := p.Wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if _, completed, _ := summaryOf(t, p.Stdout()); completed != 1 {
		t.Errorf("completed = %d, want 1\n%s", completed, p.Stdout())
	}
}

func TestSecondSIGINTEndsAtOnce(t *testing.T) {
	dir := t.TempDir()
	writeBig(t, dir, "big.bin", 24<<20)
	p := Start(t, dir, "-p", "0")
	slowDownload(t, hostPort(p), "/big.bin") // never read further
	p.Signal(syscall.SIGINT)
	time.Sleep(300 * time.Millisecond)
	if code := p.Wait(0); code != -1 {
		t.Fatalf("exited (%d) with a download in flight after one SIGINT", code)
	}
	start := time.Now()
	p.Signal(syscall.SIGINT)
	if code := p.Wait(2 * time.Second); code != 0 {
		t.Fatalf("second SIGINT: exit %d after %s", code, time.Since(start))
	}
	if !strings.Contains(p.Stdout(), "summary:") {
		t.Errorf("no summary:\n%s", p.Stdout())
	}
}

func TestExitAfterCountsWholeDownloads(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "0123456789abcdef"})
	writeBig(t, dir, "big.bin", 24<<20)
	p := Start(t, dir, "-p", "0", "--exit-after", "2")
	alive := func(step string) {
		t.Helper()
		time.Sleep(150 * time.Millisecond)
		if code := p.Wait(0); code != -1 {
			t.Fatalf("exited (%d) after %s\n%s", code, step, p.Stdout())
		}
	}
	Do(t, "HEAD", p.URL+"/a.txt", nil)
	alive("HEAD")
	resp, _ := Do(t, "GET", p.URL+"/a.txt", nil)
	etag := resp.Header.Get("ETag")
	alive("first full GET") // one of two
	if r, _ := Do(t, "GET", p.URL+"/a.txt", nil, "If-None-Match", etag); r.StatusCode != 304 {
		t.Fatalf("want 304, got %d", r.StatusCode)
	}
	alive("304")
	if r, b := Do(t, "GET", p.URL+"/a.txt", nil, "Range", "bytes=5-9"); r.StatusCode != 206 || string(b) != "56789" {
		t.Fatalf("range: %d %q", r.StatusCode, b)
	}
	alive("ranged GET")
	if r, _ := Do(t, "GET", p.URL+"/a.txt", nil, "Range", "bytes=5-"); r.StatusCode != 206 {
		t.Fatalf("tail range: %d", r.StatusCode)
	}
	alive("tail range of a file this client never cut")
	Do(t, "GET", p.URL+"/", nil)
	alive("listing")
	cutDownload(t, hostPort(p), "/big.bin", 1<<20, "")
	p.WaitOutput("cut short", 5*time.Second)
	alive("cut download")
	Do(t, "GET", p.URL+"/a.txt", nil)
	if code := p.Wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d after the second full GET", code)
	}
	if !strings.Contains(p.Stdout(), "2 download(s) complete; exiting as asked (--exit-after)") {
		t.Errorf("no exit message:\n%s", p.Stdout())
	}
}

func TestExitAfterRangeFromZeroAndResume(t *testing.T) {
	dir := t.TempDir()
	data := writeBig(t, dir, "big.bin", 24<<20)
	t.Run("bytes=0-", func(t *testing.T) {
		p := Start(t, dir, "-p", "0", "--exit-after", "1")
		if r, b := Do(t, "GET", p.URL+"/big.bin", nil, "Range", "bytes=0-"); r.StatusCode != 206 || !bytes.Equal(b, data) {
			t.Fatalf("bytes=0-: %d", r.StatusCode)
		}
		if code := p.Wait(5 * time.Second); code != 0 {
			t.Fatalf("exit %d", code)
		}
	})
	t.Run("resume", func(t *testing.T) {
		p := Start(t, dir, "-p", "0", "--exit-after", "1")
		cutDownload(t, hostPort(p), "/big.bin", 1<<20, "")
		p.WaitOutput("cut short", 5*time.Second)
		time.Sleep(100 * time.Millisecond)
		if p.Wait(0) != -1 {
			t.Fatal("a cut download counted")
		}
		const from = 1 << 20
		r, b := Do(t, "GET", p.URL+"/big.bin", nil, "Range", fmt.Sprintf("bytes=%d-", from))
		if r.StatusCode != 206 || !bytes.Equal(b, data[from:]) {
			t.Fatalf("resume: %d", r.StatusCode)
		}
		if code := p.Wait(5 * time.Second); code != 0 {
			t.Fatalf("the resumed download did not count: exit %d\n%s", code, p.Stdout())
		}
	})
}

func TestExitAfterParallelCountsOnce(t *testing.T) {
	dir := t.TempDir()
	data := writeBig(t, dir, "f.bin", 1<<20)
	p := Start(t, dir, "-p", "0", "--exit-after", "1", "--log", "json")
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 10 {
		wg.Go(func() {
			<-start
			resp, err := http.Get(p.URL + "/f.bin")
			if err != nil {
				return // the server may stop before this one is accepted
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && len(b) != len(data) {
				t.Errorf("a started download was cut: %d of %d bytes", len(b), len(data))
			}
		})
	}
	close(start)
	wg.Wait()
	if code := p.Wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	out := p.Stdout()
	if strings.Count(out, "exiting as asked") != 1 || !strings.Contains(out, "1 download(s) complete; exiting as asked (--exit-after)") {
		t.Errorf("exit message:\n%s", out)
	}
}

func TestIdleExit(t *testing.T) {
	dir := t.TempDir()
	writeBig(t, dir, "big.bin", 24<<20)
	start := time.Now()
	p := Start(t, dir, "-p", "0", "--idle-exit", "1s")
	if code := p.Wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if took := time.Since(start); took < 900*time.Millisecond || took > 4*time.Second {
		t.Errorf("idle exit after %s, want about 1s", took)
	}
	if !strings.Contains(p.Stdout(), "idle for 1s; exiting as asked (--idle-exit)") {
		t.Errorf("no idle message:\n%s", p.Stdout())
	}

	p = Start(t, dir, "-p", "0", "--idle-exit", "1s")
	conn, br, rest := slowDownload(t, hostPort(p), "/big.bin")
	time.Sleep(2500 * time.Millisecond)
	if code := p.Wait(0); code != -1 {
		t.Fatalf("exited (%d) with a download in flight", code)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := io.CopyN(io.Discard, br, rest); err != nil {
		t.Fatalf("download: %d of %d: %v", n, rest, err)
	}
	conn.Close()
	if code := p.Wait(5 * time.Second); code != 0 {
		t.Fatalf("no idle exit after the download: %d", code)
	}
}

func TestStalledClientsDoNotBlockOthers(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "hello"})
	p := Start(t, dir, "-p", "0", "-q")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 50 {
		c, err := net.Dial("tcp", hostPort(p))
		if err != nil {
			t.Fatalf("stalled conn %d: %v", i, err)
		}
		// Half a request head, never finished.
		fmt.Fprintf(c, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
		conns = append(conns, c)
	}
	for range 5 {
		start := time.Now()
		resp, body := Do(t, "GET", p.URL+"/a.txt", nil)
		if took := time.Since(start); took > time.Second || resp.StatusCode != 200 || string(body) != "hello" {
			t.Fatalf("GET with 50 stalled clients: %d in %s", resp.StatusCode, took)
		}
	}
}

func TestConcurrentBigDownloads(t *testing.T) {
	if testing.Short() {
		t.Skip("8 × 64 MiB")
	}
	dir := t.TempDir()
	data := writeBig(t, dir, "big.bin", 64<<20)
	want := sha(data)
	p := Start(t, dir, "-p", "0")
	var wg sync.WaitGroup
	start := time.Now()
	for i := range 8 {
		wg.Go(func() {
			resp, err := http.Get(p.URL + "/big.bin")
			if err != nil {
				t.Errorf("download %d: %v", i, err)
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 || sha(b) != want {
				t.Errorf("download %d: %d, %d bytes, %v", i, resp.StatusCode, len(b), err)
			}
		})
	}
	wg.Wait()
	t.Logf("8 × 64 MiB in %s", time.Since(start).Round(time.Millisecond))
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(p.Stdout(), "GET /big.bin 200 64.0 MiB") < 8 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := strings.Count(p.Stdout(), " complete\n"); n != 8 {
		t.Errorf("%d complete lines, want 8:\n%s", n, p.Stdout())
	}
}
