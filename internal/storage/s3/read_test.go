package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/s3"
	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
)

// counter is a proxy in front of the store that counts what ferry asks it:
// requests by method, and the connections they came on.
type counter struct {
	mu    sync.Mutex
	reqs  map[string]int
	conns int
}

func (c *counter) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.reqs
	c.reqs = map[string]int{}
	return r
}

// A read costs the store as few requests as it can: one GET for a small
// file (no HEAD first), one for a range near the start of a large one, a
// handful growing eightfold for a whole large one; and the connections are
// reused, not dropped with each window.
func TestReadRequests(t *testing.T) {
	store := weedtest.Shared(t)
	store.SetEnv(t)
	target, _ := url.Parse(store.Endpoint)
	c := &counter{reqs: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.reqs[r.Method]++
		c.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			c.mu.Lock()
			c.conns++
			c.mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	ctx := context.Background()
	tr, err := s3.Open(ctx, s3.Config{Bucket: store.Bucket, Prefix: "reads/" + strings.ToLower(rand.Text()), Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	small, big := make([]byte, 1000), make([]byte, 5<<20+7)
	rand.Read(small)
	rand.Read(big)
	for name, data := range map[string][]byte{"small.bin": small, "d/big.bin": big, "empty": nil} {
		st, err := tr.Stage(ctx, name, int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		st.Write(data)
		if _, err := st.Commit(ctx, false); err != nil {
			t.Fatal(err)
		}
	}

	check := func(what string, want map[string]int) {
		t.Helper()
		got := c.reset()
		for _, m := range []string{"GET", "HEAD"} {
			if got[m] != want[m] {
				t.Errorf("%s: %d %s requests to the store, want %d (%v)", what, got[m], m, want[m], got)
			}
		}
	}
	open := func(name string) storage.Object {
		t.Helper()
		o, err := tr.Open(ctx, name)
		if err != nil {
			t.Fatalf("Open %s: %v", name, err)
		}
		return o
	}
	c.reset()
	c.mu.Lock()
	c.conns = 0
	c.mu.Unlock()

	o := open("small.bin")
	got, _ := io.ReadAll(o)
	buf := make([]byte, 100)
	if n, err := o.ReadAt(buf, 900); n != 100 || err != nil || !bytes.Equal(buf, small[900:]) || !bytes.Equal(got, small) {
		t.Fatalf("small file: ReadAt %d %v, Read %d bytes", n, err, len(got))
	}
	o.Close()
	check("a small file read whole and at an offset", map[string]int{"GET": 1})

	hinted := func(o storage.Object, off, n int64) []byte {
		o.(interface{ Hint(int64) }).Hint(n)
		o.Seek(off, io.SeekStart)
		b := make([]byte, n)
		if _, err := io.ReadFull(o, b); err != nil {
			t.Fatalf("range %d+%d: %v", off, n, err)
		}
		return b
	}
	o = open("d/big.bin")
	if b := hinted(o, 1000, 1000); !bytes.Equal(b, big[1000:2000]) {
		t.Fatal("range near the start differs")
	}
	o.Close()
	check("a range within the first window", map[string]int{"GET": 1})

	o = open("d/big.bin")
	if b := hinted(o, 60000, 10000); !bytes.Equal(b, big[60000:70000]) {
		t.Fatal("range across the first window's end differs")
	}
	o.Close()
	check("a range across the first window's end", map[string]int{"GET": 2})

	o = open("d/big.bin")
	if b := hinted(o, 3<<20, 100); !bytes.Equal(b, big[3<<20:3<<20+100]) {
		t.Fatal("range far in differs")
	}
	o.Close()
	check("a range far into the file", map[string]int{"GET": 2})

	o = open("d/big.bin")
	if got, err := io.ReadAll(o); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("whole large file: %d bytes, %v", len(got), err)
	}
	o.Close()
	// 64 KiB, then 512 KiB, 4 MiB and the rest.
	check("a whole large file", map[string]int{"GET": 4})

	o = open("empty")
	if got, err := io.ReadAll(o); err != nil || len(got) != 0 || o.Info().Size != 0 {
		t.Fatalf("empty file: %d bytes, size %d, %v", len(got), o.Info().Size, err)
	}
	o.Close()
	c.reset()

	c.mu.Lock()
	conns := c.conns
	c.mu.Unlock()
	if conns > 2 {
		t.Errorf("%d connections to the store for reads one after the other: windows left unread drop theirs", conns)
	}

	if _, err := tr.Open(ctx, "d"); !errors.Is(err, storage.ErrIsDir) {
		t.Errorf("Open of a folder: %v", err)
	}
	if _, err := tr.Open(ctx, "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of nothing: %v", err)
	}
	if _, err := tr.Open(ctx, "small.bin/x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open under a file: %v", err)
	}
}
