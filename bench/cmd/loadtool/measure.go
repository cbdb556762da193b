package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// mkfiles fills a folder with n files of about size bytes each; a shell loop
// takes minutes for 100,000 files, this takes seconds.
func mkfiles(args []string) error {
	fs := flag.NewFlagSet("mkfiles", flag.ExitOnError)
	dir := fs.String("dir", "", "folder to fill")
	n := fs.Int("n", 1000, "number of files")
	size := fs.Int("size", 64, "bytes per file")
	fs.Parse(args)
	if *dir == "" {
		return errors.New("mkfiles: -dir is required")
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	buf := make([]byte, *size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range *n {
		for j := range buf {
			buf[j] = byte('a' + r.IntN(26))
		}
		// Mixed extensions so listings show several icons/types.
		ext := [...]string{".txt", ".bin", ".jpg", ".md"}[i%4]
		name := filepath.Join(*dir, fmt.Sprintf("file-%06d%s", i, ext))
		if err := os.WriteFile(name, buf, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// download fetches url over streams parallel connections, discarding the
// bytes, and prints "bytes seconds MB/s" (MB = 10^6 bytes).
func download(args []string) error {
	fs := flag.NewFlagSet("download", flag.ExitOnError)
	u := fs.String("url", "", "URL to fetch")
	streams := fs.Int("streams", 1, "parallel downloads")
	fs.Parse(args)
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: *streams}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int64
		first error
	)
	start := time.Now()
	for range *streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := fetch(client, *u)
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil && first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	if first != nil {
		return first
	}
	fmt.Printf("%d %.3f %.1f\n", total, secs, float64(total)/secs/1e6)
	return nil
}

func fetch(client *http.Client, u string) (int64, error) {
	resp, err := client.Get(u)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	// A large buffer so the client's read syscalls are not what is measured.
	buf := make([]byte, 1<<20)
	var n int64
	for {
		m, err := resp.Body.Read(buf)
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return n, fmt.Errorf("GET %s: got %d of %d bytes", u, n, resp.ContentLength)
	}
	return n, nil
}

// idle measures what a server pays for idle keep-alive connections: RSS
// before any request, after one warm-up request, and while n connections
// that each completed one request sit open; then the latency of new
// requests (a fresh connection each) while all but eight are held.
//
// The connections come from -sources loopback addresses in turn
// (127.0.0.1, 127.0.0.2, ...), so that 10,000 of them, and the runs before
// whose closed connections still wait in TIME_WAIT, never run short of
// ephemeral ports. -tls speaks TLS (certificate unchecked) on each.
func idle(args []string) error {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	u := fs.String("url", "", "small file to request")
	n := fs.Int("n", 1000, "idle connections to hold")
	pid := fs.Int("pid", 0, "server process (its children are counted too)")
	samples := fs.Int("samples", 200, "new requests timed while holding")
	hold := fs.Duration("hold", 0, "keep the connections open this much longer (to inspect the server)")
	sources := fs.Int("sources", 1, "spread the connections over this many addresses 127.0.0.1, 127.0.0.2, ...")
	settle := fs.Duration("settle", 2*time.Second, "wait this long once all are open before measuring")
	useTLS := fs.Bool("tls", false, "speak TLS (https URLs do too)")
	fs.Parse(args)
	pu, err := url.Parse(*u)
	if err != nil {
		return err
	}
	if pu.Scheme == "https" {
		*useTLS = true
	}
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ferry-bench\r\n\r\n", pu.RequestURI(), pu.Host)
	dial := func(i int) (net.Conn, error) {
		d := &net.Dialer{Timeout: 10 * time.Second}
		if *sources > 1 {
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, byte(i%*sources/254), byte(1+i%*sources%254))}
		}
		if *useTLS {
			return tls.DialWithDialer(d, "tcp", pu.Host, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
		}
		return d.Dial("tcp", pu.Host)
	}

	start, _, err := treeRSS(*pid)
	if err != nil {
		return err
	}
	if _, err := roundTrip(dial, req, nil); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	time.Sleep(200 * time.Millisecond)
	base, _, _ := treeRSS(*pid)

	conns := make([]net.Conn, 0, *n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range *n {
		c, err := dial(i)
		if err != nil {
			return fmt.Errorf("dial after %d connections: %w", len(conns), err)
		}
		conns = append(conns, c)
		if _, err := roundTrip(dial, req, c); err != nil {
			// Servers without keep-alive (Python's HTTP/1.0) close here;
			// counted below as not held.
			continue
		}
	}
	// Let the server settle (buffers shrink, GC runs) as a real idle period would.
	time.Sleep(*settle)
	held := 0
	one := make([]byte, 1)
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		_, err := c.Read(one)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			held++
		}
	}
	heldRSS, _, _ := treeRSS(*pid)

	// A few held connections make room for the timed ones: a server at its
	// connection cap (lighttpd allows half its descriptors, 10,000 of
	// 20,000) stops accepting, and lighttpd looks again only once a
	// second, so the room is made a second ahead.
	for _, c := range conns[:min(len(conns), 8)] {
		c.Close()
	}
	time.Sleep(1500 * time.Millisecond)
	lat := make([]float64, 0, *samples)
	for range *samples {
		t0 := time.Now()
		if _, err := roundTrip(dial, req, nil); err != nil {
			return fmt.Errorf("request while holding: %w", err)
		}
		lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
	}
	slices.Sort(lat)
	perConn := "nan"
	if held > 0 {
		perConn = fmt.Sprintf("%.2f", float64(heldRSS-base)/float64(held))
	}
	fmt.Printf("rss_start_kib=%d\nrss_base_kib=%d\nrss_held_kib=%d\nheld=%d\nper_conn_kib=%s\nlat_p50_ms=%.3f\nlat_p99_ms=%.3f\n",
		start, base, heldRSS, held, perConn, pct(lat, 50), pct(lat, 99))
	time.Sleep(*hold)
	return nil
}

func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// roundTrip sends one request and reads the whole response; with c nil it
// dials a connection of its own and closes it afterwards.
func roundTrip(dial func(int) (net.Conn, error), req string, c net.Conn) (int, error) {
	own := c == nil
	if own {
		var err error
		c, err = dial(0)
		if err != nil {
			return 0, err
		}
		defer c.Close()
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, req); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	if resp.Close && !own {
		return resp.StatusCode, errors.New("server closed the connection")
	}
	return resp.StatusCode, nil
}

// rssCmd prints the VmRSS and VmHWM (KiB) of a process and its children.
func rssCmd(args []string) error {
	fs := flag.NewFlagSet("rss", flag.ExitOnError)
	pid := fs.Int("pid", 0, "process")
	fs.Parse(args)
	rss, hwm, err := treeRSS(*pid)
	if err != nil {
		return err
	}
	fmt.Println(rss, hwm)
	return nil
}

// treeRSS sums VmRSS and VmHWM over pid and its descendants: nginx serves
// from a worker that is the master's child.
func treeRSS(pid int) (rss, hwm int64, err error) {
	for i, p := range treePIDs(pid) {
		r, h, e := statusKiB(p)
		if e != nil {
			if i == 0 {
				return 0, 0, e
			}
			continue
		}
		rss += r
		hwm += h
	}
	return rss, hwm, nil
}

// treePIDs lists pid and its descendants.
func treePIDs(pid int) []int {
	pids := []int{pid}
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name may hold spaces; fields start after the last ')'.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 {
			pp, _ := strconv.Atoi(f[1])
			children[pp] = append(children[pp], p)
		}
	}
	for i := 0; i < len(pids); i++ {
		pids = append(pids, children[pids[i]]...)
	}
	return pids
}

func statusKiB(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm, nil
}

// quiesce waits until the server stops burning CPU: a listing test can leave
// requests queued that wrk gave up on, and they must not bleed into the next
// figure.
func quiesce(args []string) error {
	fs := flag.NewFlagSet("quiesce", flag.ExitOnError)
	pid := fs.Int("pid", 0, "server process (children included)")
	limit := fs.Duration("timeout", 30*time.Second, "give up after")
	fs.Parse(args)
	deadline := time.Now().Add(*limit)
	prev, err := treeTicks(*pid)
	if err != nil {
		return err
	}
	for time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
		cur, err := treeTicks(*pid)
		if err != nil {
			return err
		}
		// Under 2 ticks (20 ms of CPU) in 300 ms: idle apart from timers.
		if cur-prev < 2 {
			return nil
		}
		prev = cur
	}
	return fmt.Errorf("process %d still busy after %s", *pid, *limit)
}

// treeTicks sums utime+stime of pid and its descendants.
func treeTicks(pid int) (int64, error) {
	var total int64
	for i, p := range treePIDs(pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			if i == 0 {
				return 0, err
			}
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		// After the name: state is f[0], utime and stime are f[11], f[12].
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			total += u + st
		}
	}
	return total, nil
}

// ticksCmd prints the CPU time (utime+stime, in clock ticks of 1/100 s) a
// process and its children have used, so that bench/run can tell how busy
// the server's core was during a load.
func ticksCmd(args []string) error {
	fs := flag.NewFlagSet("ticks", flag.ExitOnError)
	pid := fs.Int("pid", 0, "process (children included)")
	fs.Parse(args)
	t, err := treeTicks(*pid)
	if err != nil {
		return err
	}
	fmt.Println(t)
	return nil
}
