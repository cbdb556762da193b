package webdav

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/mount"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/local"
	"github.com/ferry-sh/ferry/internal/storage/policy"
)

// The package's tests run the WebDAV handler behind a small server of
// their own: ferry's write handler still works on rootfs, so this one does
// PUT, DELETE, MKCOL, MOVE and COPY on the storage interface, which lets the
// same tests (litmus included) run on a local folder and on an object store.

// testServer is a WebDAV server over a tree.
type testServer struct {
	*httptest.Server
	h     *Handler
	tree  storage.Tree
	state storage.Tree
}

// localTrees opens a temporary folder as a policy-wrapped tree and as the
// state tree below the policy, as ferry does.
func localTrees(t testing.TB, dir string) (tree, state storage.Tree) {
	t.Helper()
	fsys, err := rootfs.Open(dir, rootfs.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	// The state is the backend below the policy, as ferry.New gives it.
	lt := local.New(fsys)
	t.Cleanup(func() { lt.Close() })
	return policy.Wrap(lt, policy.Rules{}), lt
}

func newTestServer(t testing.TB, tree, state storage.Tree, opts Options) *testServer {
	t.Helper()
	opts.Tree, opts.State = tree, state
	if opts.Locks == nil && state != nil {
		opts.Locks = NewTreeLocks(state)
	}
	opts.Create = true
	s := &testServer{h: New(opts), tree: tree, state: state}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *testServer) serve(w http.ResponseWriter, r *http.Request) {
	name, _, err := rootfs.ParseURLPath(r.URL.EscapedPath())
	if err != nil || name == rootfs.Reserved || strings.HasPrefix(name, rootfs.Reserved+"/") {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	switch r.Method {
	case "OPTIONS":
		w.Header().Set("DAV", "1, 2")
		w.Header().Set("Allow", "GET, HEAD, OPTIONS, PUT, DELETE, MKCOL, MOVE, COPY, PROPFIND, PROPPATCH, LOCK, UNLOCK")
		w.WriteHeader(http.StatusNoContent)
		return
	case "PROPFIND", "PROPPATCH", "LOCK", "UNLOCK":
		s.h.Serve(w, r, name)
		return
	case "GET", "HEAD":
		s.get(w, r, name)
		return
	}
	if r.Method == "MKCOL" {
		if _, err := s.tree.Stat(r.Context(), name); err == nil {
			http.Error(w, "exists", http.StatusMethodNotAllowed)
			return
		}
	}
	w, ok := s.h.Guard(w, r, name)
	if !ok {
		return
	}
	switch r.Method {
	case "PUT":
		s.put(w, r, name)
	case "DELETE":
		if name == "." {
			http.Error(w, "root", http.StatusForbidden)
			return
		}
		if err := s.tree.Remove(r.Context(), name); err != nil {
			s.fail(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "MKCOL":
		s.mkcol(w, r, name)
	case "MOVE", "COPY":
		s.move(w, r, name)
	default:
		http.Error(w, "", http.StatusNotImplemented)
	}
}

func (s *testServer) fail(w http.ResponseWriter, err error) {
	status, _ := storageStatus(err)
	if errors.Is(err, fs.ErrNotExist) {
		status = http.StatusNotFound
	}
	http.Error(w, http.StatusText(status), status)
}

func (s *testServer) get(w http.ResponseWriter, r *http.Request, name string) {
	o, err := s.tree.Open(r.Context(), name)
	if errors.Is(err, storage.ErrIsDir) {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	defer o.Close()
	w.Header().Set("Etag", etag(o.Info()))
	http.ServeContent(w, r, name, o.Info().ModTime, o)
}

func (s *testServer) parentDir(r *http.Request, name string) bool {
	info, err := s.tree.Stat(r.Context(), path.Dir(name))
	return err == nil && info.IsDir
}

func (s *testServer) put(w http.ResponseWriter, r *http.Request, name string) {
	ctx := r.Context()
	if !s.parentDir(r, name) {
		http.Error(w, "no parent", http.StatusConflict)
		return
	}
	if info, err := s.tree.Stat(ctx, name); err == nil && info.IsDir {
		http.Error(w, "folder", http.StatusMethodNotAllowed)
		return
	}
	st, err := s.tree.Stage(ctx, name, r.ContentLength)
	if err != nil {
		s.fail(w, err)
		return
	}
	if _, err := io.Copy(st, r.Body); err != nil {
		st.Abort()
		http.Error(w, "body", http.StatusBadRequest)
		return
	}
	replaced, err := st.Commit(ctx, true)
	if err != nil {
		s.fail(w, err)
		return
	}
	if replaced {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (s *testServer) mkcol(w http.ResponseWriter, r *http.Request, name string) {
	if r.ContentLength > 0 || len(r.TransferEncoding) > 0 {
		http.Error(w, "body", http.StatusUnsupportedMediaType)
		return
	}
	if !s.parentDir(r, name) {
		http.Error(w, "no parent", http.StatusConflict)
		return
	}
	if err := s.tree.Mkdir(r.Context(), name); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (s *testServer) move(w http.ResponseWriter, r *http.Request, name string) {
	ctx := r.Context()
	dest, err := mount.Destination(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if dest == name {
		http.Error(w, "same", http.StatusForbidden)
		return
	}
	src, err := s.tree.Stat(ctx, name)
	if err != nil {
		s.fail(w, err)
		return
	}
	if !s.parentDir(r, dest) {
		http.Error(w, "no parent", http.StatusConflict)
		return
	}
	overwrite := !strings.EqualFold(strings.TrimSpace(r.Header.Get("Overwrite")), "F")
	_, exists := s.tree.Stat(ctx, dest)
	if exists == nil && !overwrite {
		http.Error(w, "exists", http.StatusPreconditionFailed)
		return
	}
	var replaced bool
	switch {
	case r.Method == "COPY" && src.IsDir && r.Header.Get("Depth") == "0":
		if exists == nil {
			if err := s.tree.Remove(ctx, dest); err != nil {
				s.fail(w, err)
				return
			}
			replaced = true
		}
		err = s.tree.Mkdir(ctx, dest)
	case r.Method == "COPY":
		replaced, err = s.tree.Copy(ctx, name, dest, overwrite)
	default:
		replaced, err = s.tree.Move(ctx, name, dest, overwrite)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	if replaced {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// needTool finds a client program, skipping without it (failing in CI).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("FERRY_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is not installed (FERRY_REQUIRE_TOOLS=1)", name)
		}
		t.Skipf("%s is not installed; install it (apt-get install %s) to run this test", name, name)
	}
	return p
}

// fakeClock is a clock tests move by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }
