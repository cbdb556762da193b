package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// many measures a server under many clients at once (issue 16, target 5):
// n keep-alive connections, each from a loopback address shared by
// per-addr connections (Linux routes all of 127/8 to lo; servers that
// limit requests per client address see n/per-addr clients), first each
// answered a HEAD, so that the server holds all n at once; then all GET the
// file on those connections, each body compared with -file as it arrives.
// It prints the wall time of the downloads, how many failed, and the
// server's peak RSS (VmHWM, with its children) before and after, per
// download. The caller raises the descriptor limit (Go raises the soft one
// to the hard one by itself).
func many(args []string) error {
	fs := flag.NewFlagSet("many", flag.ExitOnError)
	u := fs.String("url", "", "file to download (HTTP, a loopback address)")
	file := fs.String("file", "", "the file's content, to compare every body with")
	n := fs.Int("n", 10000, "clients, each with its own keep-alive connection")
	perAddr := fs.Int("per-addr", 50, "connections per loopback source address")
	dialing := fs.Int("dialing", 64, "connections being set up at once (the listen backlog is finite)")
	pid := fs.Int("pid", 0, "server process, for its peak RSS")
	fs.Parse(args)
	pu, err := url.Parse(*u)
	if err != nil {
		return err
	}
	want, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	_, hwm0, err := treeRSS(*pid)
	if err != nil {
		return err
	}
	head := fmt.Sprintf("HEAD %s HTTP/1.1\r\nHost: %s\r\n\r\n", pu.RequestURI(), pu.Host)
	get := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", pu.RequestURI(), pu.Host)
	from := func(i int) net.IP {
		a := i / *perAddr
		return net.IPv4(127, 1, byte(a/250), byte(a%250+1))
	}

	type conn struct {
		c  net.Conn
		br *bufio.Reader
	}
	conns := make([]*conn, *n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.c.Close()
			}
		}
	}()
	var failed atomic.Int64
	var firstErr sync.Once
	fail := func(i int, err error) {
		failed.Add(1)
		firstErr.Do(func() { fmt.Fprintf(os.Stderr, "loadtool many: client %d from %s: %v\n", i, from(i), err) })
	}
	deadline := time.Now().Add(5 * time.Minute)
	sem := make(chan struct{}, *dialing)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range *n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: from(i)}, Timeout: 30 * time.Second}
			c, err := d.Dial("tcp", pu.Host)
			if err != nil {
				fail(i, err)
				return
			}
			c.SetDeadline(deadline)
			cc := &conn{c: c, br: bufio.NewReader(c)}
			conns[i] = cc
			if _, err := io.WriteString(c, head); err != nil {
				fail(i, err)
				return
			}
			resp, err := http.ReadResponse(cc.br, &http.Request{Method: "HEAD"})
			if err != nil {
				fail(i, err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				fail(i, fmt.Errorf("HEAD: %s", resp.Status))
			}
		})
	}
	wg.Wait()
	connected := time.Since(t0)
	if failed.Load() > 0 {
		return fmt.Errorf("%d of %d connections failed", failed.Load(), *n)
	}

	t0 = time.Now()
	for i, cc := range conns {
		wg.Go(func() {
			if _, err := io.WriteString(cc.c, get); err != nil {
				fail(i, err)
				return
			}
			resp, err := http.ReadResponse(cc.br, nil)
			if err != nil {
				fail(i, err)
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				fail(i, fmt.Errorf("GET: %s", resp.Status))
				return
			}
			buf := make([]byte, 16<<10)
			off := 0
			for {
				m, err := resp.Body.Read(buf)
				if off+m > len(want) || !bytes.Equal(buf[:m], want[off:off+m]) {
					fail(i, fmt.Errorf("body differs from %s at byte %d", *file, off))
					return
				}
				off += m
				if err == io.EOF {
					break
				}
				if err != nil {
					fail(i, err)
					return
				}
			}
			if off != len(want) {
				fail(i, fmt.Errorf("%d bytes, want %d", off, len(want)))
			}
		})
	}
	wg.Wait()
	took := time.Since(t0)
	_, hwm, _ := treeRSS(*pid)
	fmt.Printf("clients=%d\naddresses=%d\nconnect_s=%.3f\nwall_s=%.3f\nfailed=%d\nhwm_start_kib=%d\nhwm_kib=%d\nper_download_kib=%.1f\n",
		*n, (*n+*perAddr-1) / *perAddr, connected.Seconds(), took.Seconds(), failed.Load(), hwm0, hwm, float64(hwm-hwm0)/float64(*n))
	if failed.Load() > 0 {
		return fmt.Errorf("%d of %d downloads failed", failed.Load(), *n)
	}
	return nil
}
