package fileserver

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/storage"
)

// remoteTree is a store read over the network, as the S3 backend is: its
// objects have no local file, keep their own ETag, and log every read.
type remoteTree struct {
	storage.Tree
	files map[string][]byte
	log   *[]string
}

func (t remoteTree) Open(_ context.Context, name string) (storage.Object, error) {
	b, ok := t.files[name]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return &remoteObject{r: bytes.NewReader(b), log: t.log, info: storage.Info{
		Name: name, Size: int64(len(b)), ModTime: time.Unix(1700000000, 0), ETag: `"store-etag"`,
	}}, nil
}

type remoteObject struct {
	r    *bytes.Reader
	info storage.Info
	log  *[]string
	hint int64
	pos  int64
	open bool // a "GET" is under way at pos
}

func (o *remoteObject) Info() storage.Info { return o.info }
func (o *remoteObject) Close() error       { return nil }
func (o *remoteObject) Hint(n int64)       { o.hint = n }

func (o *remoteObject) Seek(off int64, whence int) (int64, error) {
	n, err := o.r.Seek(off, whence)
	if n != o.pos {
		o.open = false
	}
	o.pos = n
	return n, err
}

func (o *remoteObject) Read(p []byte) (int, error) {
	if !o.open {
		*o.log = append(*o.log, fmt.Sprintf("get %d hint %d", o.pos, o.hint))
		o.open, o.hint = true, 0
	}
	n, err := o.r.Read(p)
	o.pos += int64(n)
	return n, err
}

func (o *remoteObject) ReadAt(p []byte, off int64) (int, error) {
	*o.log = append(*o.log, fmt.Sprintf("readat %d+%d", off, len(p)))
	return o.r.ReadAt(p, off)
}

// TestRemoteObject: a file of a store without local files is served with
// the store's ETag; a single range is hinted, so the first (and only) GET
// asks for exactly it; sniffing the type of a name without an extension
// reads only its first bytes; a 304 reads nothing.
func TestRemoteObject(t *testing.T) {
	data := make([]byte, 10_000)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	var log []string
	s := New(remoteTree{files: map[string][]byte{"f.bin": data, "noext": data}, log: &log}, Options{})
	do := func(name string, hdr ...string) *httptest.ResponseRecorder {
		log = nil
		r := httptest.NewRequest("GET", "/"+name, nil)
		for i := 0; i < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		s.Serve(w, r, name, false)
		return w
	}
	w := do("f.bin", "Range", "bytes=1000-1999")
	if w.Code != 206 || w.Header().Get("Etag") != `"store-etag"` || !bytes.Equal(w.Body.Bytes(), data[1000:2000]) {
		t.Fatalf("range: %d %q %d bytes", w.Code, w.Header().Get("Etag"), w.Body.Len())
	}
	if fmt.Sprint(log) != "[get 1000 hint 1000]" {
		t.Errorf("range reads: %v", log)
	}
	w = do("noext", "Range", "bytes=-100")
	if w.Code != 206 || !bytes.Equal(w.Body.Bytes(), data[len(data)-100:]) || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("suffix: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if fmt.Sprint(log) != "[readat 0+512 get 9900 hint 100]" {
		t.Errorf("sniff and suffix reads: %v", log)
	}
	w = do("f.bin", "If-None-Match", `"store-etag"`)
	if w.Code != 304 || len(log) != 0 {
		t.Errorf("If-None-Match: %d, reads %v", w.Code, log)
	}
	w = do("f.bin", "Range", "bytes=0-9,20-29")
	if w.Code != 206 || len(log) != 2 || !bytes.Contains(w.Body.Bytes(), data[20:30]) {
		t.Errorf("multi-range: %d, reads %v", w.Code, log)
	}
	w = do("f.bin")
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), data) || fmt.Sprint(log) != "[get 0 hint 0]" {
		t.Errorf("whole: %d, reads %v", w.Code, log)
	}
	if w := do("missing"); w.Code != 404 {
		t.Errorf("missing: %d", w.Code)
	}
}
