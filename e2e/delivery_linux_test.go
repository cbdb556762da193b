package e2e

// A download is complete when the client acknowledged every byte, not when
// the last one was handed to the kernel; progress counts acknowledged bytes
// (issue 11, A.1 and A.2). Only Linux tells, hence the file's suffix.

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// dialSmall connects with a small receive buffer, set before connecting so
// that the window the client offers stays small: most of a large response
// then waits in ferry's send queue, not in the client's kernel.
func dialSmall(t *testing.T, addr string, rcvbuf int) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf) })
		return serr
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readSome sends a GET over c and reads n bytes of the answer, headers
// included, as a client that gives up early would.
func readSome(t *testing.T, c net.Conn, path string, n int) {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, n)); err != nil {
		t.Fatalf("reading the first %d bytes: %v", n, err)
	}
}

func randomFile(t *testing.T, dir, name string, size int) {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// stillRunning fails the test if ferry exits within a second: a wrongly
// counted download would stop it at once.
func stillRunning(t *testing.T, p *Proc, why string) {
	t.Helper()
	if code := p.Wait(time.Second); code != -1 {
		t.Fatalf("ferry exited (%d) after %s:\n%s", code, why, p.Stdout())
	}
}

var cutBigRE = regexp.MustCompile(`GET /big\.bin 200 ([\d.]+ [KM]?i?B) .*cut short: ([\d.]+ [KM]?i?B) of 772 KiB`)

// The case from the issue: a client reads 780 bytes of a 772 KiB file and
// hangs up (or stops reading). ferry handed every byte to the kernel, but
// the client acknowledged only what its small buffer took: cut short, and
// --once keeps serving. A client that reads everything completes it.
func TestCutShortUnlessAcknowledged(t *testing.T) {
	dir := t.TempDir()
	randomFile(t, dir, "big.bin", 772<<10)
	p := Start(t, dir, "-p", "0", "--once")
	addr := strings.TrimPrefix(p.URL, "http://")

	// Hangs up: the kernel resets the connection with data unread.
	c := dialSmall(t, addr, 4096)
	readSome(t, c, "/big.bin", 780)
	c.Close()
	if !p.WaitOutput("cut short", 15*time.Second) {
		t.Fatalf("no cut-short line:\n%s", p.Stdout())
	}
	m := cutBigRE.FindStringSubmatch(p.Stdout())
	if m == nil {
		t.Fatalf("want `GET /big.bin 200 … cut short: N of 772 KiB`:\n%s", p.Stdout())
	}
	if strings.Contains(p.Stdout(), "complete") {
		t.Fatalf("a download the client hung up on is logged complete:\n%s", p.Stdout())
	}
	if !strings.HasSuffix(m[2], " KiB") && !strings.HasSuffix(m[2], " B") {
		t.Errorf("cut short after %s: more than the client's buffer could have acknowledged", m[2])
	}
	stillRunning(t, p, "a download cut short")

	// Stops reading but keeps the connection: after a few seconds without
	// any acknowledgement it is cut short too.
	held := dialSmall(t, addr, 4096)
	defer held.Close()
	readSome(t, held, "/big.bin", 780)
	if !waitCount(p, "cut short", 2, 20*time.Second) {
		t.Fatalf("a client that stopped reading was not cut short:\n%s", p.Stdout())
	}
	stillRunning(t, p, "a download whose client stopped reading")

	resp, body := Do(t, "GET", p.URL+"/big.bin", nil)
	if resp.StatusCode != 200 || len(body) != 772<<10 {
		t.Fatalf("full download: %d, %d bytes", resp.StatusCode, len(body))
	}
	if code := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("--once did not exit after a complete download (code %d):\n%s", code, p.Stdout())
	}
	if !regexp.MustCompile(`GET /big\.bin 200 772 KiB .*complete`).MatchString(p.Stdout()) {
		t.Errorf("no complete line:\n%s", p.Stdout())
	}
	if !strings.Contains(p.Stdout(), "1 downloads completed, 2 cut short") {
		t.Errorf("summary does not count 1 complete, 2 cut short:\n%s", p.Stdout())
	}
}

func waitCount(p *Proc, s string, n int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if strings.Count(p.Stdout(), s) >= n {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// --exit-after counts the same truth, over TLS (HTTP/1.1 and HTTP/2) too:
// the record layer sits on the same socket, whose queue must drain.
func TestExitAfterCountsOnlyDelivered(t *testing.T) {
	dir := t.TempDir()
	randomFile(t, dir, "big.bin", 772<<10)
	p := Start(t, dir, "-p", "0", "--exit-after", "2", "--tls", "--log", "json")
	addr := strings.TrimPrefix(p.URL, "https://")

	for i, proto := range []string{"http/1.1", "h2"} {
		raw := dialSmall(t, addr, 4096)
		c := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{proto}})
		if err := c.Handshake(); err != nil {
			t.Fatal(err)
		}
		if proto == "h2" {
			if c.ConnectionState().NegotiatedProtocol != "h2" {
				t.Fatalf("no HTTP/2: %q", c.ConnectionState().NegotiatedProtocol)
			}
			h2Get(t, c, "/big.bin", 780)
		} else {
			readSome(t, c, "/big.bin", 780)
		}
		// Most likely the handler has written everything by now, and
		// only the socket knows the client did not take it (cut short
		// either way).
		time.Sleep(300 * time.Millisecond)
		raw.Close()
		if !waitCount(p, `"outcome":"cut short"`, i+1, 15*time.Second) {
			t.Fatalf("%s: no cut-short line:\n%s", proto, p.Stdout())
		}
		stillRunning(t, p, proto+" download cut short")
	}
	if strings.Contains(p.Stdout(), `"outcome":"complete"`) {
		t.Fatalf("a download the client hung up on is logged complete:\n%s", p.Stdout())
	}

	// Whole downloads, HTTP/2 (Go's client) and HTTP/1.1.
	for i, h2 := range []bool{true, false} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: h2}
		if !h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		resp, err := (&http.Client{Transport: tr, Timeout: 20 * time.Second}).Get(p.URL + "/big.bin")
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		if n != 772<<10 || (resp.ProtoMajor == 2) != h2 {
			t.Fatalf("full download: %d bytes over %s", n, resp.Proto)
		}
		if i == 0 {
			if !waitCount(p, `"outcome":"complete"`, 1, 10*time.Second) {
				t.Fatalf("no complete line:\n%s", p.Stdout())
			}
			stillRunning(t, p, "the first of two downloads")
		}
	}
	if code := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("--exit-after 2 did not exit after two complete downloads (code %d):\n%s", code, p.Stdout())
	}
}

// h2Get sends a GET for path over an HTTP/2 connection and reads n bytes
// of what comes back (frames, whatever they hold), then gives up.
func h2Get(t *testing.T, c net.Conn, path string, n int) {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var b []byte
	b = append(b, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"...)
	// SETTINGS: a 16 MiB initial window, and as much again for the
	// connection, so that flow control lets the whole file out at once
	// and only TCP holds it back.
	b = append(b, 0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0)
	b = append(b, 0, 0, 4, 8, 0, 0, 0, 0, 0, 1, 0, 0, 0)
	// HEADERS, END_STREAM|END_HEADERS, stream 1, HPACK literals without
	// indexing: :method GET, :scheme https, :path, :authority.
	var hb []byte
	hb = append(hb, 0x82, 0x87) // :method GET, :scheme https (static table)
	hb = append(hb, 0x04, byte(len(path)))
	hb = append(hb, path...)
	hb = append(hb, 0x01, 9)
	hb = append(hb, "127.0.0.1"...)
	b = append(b, byte(len(hb)>>16), byte(len(hb)>>8), byte(len(hb)), 1, 0x05, 0, 0, 0, 1)
	b = append(b, hb...)
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, n)); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
}

// curl is the client most people use; over HTTP/2 it stops once it has
// every byte, without reading the frame that ends the stream. Its
// downloads must still be complete.
func TestCurlDownloadsComplete(t *testing.T) {
	curl := NeedCommand(t, "curl")
	dir := t.TempDir()
	randomFile(t, dir, "big.bin", 772<<10)
	randomFile(t, dir, "small.bin", 100)
	p := Start(t, dir, "-p", "0", "--tls")
	n := 0
	for _, v := range []string{"--http2", "--http1.1"} {
		for _, f := range []string{"small.bin", "big.bin"} {
			for range 3 {
				out, err := exec.Command(curl, "-sSk", v, "-o", "/dev/null", p.URL+"/"+f).CombinedOutput()
				if err != nil {
					t.Fatalf("curl %s: %v: %s", v, err, out)
				}
				n++
			}
		}
	}
	if !waitCount(p, "complete", n, 10*time.Second) {
		t.Fatalf("want %d complete downloads:\n%s", n, p.Stdout())
	}
	if strings.Contains(p.Stdout(), "cut short") {
		t.Fatalf("a whole curl download is logged cut short:\n%s", p.Stdout())
	}
}

// slowReader reads a large file at about rate bytes per second through a
// small receive buffer, counting what it read, until stop is closed.
func slowReader(t *testing.T, addr, path string, rate int, read *atomic.Int64, stop chan struct{}) {
	c := dialSmall(t, addr, 16<<10)
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer c.Close()
		buf := make([]byte, rate/20)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := io.ReadFull(c, buf)
			read.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
}

// The status page shows the bytes the client acknowledged, moving between
// samples even for a client reading at 150 KB/s, not the 4 MiB steps in
// which sendfile hands the file to the kernel.
func TestStatusProgressIsAcknowledged(t *testing.T) {
	dir := t.TempDir()
	randomFile(t, dir, "slow.bin", 24<<20)
	p := Start(t, dir, "-p", "0")
	addr := strings.TrimPrefix(p.URL, "http://")
	var read atomic.Int64
	stop := make(chan struct{})
	defer close(stop)
	slowReader(t, addr, "/slow.bin", 150_000, &read, stop)

	var samples []int64
	start := time.Now()
	for len(samples) < 8 && time.Since(start) < 30*time.Second {
		time.Sleep(300 * time.Millisecond)
		done, ok := inFlightDone(t, p.URL, "/slow.bin")
		if !ok {
			continue
		}
		// What the client read, plus what its kernel may hold unread
		// (twice the buffer asked for, as Linux doubles it) and a full
		// window in flight: far less than ferry's send queue holds.
		if limit := read.Load() + 4*(16<<10) + 64<<10; done > limit {
			t.Errorf("status shows %d bytes done; the client read %d: more than it can have acknowledged", done, read.Load())
		}
		samples = append(samples, done)
	}
	if len(samples) < 8 {
		t.Fatalf("only %d samples of the transfer in flight", len(samples))
	}
	rises := 0
	for i := 1; i < len(samples); i++ {
		if samples[i] < samples[i-1] {
			t.Errorf("progress went back: %v", samples)
		}
		if samples[i] > samples[i-1] {
			rises++
		}
		if samples[i]-samples[i-1] >= 1<<20 {
			t.Errorf("progress jumped by a MiB or more between samples: %v", samples)
		}
	}
	// A loaded machine may stall the reader for a moment; a 4 MiB step
	// would show no rise at all.
	if rises < len(samples)-3 {
		t.Errorf("progress rose between only %d of %d samples: %v", rises, len(samples)-1, samples)
	}
}

// inFlightDone reads /.ferry/status?format=json for path's bytes done.
func inFlightDone(t *testing.T, base, path string) (int64, bool) {
	t.Helper()
	_, body := Do(t, "GET", base+"/.ferry/status?format=json", nil)
	var rep struct {
		InFlight []struct {
			Path string `json:"path"`
			Done int64  `json:"done"`
		} `json:"in_flight"`
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatalf("status JSON: %v: %s", err, body)
	}
	for _, f := range rep.InFlight {
		if f.Path == path {
			return f.Done, true
		}
	}
	return 0, false
}

// The terminal view's bar follows the same acknowledged bytes, several
// times a second.
func TestTermViewProgressIsAcknowledged(t *testing.T) {
	dir := bigFile(t)
	tm, base := startInTmux(t, dir)
	var read atomic.Int64
	stop := make(chan struct{})
	defer close(stop)
	slowReader(t, strings.TrimPrefix(base, "http://"), "/big.bin", 150_000, &read, stop)

	figRE := regexp.MustCompile(`big\.bin\s+\[[=>\-]+\]\s+\d{1,3}%\s+([\d.]+) ([KMG]?i?B) / 48\.0 MiB`)
	var samples []float64
	start := time.Now()
	for len(samples) < 6 && time.Since(start) < 30*time.Second {
		time.Sleep(400 * time.Millisecond)
		m := figRE.FindStringSubmatch(tm.screen())
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		v *= map[string]float64{"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[m[2]]
		samples = append(samples, v)
	}
	if len(samples) < 6 {
		t.Fatalf("only %d readings of the bar:\n%s", len(samples), tm.screen())
	}
	rises := 0
	for i := 1; i < len(samples); i++ {
		if samples[i] > samples[i-1] {
			rises++
		}
	}
	if rises < len(samples)-3 || samples[len(samples)-1] >= 4<<20 {
		t.Errorf("the bar does not follow a client reading 150 KB/s: %v", samples)
	}
}

// Stopping while a download waits for its last bytes to be acknowledged:
// its line (cut short, as its client stopped reading) comes before the
// summary, which counts it.
func TestStopSettlesWaitingDownloads(t *testing.T) {
	dir := t.TempDir()
	randomFile(t, dir, "big.bin", 772<<10)
	p := Start(t, dir, "-p", "0")
	held := dialSmall(t, strings.TrimPrefix(p.URL, "http://"), 4096)
	defer held.Close()
	readSome(t, held, "/big.bin", 780)
	time.Sleep(300 * time.Millisecond) // the handler has most likely returned
	p.Signal(syscall.SIGINT)
	if code := p.Wait(20 * time.Second); code != 0 {
		t.Fatalf("exit %d after Ctrl-C:\n%s", code, p.Stdout())
	}
	out := p.Stdout()
	line, sum := strings.Index(out, "GET /big.bin 200"), strings.Index(out, "summary:")
	if line < 0 || sum < line || !cutBigRE.MatchString(out) {
		t.Fatalf("want the cut-short line before the summary:\n%s", out)
	}
	if !strings.Contains(out, "0 downloads completed, 1 cut short") {
		t.Errorf("the summary does not count the download cut short:\n%s", out)
	}
}

// A file whose read fails mid-body (here: it shrinks while it goes out) is
// broken off and logged cut short, never complete: compressed on the fly,
// the response has no length, and ending its stream normally handed the
// client a truncated file as a whole one; a precompressed copy has its
// length, which the client then never gets.
func TestReadFailureIsCutShort(t *testing.T) {
	dir := t.TempDir()
	const size = 24 << 20
	// Random bytes compress to about their own size, so the sockets hold
	// at most a few MiB of the file when the client stops reading.
	randomFile(t, dir, "big.txt", size)
	randomFile(t, dir, "doc.txt", 4096)
	randomFile(t, dir, "doc.txt.gz", size)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--log", "json")
	for _, c := range []struct{ path, file, enc, length string }{
		{"/big.txt", "big.txt", "gzip", ""},
		{"/doc.txt", "doc.txt.gz", "gzip", strconv.Itoa(size)},
	} {
		t.Run(c.file, func(t *testing.T) {
			conn := dialSmall(t, p.URL[len("http://"):], 16<<10)
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(60 * time.Second))
			fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n", c.path)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != c.enc || resp.Header.Get("Content-Length") != c.length {
				t.Fatalf("GET %s: %d, Content-Encoding %q, Content-Length %q", c.path, resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Length"))
			}
			// ferry is now held by the full sockets, well short of the end.
			if err := os.Truncate(filepath.Join(dir, c.file), 64<<10); err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			if err == nil {
				t.Errorf("GET %s of a file that shrank mid-way ended as if whole (%d bytes)", c.path, n)
			}
			var line map[string]any
			deadline := time.Now().Add(30 * time.Second)
			for line == nil && time.Now().Before(deadline) {
				for l := range strings.SplitSeq(p.Stdout(), "\n") {
					var m map[string]any
					if json.Unmarshal([]byte(l), &m) == nil && m["path"] == c.path {
						line = m
					}
				}
				time.Sleep(50 * time.Millisecond)
			}
			if line == nil || line["outcome"] != "cut short" {
				t.Errorf("log of a download whose file shrank mid-way: %v, want cut short\n%s", line, p.Stdout())
			}
		})
	}
}
