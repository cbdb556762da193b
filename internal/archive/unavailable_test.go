package archive

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/storage"
)

// downTree is a store that lists one folder of files and then, from the
// file named down onwards, cannot be reached.
type downTree struct {
	storage.Tree
	files    int
	down     int  // index of the first file that fails; -1: the listing fails
	readable bool // files before down can be read
}

func (t downTree) Stat(_ context.Context, name string) (storage.Info, error) {
	return storage.Info{Name: name, IsDir: name == "."}, nil
}

func (t downTree) List(context.Context, string) iter.Seq2[storage.Info, error] {
	return func(yield func(storage.Info, error) bool) {
		if t.down < 0 {
			yield(storage.Info{}, fmt.Errorf("s3 list: %w", storage.ErrUnavailable))
			return
		}
		for i := range t.files {
			if !yield(storage.Info{Name: fmt.Sprintf("f%02d", i), Size: 100 << 10}, nil) {
				return
			}
		}
	}
}

func (t downTree) Open(_ context.Context, name string) (storage.Object, error) {
	var i int
	fmt.Sscanf(name, "f%d", &i)
	if i >= t.down {
		return nil, fmt.Errorf("s3 stat: %w", storage.ErrUnavailable)
	}
	// Random bytes: compression must not keep them all in the buffer.
	b := make([]byte, 100<<10)
	rand.Read(b)
	return object{bytes.NewReader(b), name}, nil
}

type object struct {
	*bytes.Reader
	name string
}

func (o object) Info() storage.Info {
	return storage.Info{Name: o.name, Size: o.Size(), ModTime: time.Unix(1700000000, 0)}
}
func (o object) Close() error { return nil }

// A store that cannot be reached before the first bytes leave is a 503; one
// that goes away mid-stream breaks the response off, so that no client
// takes a truncated archive for a whole one.
func TestStoreUnavailable(t *testing.T) {
	for _, format := range Formats {
		w := httptest.NewRecorder()
		Serve(w, httptest.NewRequest("GET", "/?"+format, nil), format, "t", "", []Source{{Tree: downTree{down: -1}, Path: ".", Name: "t"}}, nil)
		if w.Code != 503 || w.Header().Get("Content-Disposition") != "" {
			t.Errorf("%s, listing fails: %d %q", format, w.Code, w.Header().Get("Content-Disposition"))
		}
		func() {
			defer func() {
				if p := recover(); !errors.Is(asErr(p), http.ErrAbortHandler) {
					t.Errorf("%s, store gone mid-stream: %v, want the response broken off", format, p)
				}
			}()
			w := httptest.NewRecorder()
			Serve(w, httptest.NewRequest("GET", "/?"+format, nil), format, "t", "", []Source{{Tree: downTree{files: 8, down: 4}, Path: ".", Name: "t"}}, nil)
			t.Errorf("%s, store gone mid-stream: answered %d with %d bytes", format, w.Code, w.Body.Len())
		}()
	}
	// Names that vanish (or are refused) are left out, as before.
	w := httptest.NewRecorder()
	tree := missingTree{downTree{files: 3, down: 99}}
	Serve(w, httptest.NewRequest("GET", "/?tar", nil), "tar", "t", "", []Source{{Tree: tree, Path: ".", Name: "t"}}, nil)
	if w.Code != 200 {
		t.Errorf("a name gone since the listing: %d", w.Code)
	}
}

func asErr(p any) error {
	err, _ := p.(error)
	return err
}

type missingTree struct{ downTree }

func (t missingTree) Open(ctx context.Context, name string) (storage.Object, error) {
	if name == "f01" {
		return nil, fs.ErrNotExist
	}
	return t.downTree.Open(ctx, name)
}
