package write

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/local"
	"github.com/ferry-sh/ferry/internal/storage/policy"
)

// newHandler serves a fresh folder "root" inside a temp folder that also
// holds a canary file, so tests can see any write that leaks out.
func newHandler(t testing.TB, opts Options) (*Handler, string, string) {
	t.Helper()
	outer := t.TempDir()
	root := filepath.Join(outer, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outer, "canary"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, _ := newHandlerOn(t, root, opts, nil)
	return h, root, outer
}

// newHandlerOn serves root through the policy layer; wrap (if not nil)
// stands between the policy and the backend.
func newHandlerOn(t testing.TB, root string, opts Options, wrap func(storage.Tree) storage.Tree) (*Handler, *local.Tree) {
	t.Helper()
	lt, err := local.Open(root, rootfs.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lt.Close() })
	var backend storage.Tree = lt
	if wrap != nil {
		backend = wrap(lt)
	}
	return New(policy.Wrap(backend, policy.Rules{Hidden: opts.Hidden}), opts), lt
}

// faultTree stages writes that fail after n bytes with err, as a disk that
// fills up would.
type faultTree struct {
	storage.Tree
	n   int
	err error
}

func (f *faultTree) Unwrap() storage.Tree { return f.Tree }

func (f *faultTree) Stage(ctx context.Context, name string, size int64) (storage.Staged, error) {
	st, err := f.Tree.Stage(ctx, name, size)
	if err != nil {
		return nil, err
	}
	return &faultStaged{Staged: st, w: &failAfter{w: st, n: f.n, err: f.err}}, nil
}

type faultStaged struct {
	storage.Staged
	w io.Writer
}

func (s *faultStaged) Write(p []byte) (int, error) { return s.w.Write(p) }

// tree lists everything under dir (temporary files included), sorted.
func tree(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

// failAfter is a file that fills up after n bytes.
type failAfter struct {
	w   io.Writer
	n   int
	err error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n, _ := f.w.Write(p[:f.n])
		f.n = 0
		return n, rootfs.WriteErr(&fs.PathError{Op: "write", Path: "x", Err: f.err})
	}
	f.n -= len(p)
	return f.w.Write(p)
}

func multipartBody(t testing.TB, files map[string]string) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for name, content := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="f"; filename=%q`, name))
		pw, _ := mw.CreatePart(h)
		io.WriteString(pw, content)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func TestFullDiskLeavesNothing(t *testing.T) {
	for _, tc := range []struct{ name, method, path string }{
		{"put", http.MethodPut, "/new/sub/x.bin"},
		{"post", http.MethodPost, "/"},
	} {
		for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT} {
			t.Run(tc.name+"/"+errno.Error(), func(t *testing.T) {
				root := t.TempDir()
				h, _ := newHandlerOn(t, root, Options{Upload: true}, func(b storage.Tree) storage.Tree {
					return &faultTree{Tree: b, n: 100 << 10, err: errno}
				})
				payload := strings.Repeat("z", 300<<10)
				var body io.Reader = strings.NewReader(payload)
				ct := ""
				if tc.method == http.MethodPost {
					var b *bytes.Buffer
					b, ct = multipartBody(t, map[string]string{"a.txt": "small", "dir/b.bin": payload})
					body = b
				}
				r := httptest.NewRequest(tc.method, tc.path, body)
				if ct != "" {
					r.Header.Set("Content-Type", ct)
				}
				w := httptest.NewRecorder()
				name, _, _ := rootfs.ParseURLPath(tc.path)
				if tc.method == http.MethodPut {
					h.Put(w, r, name)
				} else {
					h.Post(w, r, name)
				}
				if w.Code != http.StatusInsufficientStorage {
					t.Fatalf("status %d, want 507; body %q", w.Code, w.Body)
				}
				if got := tree(t, root); len(got) != 0 {
					t.Fatalf("left behind: %v", got)
				}
			})
		}
	}
}

func TestCloseRemovesPartialUploads(t *testing.T) {
	root := t.TempDir()
	h, tr := newHandlerOn(t, root, Options{Upload: true}, nil)
	pr, pw := io.Pipe()
	r := httptest.NewRequest(http.MethodPut, "/x.bin", pr)
	r.ContentLength = -1
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { h.Put(w, r, "x.bin"); close(done) }()
	pw.Write(make([]byte, 1000))
	deadline := time.Now().Add(5 * time.Second)
	for len(tree(t, root)) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := tree(t, root); len(got) != 1 || !strings.HasPrefix(got[0], rootfs.TempPrefix) {
		t.Fatalf("during upload: %v", got)
	}
	h.Close()
	tr.Close()
	if got := tree(t, root); len(got) != 0 {
		t.Fatalf("after Close: %v", got)
	}
	pw.Close()
	<-done
	if got := tree(t, root); len(got) != 0 {
		t.Fatalf("after the handler: %v (status %d)", got, w.Code)
	}
	if w.Code < 400 {
		t.Fatalf("an upload cut by Close answered %d", w.Code)
	}
}

// FuzzPost sends arbitrary multipart bodies to the POST handler: it must
// never panic, never write outside the folder, never leave temporary files,
// and answer one of the statuses a client can expect.
func FuzzPost(f *testing.F) {
	seed := func(boundary string, parts ...string) {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString("--" + boundary + "\r\n" + p + "\r\n")
		}
		b.WriteString("--" + boundary + "--\r\n")
		f.Add([]byte(b.String()), boundary)
	}
	for _, name := range []string{"a.txt", "sub/x.txt", "../../x", `..\x`, `C:\x`, "/etc/x", ".env", "", "a/../../b", "x\x01"} {
		seed("B0UNDARY", fmt.Sprintf("Content-Disposition: form-data; name=\"f\"; filename=\"%s\"\r\n\r\ncontent", name))
	}
	seed("xyz", "Content-Disposition: form-data; name=\"mkdir\"\r\n\r\nnewdir")
	seed("xyz", "Content-Disposition: form-data; name=\"mkdir\"\r\n\r\n../up")
	seed("xyz", "Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''..%2F..%2Fx\r\n\r\ndata")
	seed("xyz", "Content-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n1", "Content-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n2")
	seed("q", "Content-Disposition: attachment; filename=\"a\"\r\n\r\n1")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"cut\"\r\n\r\nno end"), "b")
	f.Add([]byte("garbage"), "b")

	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		ct := mime.FormatMediaType("multipart/form-data", map[string]string{"boundary": boundary})
		if ct == "" {
			return
		}
		h, root, outer := newHandler(t, Options{Upload: true, MaxUpload: 4096})
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		h.Post(w, r, ".")
		switch w.Code {
		case 201, 303, 400, 409, 413:
		default:
			t.Fatalf("status %d: %q", w.Code, w.Body)
		}
		if got := tree(t, outer); len(got) < 2 || got[0] != "canary" || got[1] != "root" {
			t.Fatalf("outer folder changed: %v", got)
		}
		for _, p := range tree(t, root) {
			if strings.Contains(p, rootfs.TempPrefix) {
				t.Fatalf("temporary file left: %s", p)
			}
		}
		if w.Code != 201 && len(tree(t, root)) != 0 {
			t.Fatalf("status %d but stored %v", w.Code, tree(t, root))
		}
	})
}

// Many uploads at once get a large copy buffer only while few run: the
// rest use small ones, and every upload is stored whole either way (issue
// 16, target 5: a thousand parallel uploads held 256 KiB each).
func TestCopyBuffers(t *testing.T) {
	h, root, _ := newHandler(t, Options{})
	var dones []func()
	big := 0
	for range bigBufs + 5 {
		bp, done := h.buffer()
		if len(*bp) == copyBufSize {
			big++
		} else if len(*bp) != smallBufSize {
			t.Fatalf("a buffer of %d bytes", len(*bp))
		}
		dones = append(dones, done)
	}
	if big != bigBufs {
		t.Errorf("%d large buffers lent at once, want %d", big, bigBufs)
	}
	for _, done := range dones {
		done()
	}
	if bp, done := h.buffer(); len(*bp) != copyBufSize {
		t.Errorf("a lone upload gets a buffer of %d bytes", len(*bp))
	} else {
		done()
	}

	// More uploads in flight than large buffers, each body arriving in
	// two halves: all are stored whole.
	const n = 2 * bigBufs
	body := bytes.Repeat([]byte("0123456789abcdef"), 40<<10) // 640 KiB
	codes := make(chan int, n)
	var writers []*io.PipeWriter
	for i := range n {
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		go func() {
			name := fmt.Sprintf("f%02d.bin", i)
			req := httptest.NewRequest("PUT", "/"+name, pr)
			req.ContentLength = int64(len(body))
			rec := httptest.NewRecorder()
			h.Put(rec, req, name)
			codes <- rec.Code
		}()
	}
	for _, pw := range writers {
		pw.Write(body[:len(body)/2])
	}
	for _, pw := range writers {
		pw.Write(body[len(body)/2:])
		pw.Close()
	}
	for range n {
		if code := <-codes; code != http.StatusCreated {
			t.Errorf("PUT: %d", code)
		}
	}
	for i := range n {
		b, err := os.ReadFile(filepath.Join(root, fmt.Sprintf("f%02d.bin", i)))
		if err != nil || !bytes.Equal(b, body) {
			t.Errorf("f%02d.bin: %d bytes, %v", i, len(b), err)
		}
	}
}
