// Package storagetest checks that a storage.Tree behaves as the interface
// says, so that every backend answers handlers the same way. A backend's
// tests call Run with a fresh, empty tree.
package storagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/storage"
)

// Run runs the conformance cases against trees that newTree makes empty.
func Run(t *testing.T, newTree func(t *testing.T) storage.Tree) {
	cases := []struct {
		name string
		fn   func(t *testing.T, tr storage.Tree)
	}{
		{"StageCommitRead", stageCommitRead},
		{"CreateOnly", createOnly},
		{"CreateOnlyRace", createOnlyRace},
		{"AbortLeavesNothing", abortLeavesNothing},
		{"BigMultipart", bigMultipart},
		{"ListFolders", listFolders},
		{"Mkdir", mkdir},
		{"RemoveTree", removeTree},
		{"MoveCopy", moveCopy},
		{"Ranges", ranges},
		{"Missing", missing},
		{"Resumable", resumable},
		{"Seal", seal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newTree(t)) })
	}
}

func put(t *testing.T, tr storage.Tree, name string, data []byte, replace bool) (bool, error) {
	t.Helper()
	st, err := tr.Stage(context.Background(), name, int64(len(data)))
	if err != nil {
		return false, err
	}
	if _, err := st.Write(data); err != nil {
		st.Abort()
		return false, err
	}
	return st.Commit(context.Background(), replace)
}

func mustPut(t *testing.T, tr storage.Tree, name string, data []byte) {
	t.Helper()
	if _, err := put(t, tr, name, data, true); err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func stageCommitRead(t *testing.T, tr storage.Tree) {
	data := []byte("hello, ferry\n")
	replaced, err := put(t, tr, "a.txt", data, false)
	if err != nil || replaced {
		t.Fatalf("first put: replaced=%v err=%v", replaced, err)
	}
	if got := Read(t, tr, "a.txt"); !bytes.Equal(got, data) {
		t.Fatalf("read back %q", got)
	}
	info, err := tr.Stat(context.Background(), "a.txt")
	if err != nil || info.IsDir || info.Size != int64(len(data)) || info.Name != "a.txt" {
		t.Fatalf("stat: %+v %v", info, err)
	}
	replaced, err = put(t, tr, "a.txt", []byte("v2"), true)
	if err != nil || !replaced {
		t.Fatalf("replace: replaced=%v err=%v", replaced, err)
	}
	if got := Read(t, tr, "a.txt"); string(got) != "v2" {
		t.Fatalf("after replace %q", got)
	}
	mustPut(t, tr, "deep/er/b.txt", []byte("b"))
	if got := List(t, tr, "deep"); !slices.Equal(got, []string{"er/"}) {
		t.Fatalf("parents created: list deep = %v", got)
	}
}

func createOnly(t *testing.T, tr storage.Tree) {
	mustPut(t, tr, "x", []byte("one"))
	if _, err := put(t, tr, "x", []byte("two"), false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("create-only over a file: %v, want ErrExist", err)
	}
	if got := Read(t, tr, "x"); string(got) != "one" {
		t.Fatalf("file changed to %q", got)
	}
	if err := tr.Mkdir(context.Background(), "d"); err != nil {
		t.Fatal(err)
	}
	if _, err := put(t, tr, "d", []byte("z"), true); !errors.Is(err, storage.ErrIsDir) {
		t.Fatalf("put over a folder: %v, want ErrIsDir", err)
	}
	if _, err := put(t, tr, "x/y", []byte("z"), true); !errors.Is(err, storage.ErrNotDir) {
		t.Fatalf("put under a file: %v, want ErrNotDir", err)
	}
}

func createOnlyRace(t *testing.T, tr storage.Tree) {
	const racers = 8
	var wg sync.WaitGroup
	results := make([]error, racers)
	stages := make([]storage.Staged, racers)
	for i := range stages {
		st, err := tr.Stage(context.Background(), "race.txt", 1)
		if err != nil {
			t.Fatal(err)
		}
		st.Write([]byte{byte('a' + i)})
		stages[i] = st
	}
	for i, st := range stages {
		wg.Go(func() { _, results[i] = st.Commit(context.Background(), false) })
	}
	wg.Wait()
	won := 0
	for _, err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, fs.ErrExist):
			t.Errorf("racer failed with %v, want ErrExist", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d racers won, want 1", won)
	}
}

func abortLeavesNothing(t *testing.T, tr storage.Tree) {
	st, err := tr.Stage(context.Background(), "gone.bin", -1)
	if err != nil {
		t.Fatal(err)
	}
	st.Write(random(12 << 20))
	if err := st.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Stat(context.Background(), "gone.bin"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("aborted upload visible: %v", err)
	}
	if got := List(t, tr, "."); len(got) != 0 {
		t.Fatalf("root lists %v after an abort", got)
	}
}

func bigMultipart(t *testing.T, tr storage.Tree) {
	data := random(21<<20 + 12345)
	st, err := tr.Stage(context.Background(), "big.bin", -1)
	if err != nil {
		t.Fatal(err)
	}
	for b := data; len(b) > 0; {
		n := min(len(b), 1<<20+7)
		if _, err := st.Write(b[:n]); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
	if _, err := st.Commit(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if got := Read(t, tr, "big.bin"); !bytes.Equal(got, data) {
		t.Fatalf("multipart round trip: %d bytes, differ", len(got))
	}
}

func listFolders(t *testing.T, tr storage.Tree) {
	mustPut(t, tr, "f1", []byte("1"))
	mustPut(t, tr, "sub/f2", []byte("22"))
	mustPut(t, tr, "sub/inner/f3", []byte("333"))
	if err := tr.Mkdir(context.Background(), "empty"); err != nil {
		t.Fatal(err)
	}
	if got, want := List(t, tr, "."), []string{"empty/", "f1", "sub/"}; !slices.Equal(got, want) {
		t.Fatalf("list . = %v, want %v", got, want)
	}
	if got, want := List(t, tr, "sub"), []string{"f2", "inner/"}; !slices.Equal(got, want) {
		t.Fatalf("list sub = %v, want %v", got, want)
	}
	if got := List(t, tr, "empty"); len(got) != 0 {
		t.Fatalf("list empty = %v", got)
	}
	for info, err := range tr.List(context.Background(), "f1") {
		if !errors.Is(err, storage.ErrNotDir) {
			t.Fatalf("list of a file: %+v %v, want ErrNotDir", info, err)
		}
	}
	for info, err := range tr.List(context.Background(), "nope") {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("list of nothing: %+v %v, want ErrNotExist", info, err)
		}
	}
	info, err := tr.Stat(context.Background(), "sub")
	if err != nil || !info.IsDir {
		t.Fatalf("stat sub: %+v %v", info, err)
	}
}

func mkdir(t *testing.T, tr storage.Tree) {
	ctx := context.Background()
	if err := tr.Mkdir(ctx, "m"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Mkdir(ctx, "m"); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second mkdir: %v", err)
	}
	if err := tr.Mkdir(ctx, "no/parent"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("mkdir without parent: %v", err)
	}
	mustPut(t, tr, "file", []byte("f"))
	if err := tr.Mkdir(ctx, "file"); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("mkdir over a file: %v", err)
	}
}

func removeTree(t *testing.T, tr storage.Tree) {
	ctx := context.Background()
	mustPut(t, tr, "keep", []byte("k"))
	for i := range 5 {
		mustPut(t, tr, "gone/"+string(rune('a'+i))+"/x", []byte("x"))
	}
	if err := tr.Remove(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Stat(ctx, "gone"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("folder still there: %v", err)
	}
	if err := tr.Remove(ctx, "keep"); err != nil {
		t.Fatal(err)
	}
	if got := List(t, tr, "."); len(got) != 0 {
		t.Fatalf("left %v", got)
	}
	if err := tr.Remove(ctx, "keep"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("remove missing: %v", err)
	}
}

func moveCopy(t *testing.T, tr storage.Tree) {
	ctx := context.Background()
	mustPut(t, tr, "src/a", []byte("A"))
	mustPut(t, tr, "src/in/b", []byte("B"))
	if _, err := tr.Copy(ctx, "src", "dup", false); err != nil {
		t.Fatal(err)
	}
	if got := Read(t, tr, "dup/in/b"); string(got) != "B" {
		t.Fatalf("copied b = %q", got)
	}
	if _, err := tr.Copy(ctx, "src/a", "dup/a", false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("copy over existing without replace: %v", err)
	}
	replaced, err := tr.Move(ctx, "src/a", "dup/a", true)
	if err != nil || !replaced {
		t.Fatalf("move replacing: %v %v", replaced, err)
	}
	if _, err := tr.Stat(ctx, "src/a"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("moved source still there: %v", err)
	}
	if _, err := tr.Move(ctx, "src", "moved", false); err != nil {
		t.Fatal(err)
	}
	if got := List(t, tr, "."); !slices.Equal(got, []string{"dup/", "moved/"}) {
		t.Fatalf("after folder move: %v", got)
	}
	if _, err := tr.Move(ctx, "dup", "nowhere/dup", false); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("move into a missing folder: %v", err)
	}
}

func ranges(t *testing.T, tr storage.Tree) {
	data := random(300 << 10)
	mustPut(t, tr, "r.bin", data)
	o, err := tr.Open(context.Background(), "r.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Info().Size != int64(len(data)) {
		t.Fatalf("size %d", o.Info().Size)
	}
	for _, r := range [][2]int{{1000, 1999}, {0, 0}, {len(data) - 10, len(data) - 1}, {5, 200 << 10}} {
		if _, err := o.Seek(int64(r[0]), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, r[1]-r[0]+1)
		if _, err := io.ReadFull(o, got); err != nil {
			t.Fatalf("range %v: %v", r, err)
		}
		if !bytes.Equal(got, data[r[0]:r[1]+1]) {
			t.Fatalf("range %v differs", r)
		}
	}
	buf := make([]byte, 100)
	if n, err := o.ReadAt(buf, int64(len(data)-50)); n != 50 || err != io.EOF {
		t.Fatalf("ReadAt at the end: %d %v", n, err)
	}
	if !bytes.Equal(buf[:50], data[len(data)-50:]) {
		t.Fatal("ReadAt differs")
	}
}

func missing(t *testing.T, tr storage.Tree) {
	ctx := context.Background()
	if _, err := tr.Stat(ctx, "none"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat: %v", err)
	}
	if _, err := tr.Open(ctx, "none"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open: %v", err)
	}
	if err := tr.Mkdir(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Open(ctx, "d"); !errors.Is(err, storage.ErrIsDir) {
		t.Fatalf("open of a folder: %v", err)
	}
}

// cutReader yields n bytes of data, then fails as a client hanging up would.
type cutReader struct {
	data []byte
	n    int
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.n == 0 {
		return 0, errors.New("connection reset")
	}
	k := copy(p, c.data[:min(len(c.data), c.n)])
	c.data, c.n = c.data[k:], c.n-k
	return k, nil
}

func resumable(t *testing.T, tr storage.Tree) {
	res, ok := tr.(storage.Resumable)
	if !ok {
		t.Skip("no resumable staging")
	}
	ctx := context.Background()
	data := random(19<<20 + 333)
	id, err := res.Begin(ctx, "up/file.bin", int64(len(data)), "filename ZmlsZS5iaW4=")
	if !errors.Is(err, nil) {
		t.Fatal(err)
	}
	// Parents are made at commit; Begin did not need them.
	cuts := []int{100, 3 << 20, 9<<20 + 5, 19 << 20}
	off := int64(0)
	for _, cut := range cuts {
		u, err := res.Resume(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if u.Offset() != off {
			t.Fatalf("resumed at %d, want %d", u.Offset(), off)
		}
		if u.Meta() != "filename ZmlsZS5iaW4=" || u.Name() != "up/file.bin" || u.Length() != int64(len(data)) || u.Modified().IsZero() {
			t.Fatalf("resumed upload: meta %q name %q length %d modified %v", u.Meta(), u.Name(), u.Length(), u.Modified())
		}
		got, err := u.Append(ctx, &cutReader{data: data[off:], n: cut - int(off)})
		if err == nil {
			t.Fatal("a cut append reported no error")
		}
		if got != int64(cut) {
			t.Fatalf("after a cut at %d the offset is %d", cut, got)
		}
		off = got
	}
	u, err := res.Resume(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if off, err = u.Append(ctx, bytes.NewReader(data[off:])); err != nil || off != int64(len(data)) {
		t.Fatalf("final append: %d %v", off, err)
	}
	if _, err := u.Commit(ctx, false); err != nil {
		t.Fatal(err)
	}
	if got := List(t, tr, "up"); !slices.Equal(got, []string{"file.bin"}) {
		t.Fatalf("after the commit up/ lists %v", got)
	}
	if got := Read(t, tr, "up/file.bin"); !bytes.Equal(got, data) {
		t.Fatalf("resumed upload differs (%d bytes)", len(got))
	}
	if _, err := res.Resume(ctx, id); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a committed upload can still be resumed: %v", err)
	}
	// A commit the name refuses keeps the upload, for the caller to abort.
	if _, err := res.Begin(ctx, "up", 1, ""); !errors.Is(err, storage.ErrIsDir) {
		t.Fatalf("begin over a folder: %v, want ErrIsDir", err)
	}
	if _, err := res.Begin(ctx, "up/file.bin/x", 1, ""); !errors.Is(err, storage.ErrNotDir) {
		t.Fatalf("begin under a file: %v, want ErrNotDir", err)
	}
	id3, err := res.Begin(ctx, "up/file.bin", 3, "")
	if err != nil {
		t.Fatal(err)
	}
	u3, err := res.Resume(ctx, id3)
	if err != nil {
		t.Fatal(err)
	}
	if off, err := u3.Append(ctx, bytes.NewReader([]byte("abc"))); err != nil || off != 3 {
		t.Fatalf("append: %d %v", off, err)
	}
	if _, err := u3.Commit(ctx, false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("create-only commit over a file: %v, want ErrExist", err)
	}
	if u3, err = res.Resume(ctx, id3); err != nil || u3.Offset() != 3 {
		t.Fatalf("refused upload gone: %v", err)
	}
	if replaced, err := u3.Commit(ctx, true); err != nil || !replaced {
		t.Fatalf("replacing commit: %v %v", replaced, err)
	}
	if got := Read(t, tr, "up/file.bin"); string(got) != "abc" {
		t.Fatalf("replaced upload reads %q", got)
	}
	// An empty upload commits without any Append.
	id4, err := res.Begin(ctx, "empty/none.txt", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	u4, err := res.Resume(ctx, id4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u4.Commit(ctx, false); err != nil {
		t.Fatal(err)
	}
	if got := Read(t, tr, "empty/none.txt"); len(got) != 0 {
		t.Fatalf("empty upload reads %q", got)
	}
	// Small, abandoned: expired.
	id2, err := res.Begin(ctx, "small.txt", 10, "")
	if err != nil {
		t.Fatal(err)
	}
	u2, _ := res.Resume(ctx, id2)
	u2.Append(ctx, &cutReader{data: []byte("0123456789"), n: 4})
	if n, err := res.Expire(ctx, time.Now().Add(time.Hour)); err != nil || n < 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	if _, err := res.Resume(ctx, id2); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("expired upload resumable: %v", err)
	}
	if _, err := tr.Stat(ctx, "small.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("expired upload visible: %v", err)
	}
}

// seal stages files as a multipart POST does: each sealed once complete,
// all committed at the end.
func seal(t *testing.T, tr storage.Tree) {
	ctx := context.Background()
	files := map[string][]byte{"s/small.txt": []byte("small"), "s/empty": nil, "s/big.bin": random(11<<20 + 3)}
	var stages []storage.Staged
	var names []string
	for name, data := range files {
		st, err := tr.Stage(ctx, name, -1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Write(data); err != nil {
			t.Fatal(err)
		}
		sl, ok := st.(storage.Sealer)
		if !ok {
			st.Abort()
			t.Skip("no sealing")
		}
		if err := sl.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		if err := sl.Seal(ctx); err != nil {
			t.Fatalf("second seal: %v", err)
		}
		if _, err := st.Write([]byte("x")); err == nil {
			t.Fatal("a write after Seal succeeded")
		}
		stages = append(stages, st)
		names = append(names, name)
	}
	for _, st := range stages {
		if _, err := st.Commit(ctx, false); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range names {
		if got := Read(t, tr, name); !bytes.Equal(got, files[name]) {
			t.Fatalf("%s: %d bytes, differ", name, len(got))
		}
	}
	// A sealed write that is aborted leaves nothing.
	st, err := tr.Stage(ctx, "s/gone.bin", -1)
	if err != nil {
		t.Fatal(err)
	}
	st.Write(random(6 << 20))
	if sl, ok := st.(storage.Sealer); ok {
		sl.Seal(ctx)
	}
	st.Abort()
	if _, err := tr.Stat(ctx, "s/gone.bin"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("aborted sealed write visible: %v", err)
	}
}
