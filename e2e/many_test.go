//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Many clients at once through the real binary (issue 16, target 5): ten
// thousand keep-alive downloads of a 1 MiB file and a thousand uploads of
// 1 MiB, every one whole, with ferry at its defaults and its peak memory
// reported per transfer.
//
// The clients come from many loopback addresses (Linux routes all of
// 127/8 to lo), a few dozen connections each, as ten thousand real users
// would: ferry limits the requests in flight per client address, and one
// address with ten thousand downloads is one very greedy client, not ten
// thousand honest ones. The clients speak HTTP/1.1 by hand on their own
// sockets, so that no client library reconnects or retries behind the
// test's back: a connection ferry shed is an error here.

const (
	manyDownloads = 10000
	manyUploads   = 1000
	// manyCut uploads hang up half-way.
	manyCut = 10
	// manyPerAddr connections share a source address.
	manyPerAddr = 50
	// manyDialing bounds the connections being set up at once, so that
	// the listen backlog never overflows (a dropped SYN costs a second).
	manyDialing = 64
	// manyPatience bounds every socket operation: generous, for a loaded
	// machine; the test asserts outcomes, never times.
	manyPatience = 3 * time.Minute
)

// manyAddr is the source address of client i.
func manyAddr(i int) net.IP {
	a := i / manyPerAddr
	return net.IPv4(127, 1, byte(a/250), byte(a%250+1))
}

// manyNeedFiles skips the test when the descriptor limit cannot hold n
// connections on both sides (or fails it where FERRY_REQUIRE_TOOLS=1, as
// NeedCommand does). Go raises a process's soft limit to its hard limit on
// start; ferry, started from this process, gets the same hard limit and
// sizes its capacity from it, keeping a quarter of its descriptors and one
// for each request slot in reserve (server.CapacityFor): twice n is enough.
func manyNeedFiles(t *testing.T, n int) {
	t.Helper()
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Skipf("no descriptor limit to read: %v", err)
	}
	if rl.Cur >= uint64(2*n) {
		return
	}
	msg := fmt.Sprintf("the descriptor limit (soft %d, hard %d) is too low for %d connections on each side; raise the hard limit to %d or more (ulimit -Hn) to run this test", rl.Cur, rl.Max, n, 2*n)
	if os.Getenv("FERRY_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s (FERRY_REQUIRE_TOOLS=1)", msg)
	}
	t.Skip(msg)
}

// manyFDs counts ferry's open descriptors.
func manyFDs(pid int) int {
	es, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(es)
}

// manyConn is one client's connection, set up by manyConnect.
type manyConn struct {
	c  net.Conn
	br *bufio.Reader
}

// manyConnect opens n connections to addr, manyDialing at a time, each
// from its client's address, and has each do hello (write a request, read
// its answer). It returns once every connection is set up, with nil for
// those that failed and their errors.
func manyConnect(t *testing.T, addr string, n int, hello func(i int, mc *manyConn) error) ([]*manyConn, []error) {
	t.Helper()
	conns := make([]*manyConn, n)
	errs := make([]error, n)
	sem := make(chan struct{}, manyDialing)
	var wg sync.WaitGroup
	deadline := time.Now().Add(manyPatience)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: manyAddr(i)}, Timeout: 30 * time.Second}
			c, err := d.Dial("tcp", addr)
			if err != nil {
				errs[i] = fmt.Errorf("client %d: dial from %s: %v", i, manyAddr(i), err)
				return
			}
			c.SetDeadline(deadline)
			mc := &manyConn{c: c, br: bufio.NewReader(c)}
			if err := hello(i, mc); err != nil {
				c.Close()
				errs[i] = fmt.Errorf("client %d from %s: %v", i, manyAddr(i), err)
				return
			}
			conns[i] = mc
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, mc := range conns {
			if mc != nil {
				mc.c.Close()
			}
		}
	})
	return conns, errs
}

// manyReport fails the test with the first few errors and their count.
func manyReport(t *testing.T, what string, errs []error) {
	t.Helper()
	failed := 0
	for _, err := range errs {
		if err != nil {
			if failed++; failed <= 5 {
				t.Error(err)
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%s: %d of %d failed", what, failed, len(errs))
	}
}

// manyStop stops ferry with Ctrl-C and returns its summary line.
func manyStop(t *testing.T, p *Proc) string {
	t.Helper()
	p.Signal(syscall.SIGINT)
	if code := p.Wait(30 * time.Second); code != 0 {
		t.Fatalf("ferry exited %d after Ctrl-C", code)
	}
	for line := range strings.SplitSeq(p.Stdout(), "\n") {
		if strings.HasPrefix(line, "summary:") {
			return line
		}
	}
	t.Fatalf("no summary; stdout:\n%s", p.Stdout())
	return ""
}

// manyMetric reads one sample of ferry's metrics.
func manyMetric(t *testing.T, p *Proc, name string) string {
	t.Helper()
	_, b := Do(t, "GET", p.URL+"/.ferry/metrics", nil)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in the metrics", name)
	}
	return string(m[1])
}

// TestManyDownloads: 10,000 clients, each on a keep-alive connection of its
// own, first ask for the file's headers (HEAD), and wait until every one
// has been answered: ferry then holds 10,000 open connections at once.
// Then all ask for the 1 MiB file on the same connections, and each body is
// compared with the file as it arrives. Every download must be whole, none
// refused, none of the connections shed, and ferry must count 10,000
// complete downloads.
func TestManyDownloads(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 connections: not in -short")
	}
	manyNeedFiles(t, manyDownloads)
	dir := t.TempDir()
	data := wrRandom(t, 1<<20)
	os.WriteFile(filepath.Join(dir, "big.bin"), data, 0o644)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-q")
	pid := p.cmd.Process.Pid
	addr := secAddr(p)
	base := procStatus(t, pid, "VmHWM")
	head := fmt.Sprintf("HEAD /big.bin HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	get := fmt.Sprintf("GET /big.bin HTTP/1.1\r\nHost: %s\r\n\r\n", addr)

	start := time.Now()
	conns, errs := manyConnect(t, addr, manyDownloads, func(i int, mc *manyConn) error {
		if _, err := io.WriteString(mc.c, head); err != nil {
			return err
		}
		resp, err := http.ReadResponse(mc.br, &http.Request{Method: "HEAD"})
		if err != nil {
			return fmt.Errorf("HEAD: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ContentLength != int64(len(data)) {
			return fmt.Errorf("HEAD: %s, Content-Length %d", resp.Status, resp.ContentLength)
		}
		return nil
	})
	manyReport(t, "connections", errs)
	connected := time.Since(start)
	// Every client has had its answer and keeps its connection: ferry
	// holds them all (and says so in its descriptors).
	held := manyFDs(pid)
	t.Logf("%d connections from %d addresses set up in %s; ferry holds %d descriptors", manyDownloads, (manyDownloads+manyPerAddr-1)/manyPerAddr, connected.Round(time.Millisecond), held)
	if held < manyDownloads {
		t.Errorf("ferry holds %d descriptors with %d connections open", held, manyDownloads)
	}

	idleMem := manyMemory(t, p)
	t.Logf("holding %d idle connections: %s", manyDownloads, idleMem)

	// All at once, on the connections already open. Each download counts
	// itself in flight from its headers to its last byte.
	var inFlight, most atomic.Int64
	start = time.Now()
	// Where ferry's memory goes at the busiest moment (scraped over a
	// connection of its own while the downloads run).
	var busiest memFigures
	scraping, scraped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(scraped)
		for {
			select {
			case <-scraping:
				return
			case <-time.After(250 * time.Millisecond):
			}
			if m := manyMemory(t, p); m.stack+m.heap > busiest.stack+busiest.heap {
				busiest = m
			}
		}
	}()
	var wg sync.WaitGroup
	for i, mc := range conns {
		wg.Go(func() {
			if _, err := io.WriteString(mc.c, get); err != nil {
				errs[i] = fmt.Errorf("download %d: %v", i, err)
				return
			}
			resp, err := http.ReadResponse(mc.br, nil)
			if err != nil {
				// A connection shed while it waited, or a request dropped.
				errs[i] = fmt.Errorf("download %d from %s: %v", i, manyAddr(i), err)
				return
			}
			defer resp.Body.Close()
			if n := inFlight.Add(1); n > most.Load() {
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
			}
			defer inFlight.Add(-1)
			if resp.StatusCode != 200 {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
				errs[i] = fmt.Errorf("download %d from %s: %s %q", i, manyAddr(i), resp.Status, b)
				return
			}
			if err := manySame(resp.Body, data); err != nil {
				errs[i] = fmt.Errorf("download %d from %s: %v", i, manyAddr(i), err)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(scraping)
	<-scraped
	manyReport(t, "downloads", errs)
	t.Logf("at the busiest scrape: %s", busiest)

	peak := procStatus(t, pid, "VmHWM")
	per := float64(peak-base) / manyDownloads
	t.Logf("%d downloads of 1 MiB in %s (at most %d in flight at once): peak RSS %d MiB (%d MiB at start), %.1f KiB per download",
		manyDownloads, took.Round(time.Millisecond), most.Load(), peak>>10, base>>10, per)
	// A download is complete once the client has acknowledged every
	// byte, which ferry checks a moment after its last write: the last few
	// may be counted after the clients have read them.
	var got string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		got = manyMetric(t, p, `ferry_downloads_total{outcome="complete"}`)
		if got == strconv.Itoa(manyDownloads) || time.Now().After(deadline) {
			break
		}
	}
	if got != strconv.Itoa(manyDownloads) {
		t.Errorf("ferry's metrics count %s complete downloads, want %d", got, manyDownloads)
	}
	if got := manyMetric(t, p, `ferry_refusals_total{reason="connections"}`) + "/" + manyMetric(t, p, `ferry_refusals_total{reason="overload"}`); got != "0/0" {
		t.Errorf("ferry refused connections/requests: %s", got)
	}
	sum := manyStop(t, p)
	if want := fmt.Sprintf("%d downloads completed, 0 cut short", manyDownloads); !strings.Contains(sum, want) {
		t.Errorf("summary %q does not say %q", sum, want)
	}
	if s := p.Stderr(); s != "" {
		t.Errorf("ferry's stderr:\n%s", s)
	}
}

// memFigures is where a Go process's memory goes, from its metrics.
type memFigures struct{ goroutines, stack, heap, rss float64 }

func (m memFigures) String() string {
	return fmt.Sprintf("%.0f goroutines, stacks %.0f MiB, heap in use %.0f MiB, RSS %.0f MiB", m.goroutines, m.stack/(1<<20), m.heap/(1<<20), m.rss/(1<<20))
}

// manyMemory reads ferry's memory figures from its metrics.
func manyMemory(t *testing.T, p *Proc) memFigures {
	resp, err := http.Get(p.URL + "/.ferry/metrics")
	if err != nil {
		return memFigures{}
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	get := func(name string) float64 {
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(b)
		if m == nil {
			return 0
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	return memFigures{get("go_goroutines"), get("go_memstats_stack_inuse_bytes"), get("go_memstats_heap_inuse_bytes"), get("process_resident_memory_bytes")}
}

// manySame reads r to its end and compares it with want, a buffer's worth
// at a time (no hashing: the test's own CPU stays with the transfers).
func manySame(r io.Reader, want []byte) error {
	buf := make([]byte, 16<<10)
	off := 0
	for {
		n, err := r.Read(buf)
		if off+n > len(want) {
			return fmt.Errorf("more than the %d bytes expected", len(want))
		}
		if !bytes.Equal(buf[:n], want[off:off+n]) {
			return fmt.Errorf("bytes %d-%d differ", off, off+n-1)
		}
		off += n
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %v", off, err)
		}
	}
	if off != len(want) {
		return fmt.Errorf("%d bytes, want %d", off, len(want))
	}
	return nil
}

// TestManyUploads: 1,000 clients PUT 1 MiB each (a body of its own per
// client), and a few more hang up half-way. Each sends its headers with
// Expect: 100-continue and waits for ferry's 100 Continue, which ferry
// sends once the upload's handler reads the body: when every client has
// it, all 1,010 uploads are in flight at once. Then all send their bodies.
// Every complete upload must be stored whole, and the folder must hold
// exactly those files: nothing partial, no temporary file, under any name.
func TestManyUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 uploads of 1 MiB: not in -short")
	}
	n := manyUploads + manyCut
	manyNeedFiles(t, n)
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-q", "--upload")
	pid := p.cmd.Process.Pid
	addr := secAddr(p)
	base := procStatus(t, pid, "VmHWM")
	data := wrRandom(t, 1<<20)
	// Each upload's body is data with its own first line.
	first := func(i int) []byte { return fmt.Appendf(nil, "upload %08d\n", i) }
	name := func(i int) string { return fmt.Sprintf("up-%04d.bin", i) }

	start := time.Now()
	conns, errs := manyConnect(t, addr, n, func(i int, mc *manyConn) error {
		fmt.Fprintf(mc.c, "PUT /%s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", name(i), addr, len(data))
		resp, err := http.ReadResponse(mc.br, nil)
		if err != nil {
			return fmt.Errorf("PUT: %v", err)
		}
		if resp.StatusCode != http.StatusContinue {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
			return fmt.Errorf("PUT: %s %q before the body", resp.Status, b)
		}
		return nil
	})
	manyReport(t, "uploads' headers", errs)
	t.Logf("%d uploads in flight at once after %s; ferry holds %d descriptors", n, time.Since(start).Round(time.Millisecond), manyFDs(pid))

	start = time.Now()
	var wg sync.WaitGroup
	for i, mc := range conns {
		wg.Go(func() {
			first := first(i)
			if i >= manyUploads {
				// Half the body, then hang up.
				mc.c.Write(first)
				mc.c.Write(data[len(first) : len(data)/2])
				mc.c.Close()
				return
			}
			if _, err := mc.c.Write(first); err == nil {
				_, err = mc.c.Write(data[len(first):])
			}
			resp, err := http.ReadResponse(mc.br, nil)
			if err != nil {
				errs[i] = fmt.Errorf("upload %d from %s: %v", i, manyAddr(i), err)
				return
			}
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				errs[i] = fmt.Errorf("upload %d from %s: %s %q", i, manyAddr(i), resp.Status, b)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	manyReport(t, "uploads", errs)

	// The cut-short uploads end on ferry's side once it reads their
	// hang-up; wait (generously) until it has counted them.
	want := fmt.Sprintf("%d uploads completed, %d cut short", manyUploads, manyCut)
	var figures string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		figures = manyMetric(t, p, `ferry_uploads_total{outcome="complete"}`) + "/" + manyMetric(t, p, `ferry_uploads_total{outcome="cut_short"}`)
		if figures == fmt.Sprintf("%d/%d", manyUploads, manyCut) || time.Now().After(deadline) {
			break
		}
	}
	peak := procStatus(t, pid, "VmHWM")
	t.Logf("%d uploads of 1 MiB (and %d cut short) in %s: peak RSS %d MiB (%d MiB at start), %.1f KiB per upload",
		manyUploads, manyCut, took.Round(time.Millisecond), peak>>10, base>>10, float64(peak-base)/float64(n))
	if figures != fmt.Sprintf("%d/%d", manyUploads, manyCut) {
		t.Errorf("ferry's metrics count %s complete/cut-short uploads, want %d/%d", figures, manyUploads, manyCut)
	}
	if sum := manyStop(t, p); !strings.Contains(sum, want) {
		t.Errorf("summary %q does not say %q", sum, want)
	}

	// Exactly the complete uploads, each whole; nothing else under any
	// name (dotfiles and temporary names included).
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	var wantNames []string
	for i := range manyUploads {
		wantNames = append(wantNames, name(i))
	}
	if !slices.Equal(names, wantNames) {
		var extra []string
		for _, nm := range names {
			if _, ok := slices.BinarySearch(wantNames, nm); !ok {
				extra = append(extra, nm)
			}
		}
		t.Errorf("the folder holds %d entries, want the %d uploads; not uploads: %q", len(names), manyUploads, extra[:min(len(extra), 20)])
	}
	bad := 0
	for i := range manyUploads {
		b, err := os.ReadFile(filepath.Join(dir, name(i)))
		first := first(i)
		if err != nil || len(b) != len(data) || !bytes.Equal(b[:len(first)], first) || !bytes.Equal(b[len(first):], data[len(first):]) {
			if bad++; bad <= 5 {
				t.Errorf("%s: %d bytes, not what was sent (%v)", name(i), len(b), err)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d stored uploads differ from what was sent", bad, manyUploads)
	}
}
