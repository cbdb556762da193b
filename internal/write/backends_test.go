package write

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/policy"
	"github.com/ferry-sh/ferry/internal/storage/s3"
	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
	"github.com/ferry-sh/ferry/internal/storage/storagetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	weedtest.StopShared()
	os.Exit(code)
}

// serve answers one request with h and returns the status and body.
func serve(h *Handler, method, target string, body io.Reader, hdr ...string) (int, string) {
	r := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	name, _, err := rootfs.ParseURLPath(r.URL.EscapedPath())
	if err != nil {
		return 400, "bad path"
	}
	w := httptest.NewRecorder()
	switch method {
	case http.MethodPut:
		h.Put(w, r, name)
	case http.MethodPost:
		h.Post(w, r, name)
	case "MKCOL":
		h.Mkcol(w, r, name)
	case http.MethodDelete:
		h.Delete(w, r, name)
	case "MOVE", "COPY":
		h.Move(w, r, name, method == "COPY")
	}
	return w.Code, w.Body.String()
}

// Every write answers the same on every backend.
func TestWritesOnBackends(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			tr := storagetest.NewPlace(t, kind, "w").Tree(t)
			h := New(tr, Options{Upload: true, Delete: true, Move: true})
			w := New(tr, Options{Upload: true, Delete: true, Move: true, Overwrite: true})
			steps := []struct {
				h            *Handler
				method, path string
				body         string
				hdr          []string
				want         int
			}{
				{h, "PUT", "/a.txt", "one", nil, 201},
				{h, "PUT", "/a.txt", "two", nil, 409},
				{w, "PUT", "/a.txt", "three", nil, 204},
				{h, "PUT", "/deep/er/b.txt", "b", nil, 201},
				{h, "PUT", "/deep", "x", nil, 409},
				{h, "PUT", "/a.txt/under", "x", nil, 409},
				{h, "MKCOL", "/box/", "", nil, 201},
				{h, "MKCOL", "/box/", "", nil, 409},
				{h, "MKCOL", "/none/box/", "", nil, 409},
				{h, "COPY", "/deep", "", []string{"Destination", "http://example.com/deep2"}, 201},
				{h, "MOVE", "/a.txt", "", []string{"Destination", "http://example.com/box/a.txt"}, 201},
				{h, "COPY", "/box/a.txt", "", []string{"Destination", "http://example.com/deep2/er/b.txt"}, 412},
				{w, "COPY", "/box/a.txt", "", []string{"Destination", "http://example.com/deep2/er/b.txt"}, 204},
				{h, "MOVE", "/box", "", []string{"Destination", "http://example.com/nowhere/box"}, 409},
				{h, "DELETE", "/deep", "", nil, 204},
				{h, "DELETE", "/deep", "", nil, 404},
			}
			for _, s := range steps {
				code, body := serve(s.h, s.method, s.path, strings.NewReader(s.body), s.hdr...)
				if code != s.want {
					t.Fatalf("%s %s: %d %q, want %d", s.method, s.path, code, body, s.want)
				}
			}
			if got := storagetest.List(t, tr, "."); !slices.Equal(got, []string{"box/", "deep2/"}) {
				t.Fatalf("root holds %v", got)
			}
			if got := string(storagetest.Read(t, tr, "box/a.txt")); got != "three" {
				t.Fatalf("box/a.txt = %q", got)
			}
			if got := string(storagetest.Read(t, tr, "deep2/er/b.txt")); got != "three" {
				t.Fatalf("deep2/er/b.txt = %q", got)
			}

			// A multipart POST of several files and a folder: all or nothing.
			body, ct := multipartBody(t, map[string]string{"p/one.txt": "1", "p/two/2.txt": "22", "three.bin": strings.Repeat("3", 9<<20)})
			if code, msg := serve(h, "POST", "/box/", body, "Content-Type", ct); code != 201 {
				t.Fatalf("POST: %d %s", code, msg)
			}
			if got := storagetest.List(t, tr, "box/p"); !slices.Equal(got, []string{"one.txt", "two/"}) {
				t.Fatalf("box/p holds %v", got)
			}
			if got := string(storagetest.Read(t, tr, "box/three.bin")); len(got) != 9<<20 {
				t.Fatalf("three.bin: %d bytes", len(got))
			}
			body, ct = multipartBody(t, map[string]string{"q/new.txt": "n", "big.bin": strings.Repeat("b", 9<<20), "p/one.txt": "taken"})
			if code, _ := serve(h, "POST", "/box/", body, "Content-Type", ct); code != 409 {
				t.Fatalf("POST over a taken name: %d", code)
			}
			if got := storagetest.List(t, tr, "box"); !slices.Equal(got, []string{"a.txt", "p/", "three.bin"}) {
				t.Fatalf("after a refused POST box holds %v", got)
			}
		})
	}
}

// barrier holds every racer's body until all of them are being read, so
// that all have passed the early check for the name and race at the commit.
type barrier struct {
	ready sync.WaitGroup
	go_   chan struct{}
}

type heldBody struct {
	b     *barrier
	once  sync.Once
	inner io.Reader
}

func (r *heldBody) Read(p []byte) (int, error) {
	r.once.Do(func() { r.b.ready.Done(); <-r.b.go_ })
	return r.inner.Read(p)
}

// Eight clients creating one name at once: exactly one 201, the others
// 409, and the file is one of theirs whole.
func TestCreateRaceOnBackends(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			tr := storagetest.NewPlace(t, kind, "w").Tree(t)
			h := New(tr, Options{Upload: true})
			const racers = 8
			bar := &barrier{go_: make(chan struct{})}
			bar.ready.Add(racers)
			go func() { bar.ready.Wait(); close(bar.go_) }()
			codes := make([]int, racers)
			bodies := make([]string, racers)
			var wg sync.WaitGroup
			for i := range racers {
				bodies[i] = strings.Repeat(string(rune('a'+i)), 1000+i)
				wg.Go(func() {
					codes[i], _ = serve(h, "PUT", "/race.txt", &heldBody{b: bar, inner: strings.NewReader(bodies[i])})
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
					t.Errorf("racer answered %d", c)
				}
			}
			if won != 1 {
				t.Fatalf("codes %v: %d won, want 1", codes, won)
			}
			if got := string(storagetest.Read(t, tr, "race.txt")); !slices.Contains(bodies, got) {
				t.Fatalf("race.txt is no racer's whole body (%d bytes)", len(got))
			}
			if got := storagetest.List(t, tr, "."); !slices.Equal(got, []string{"race.txt"}) {
				t.Fatalf("root holds %v", got)
			}
		})
	}
}

// cutBody yields n bytes, then fails as a client hanging up would.
type cutBody struct{ n int }

func (c *cutBody) Read(p []byte) (int, error) {
	if c.n == 0 {
		return 0, errors.New("connection reset by peer")
	}
	k := min(len(p), c.n)
	clear(p[:k])
	c.n -= k
	return k, nil
}

// A PUT or POST cut short leaves nothing visible, and on an object store no
// multipart upload in progress (nothing billed).
func TestCutShortOnBackends(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			place := storagetest.NewPlace(t, kind, "w")
			tr := place.Tree(t)
			h := New(tr, Options{Upload: true, Overwrite: true})
			if code, _ := serve(h, "PUT", "/keep.bin", strings.NewReader("keep")); code != 201 {
				t.Fatal(code)
			}
			if place.Store != nil {
				// The count below can see an upload in progress.
				st, err := tr.Stage(context.Background(), "probe.bin", -1)
				if err != nil {
					t.Fatal(err)
				}
				st.Write(make([]byte, 9<<20))
				st.(storage.Sealer).Seal(context.Background())
				if n := place.Store.Uploads(t, place.Prefix+"/"); n != 1 {
					t.Fatalf("%d multipart uploads in progress, want the probe's", n)
				}
				st.Abort()
			}
			for _, path := range []string{"/cut.bin", "/keep.bin", "/new/dir/cut.bin"} {
				r := httptest.NewRequest("PUT", path, &cutBody{n: 21 << 20})
				r.ContentLength = 40 << 20
				name, _, _ := rootfs.ParseURLPath(path)
				w := httptest.NewRecorder()
				h.Put(w, r, name)
				if w.Code != 400 {
					t.Fatalf("cut PUT %s: %d %s", path, w.Code, w.Body)
				}
			}
			mp := io.MultiReader(strings.NewReader("--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"small.txt\"\r\n\r\nsmall\r\n"+
				"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"cut.bin\"\r\n\r\n"), &cutBody{n: 19 << 20})
			if code, _ := serve(h, "POST", "/", mp, "Content-Type", "multipart/form-data; boundary=B"); code != 400 {
				t.Fatalf("cut POST: %d", code)
			}
			if got := storagetest.List(t, tr, "."); !slices.Equal(got, []string{"keep.bin"}) {
				t.Fatalf("after cut uploads the root holds %v", got)
			}
			if got := string(storagetest.Read(t, tr, "keep.bin")); got != "keep" {
				t.Fatalf("keep.bin = %d bytes", len(got))
			}
			if place.Store != nil {
				if n := place.Store.Uploads(t, place.Prefix+"/"); n != 0 {
					t.Fatalf("%d multipart uploads left in progress", n)
				}
			}
		})
	}
}

// The store down in the middle: 503 with a reason, never a 500.
func TestStoreDownIsUnavailable(t *testing.T) {
	store := weedtest.Start(t)
	store.SetEnv(t)
	st, err := s3.Open(context.Background(), s3.Config{Bucket: store.Bucket, Prefix: "down", Timeout: 2e9})
	if err != nil {
		t.Fatal(err)
	}
	h := New(policy.Wrap(st, policy.Rules{}), Options{Upload: true, Delete: true})
	if code, _ := serve(h, "PUT", "/x.txt", strings.NewReader("x")); code != 201 {
		t.Fatalf("PUT: %d", code)
	}
	store.Stop()
	for _, c := range []struct{ method, path string }{{"PUT", "/y.txt"}, {"DELETE", "/x.txt"}, {"MKCOL", "/d/"}} {
		code, body := serve(h, c.method, c.path, bytes.NewReader(nil))
		if code != 503 || !strings.Contains(body, "storage cannot be reached") {
			t.Errorf("%s %s with the store down: %d %q", c.method, c.path, code, body)
		}
	}
}
