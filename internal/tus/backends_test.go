package tus

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
	"github.com/ferry-sh/ferry/internal/storage/storagetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	weedtest.StopShared()
	os.Exit(code)
}

// node is one ferry's tus handler on a shared backend.
type node struct {
	tree storage.Tree
	h    *Handler
}

// nodes opens n handlers on one store: for a local folder, trees of their
// own on the same folder (as after a restart); for S3, clients of their own
// on the same bucket prefix (as separate machines). It returns them and the
// S3 store with the prefix, when S3.
func nodes(t *testing.T, kind string, n int) ([]node, *weedtest.Store, string) {
	place := storagetest.NewPlace(t, kind, "tus")
	var out []node
	for range n {
		tree := place.Tree(t)
		h, err := New(tree, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		out = append(out, node{tree, h})
	}
	return out, place.Store, place.Prefix
}

// call answers one tus request with h.
func call(h *Handler, method, id string, body io.Reader, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/tus/"+id, body)
	r.Header.Set("Tus-Resumable", Version)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r, id)
	return w
}

// cutAt yields data up to n bytes, then fails as a dropped link would.
type cutAt struct {
	data []byte
	n    int
}

func (c *cutAt) Read(p []byte) (int, error) {
	if c.n == 0 {
		return 0, errors.New("connection reset by peer")
	}
	k := copy(p, c.data[:min(len(c.data), c.n)])
	c.data, c.n = c.data[k:], c.n-k
	return k, nil
}

// An upload begun on one node, cut, resumed on another, cut again and
// finished on the first is stored byte-identical, and nothing of it is left.
func TestResumeAcrossNodes(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ns, store, prefix := nodes(t, kind, 2)
			a, b := ns[0], ns[1]
			data := make([]byte, 21<<20+77)
			rand.Read(data)
			w := call(a.h, "POST", "", nil, "Upload-Length", strconv.Itoa(len(data)), "Upload-Metadata", "filename "+b64("in/big.bin"))
			if w.Code != 201 {
				t.Fatalf("create: %d %s", w.Code, w.Body)
			}
			id := w.Header().Get("Location")
			off := 0
			for i, cut := range []int{7 << 20, 13<<20 + 5} {
				n := []node{a, b}[i%2]
				w := call(n.h, "PATCH", id, &cutAt{data: data[off:], n: cut - off}, "Content-Type", ContentType, "Upload-Offset", strconv.Itoa(off))
				if w.Code != 204 || w.Header().Get("Upload-Offset") != strconv.Itoa(cut) {
					t.Fatalf("cut PATCH %d: %d offset %s, want %d", i, w.Code, w.Header().Get("Upload-Offset"), cut)
				}
				other := []node{a, b}[(i+1)%2]
				head := call(other.h, "HEAD", id, nil)
				if head.Code != 200 || head.Header().Get("Upload-Offset") != strconv.Itoa(cut) ||
					head.Header().Get("Upload-Metadata") != "filename "+b64("in/big.bin") {
					t.Fatalf("HEAD on the other node: %d %v", head.Code, head.Header())
				}
				if _, err := a.tree.Stat(context.Background(), "in/big.bin"); err == nil {
					t.Fatal("partial upload visible")
				}
				off = cut
			}
			w = call(a.h, "PATCH", id, bytes.NewReader(data[off:]), "Content-Type", ContentType, "Upload-Offset", strconv.Itoa(off))
			if w.Code != 204 || w.Header().Get("Upload-Offset") != strconv.Itoa(len(data)) {
				t.Fatalf("last PATCH: %d %s", w.Code, w.Body)
			}
			o, err := b.tree.Open(context.Background(), "in/big.bin")
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(o)
			o.Close()
			if !bytes.Equal(got, data) {
				t.Fatalf("stored %d bytes, differ", len(got))
			}
			// The other node no longer knows it as unfinished.
			if head := call(b.h, "HEAD", id, nil); head.Code != 404 {
				t.Fatalf("HEAD of a finished upload on the other node: %d", head.Code)
			}
			if store != nil {
				if n := store.Uploads(t, prefix+"/"); n != 0 {
					t.Errorf("%d multipart uploads left in progress", n)
				}
				keys, err := store.Client().ListObjectsV2(context.Background(), s3ListInput(store.Bucket, prefix+"/.ferry/"))
				if err != nil {
					t.Fatal(err)
				}
				if len(keys.Contents) != 0 {
					t.Errorf("upload state left: %d keys, first %s", len(keys.Contents), *keys.Contents[0].Key)
				}
			}
		})
	}
}

// Uploads expire after the TTL on any node, and the store drops their data.
func TestExpiryOnS3(t *testing.T) {
	ns, store, prefix := nodes(t, "s3", 1)
	h := ns[0].h
	w := call(h, "POST", "", nil, "Upload-Length", "100", "Upload-Metadata", "filename "+b64("slow.bin"))
	id := w.Header().Get("Location")
	if w := call(h, "PATCH", id, strings.NewReader("0123456789"), "Content-Type", ContentType, "Upload-Offset", "0"); w.Code != 204 {
		t.Fatalf("PATCH: %d", w.Code)
	}
	h.now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	h.expire()
	if w := call(h, "HEAD", id, nil); w.Code != 404 {
		t.Errorf("HEAD of an expired upload: %d", w.Code)
	}
	keys, err := store.Client().ListObjectsV2(context.Background(), s3ListInput(store.Bucket, prefix+"/"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Contents) != 0 {
		t.Errorf("expired upload left %d keys", len(keys.Contents))
	}
}

func s3ListInput(bucket, prefix string) *awss3.ListObjectsV2Input {
	return &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
}
