package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
)

// s3Nodes starts n ferry processes serving the same prefix of one SeaweedFS
// bucket, as nodes behind a load balancer would.
func s3Nodes(t *testing.T, store *weedtest.Store, prefix string, n int, args ...string) []*Proc {
	t.Helper()
	var ps []*Proc
	for range n {
		ps = append(ps, s3Ferry(t, store, prefix, args...))
	}
	return ps
}

// held is a request body that starts only once every racer's server has
// asked for it (Expect: 100-continue): all of them have looked for the name
// and found it free, and race where the store decides.
type held struct {
	ready *sync.WaitGroup
	start chan struct{}
	once  sync.Once
	r     io.Reader
}

// arrive counts the racer in, once: when its body is asked for, or when it
// was answered without.
func (h *held) arrive() { h.once.Do(h.ready.Done) }

func (h *held) Read(p []byte) (int, error) {
	h.arrive()
	<-h.start
	return h.r.Read(p)
}

// Writes on an object store through the binary: several ferry nodes on one
// bucket, racing creators, uploads cut short, tus resumed across nodes.
func TestS3Writes(t *testing.T) {
	store := weedtest.Start(t)

	t.Run("racing creators across nodes", func(t *testing.T) {
		nodes := s3Nodes(t, store, "race", 2, "--upload")
		const racers = 8
		var ready sync.WaitGroup
		ready.Add(racers)
		start := make(chan struct{})
		go func() { ready.Wait(); close(start) }()
		client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{ExpectContinueTimeout: 30 * time.Second}}
		codes := make([]int, racers)
		bodies := make([][]byte, racers)
		var wg sync.WaitGroup
		for i := range racers {
			bodies[i] = bytes.Repeat([]byte{byte('a' + i)}, 100<<10+i)
			wg.Go(func() {
				body := &held{ready: &ready, start: start, r: bytes.NewReader(bodies[i])}
				req, _ := http.NewRequest("PUT", nodes[i%2].URL+"/race.bin", body)
				req.ContentLength = int64(len(bodies[i]))
				req.Header.Set("Expect", "100-continue")
				resp, err := client.Do(req)
				body.arrive()
				if err != nil {
					t.Errorf("racer %d: %v", i, err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes[i] = resp.StatusCode
			})
		}
		wg.Wait()
		won := 0
		for _, c := range codes {
			switch c {
			case 201:
				won++
			case 409:
			default:
				t.Errorf("a racer got %d", c)
			}
		}
		if won != 1 {
			t.Fatalf("codes %v: %d got 201, want exactly 1", codes, won)
		}
		for _, n := range nodes {
			_, got := Do(t, "GET", n.URL+"/race.bin", nil)
			found := false
			for _, b := range bodies {
				found = found || bytes.Equal(got, b)
			}
			if !found {
				t.Fatalf("race.bin through %s is no racer's whole body (%d bytes)", n.URL, len(got))
			}
		}
	})

	t.Run("cut short", func(t *testing.T) {
		p := s3Nodes(t, store, "cut", 1, "-w")[0]
		if r, _ := Do(t, "PUT", p.URL+"/keep.bin", strings.NewReader("keep")); r.StatusCode != 201 {
			t.Fatalf("PUT: %d", r.StatusCode)
		}
		chunk := bytes.Repeat([]byte("d"), 1<<20)
		for _, head := range []string{
			"PUT /cut.bin HTTP/1.1\r\nContent-Length: 41943040\r\n",
			"PUT /keep.bin HTTP/1.1\r\nContent-Length: 41943040\r\n",
			"PUT /chunked.bin HTTP/1.1\r\nTransfer-Encoding: chunked\r\n",
			"POST / HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 41943040\r\n",
		} {
			conn, err := net.Dial("tcp", wrAddr(p))
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(conn, head+"Host: "+wrAddr(p)+"\r\n\r\n")
			if strings.HasPrefix(head, "POST") {
				io.WriteString(conn, "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"mp.bin\"\r\n\r\n")
			}
			// 20 MiB: more than two parts of a multipart upload.
			for range 20 {
				if strings.Contains(head, "chunked") {
					fmt.Fprintf(conn, "%x\r\n", len(chunk))
					conn.Write(chunk)
					io.WriteString(conn, "\r\n")
				} else {
					conn.Write(chunk)
				}
			}
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
		// The uploads are aborted as their reads fail; wait for the store
		// to say so.
		deadline := time.Now().Add(30 * time.Second)
		for store.Uploads(t, "cut/") != 0 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if n := store.Uploads(t, "cut/"); n != 0 {
			t.Errorf("%d multipart uploads left in progress", n)
		}
		for _, name := range []string{"cut.bin", "chunked.bin", "mp.bin"} {
			if r, _ := Do(t, "GET", p.URL+"/"+name, nil); r.StatusCode != 404 {
				t.Errorf("GET /%s after a cut upload: %d", name, r.StatusCode)
			}
		}
		if listed(t, p.URL+"/", "cut.bin") || listed(t, p.URL+"/", "mp.bin") {
			t.Error("a cut upload is listed")
		}
		if _, b := Do(t, "GET", p.URL+"/keep.bin", nil); string(b) != "keep" {
			t.Errorf("keep.bin = %d bytes", len(b))
		}
	})

	t.Run("tus across nodes", func(t *testing.T) {
		nodes := s3Nodes(t, store, "tus", 2, "--upload")
		a, b := newTus(t, nodes[0].URL), newTus(t, nodes[1].URL)
		data := make([]byte, 21<<20+5)
		rand.Read(data)
		u, status := a.create("/in/", "big.bin", int64(len(data)))
		if status != 201 {
			t.Fatalf("create on A: %d", status)
		}
		sendCut(t, u, 0, data, 13<<20)
		// The same upload through B: its URL on B's address.
		ub := strings.Replace(u, nodes[0].URL, nodes[1].URL, 1)
		var off int64
		// A stores the cut part after the hang-up: wait until B sees an offset
		// that has stopped moving (a loaded machine takes its time).
		deadline := time.Now().Add(30 * time.Second)
		for {
			off = b.offset(ub)
			time.Sleep(200 * time.Millisecond)
			if (off > 0 && b.offset(ub) == off) || time.Now().After(deadline) {
				break
			}
		}
		if off <= 0 || off > 13<<20 {
			t.Fatalf("offset on B after the cut on A: %d", off)
		}
		if r, _ := Do(t, "GET", nodes[1].URL+"/in/big.bin", nil); r.StatusCode != 404 {
			t.Fatalf("partial upload served: %d", r.StatusCode)
		}
		// A still storing the cut part answers 409 on B (the offset is not
		// final yet): as a tus client does, ask the offset again and retry.
		deadline = time.Now().Add(60 * time.Second)
		for {
			r := b.patch(ub, off, data[off:])
			if r.StatusCode == 409 && time.Now().Before(deadline) {
				time.Sleep(500 * time.Millisecond)
				off = b.offset(ub)
				continue
			}
			if r.StatusCode != 204 || r.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
				t.Fatalf("PATCH on B: %s offset %s", r.Status, r.Header.Get("Upload-Offset"))
			}
			break
		}
		_, got := Do(t, "GET", nodes[0].URL+"/in/big.bin", nil)
		if sha256.Sum256(got) != sha256.Sum256(data) {
			t.Fatalf("stored through A: %d bytes, differ", len(got))
		}
		if n := store.Uploads(t, "tus/"); n != 0 {
			t.Errorf("%d multipart uploads left in progress", n)
		}
	})

	t.Run("5 GiB upload in bounded memory", func(t *testing.T) {
		if os.Getenv("FERRY_BIG") != "1" || testing.Short() {
			t.Skip("set FERRY_BIG=1 to upload 5 GiB to SeaweedFS")
		}
		p := s3Nodes(t, store, "big", 1, "--upload", "-q")[0]
		const size = 5 << 30
		block := wrRandom(t, 1<<20+7)
		req, _ := http.NewRequest("PUT", p.URL+"/five.bin", &wrPattern{block: block, n: size})
		req.ContentLength = size
		start := time.Now()
		resp, err := (&http.Client{Timeout: 30 * time.Minute}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != 201 {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
		rss := procStatus(t, p.cmd.Process.Pid, "VmHWM")
		t.Logf("PUT 5 GiB to SeaweedFS: %.0fs, %.0f MiB/s, ferry peak RSS %.1f MiB", took.Seconds(), size/took.Seconds()/(1<<20), float64(rss)/1024)
		if rss > 96<<10 {
			t.Errorf("peak RSS %d KiB, want under 96 MiB", rss)
		}
		if r, _ := Do(t, "HEAD", p.URL+"/five.bin", nil); r.ContentLength != size {
			t.Errorf("HEAD: %d bytes", r.ContentLength)
		}
	})
}
