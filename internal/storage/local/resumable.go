package local

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
)

// A resumable upload keeps two hidden files: its data, in the nearest
// existing folder of its target (so that publishing it is a rename on the
// same filesystem, and missing folders are made only at the end), and a
// small description in the root, so that it outlives a restart. Both are
// made with the first bytes: an upload that was only begun costs a little
// memory and nothing on disk, and does not outlive a restart (a client
// notices a 404 and starts over). The data file's size is the offset.
const (
	// tusPrefix starts both files' names, after rootfs.TempPrefix: the
	// sweep of stale partial uploads leaves them to Expire.
	tusPrefix  = rootfs.TempPrefix + "tus-"
	descSuffix = ".json"
	// maxDesc bounds a description read back (its metadata is bounded by
	// the handler).
	maxDesc = 64 << 10
	// appendBuf is the chunk resumable data is stored in, as for uploads.
	appendBuf = 256 << 10
)

var _ storage.Resumable = (*Tree)(nil)

// desc is a resumable upload's description file.
type desc struct {
	ID      string    `json:"id"`
	Target  string    `json:"target"` // clean relative name it will get
	Dir     string    `json:"dir"`    // folder that holds the data
	Length  int64     `json:"length"`
	Meta    string    `json:"metadata,omitempty"`
	Created time.Time `json:"created"`
}

func (d *desc) dataName() string { return path.Join(d.Dir, tusPrefix+d.ID) }
func descName(id string) string  { return tusPrefix + id + descSuffix }

// validID accepts only the ids Begin makes (base32 from rand.Text), so that
// an id can never form a path.
func validID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// Begin notes a new upload in memory; its files are made by the first Append
// (or the Commit of an empty upload).
func (t *Tree) Begin(_ context.Context, name string, length int64, meta string) (string, error) {
	if length < 0 {
		return "", fs.ErrInvalid
	}
	if fi, err := t.fs.LstatRaw(name); err == nil && fi.IsDir() {
		return "", storage.ErrIsDir
	}
	dir, err := t.nearestDir(path.Dir(name))
	if err != nil {
		return "", err
	}
	d := &desc{ID: rand.Text(), Target: name, Dir: dir, Length: length, Meta: meta, Created: time.Now().UTC()}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return "", storage.ErrUnavailable
	}
	t.pending[d.ID] = d
	return d.ID, nil
}

// nearestDir is dir, or its nearest ancestor that exists; a file on the way
// is ErrNotDir.
func (t *Tree) nearestDir(dir string) (string, error) {
	for {
		fi, err := t.fs.LstatRaw(dir)
		switch {
		case err == nil && fi.IsDir():
			return dir, nil
		case err == nil:
			return "", storage.ErrNotDir
		case !errors.Is(err, fs.ErrNotExist):
			return "", err
		case dir == ".":
			return "", fmt.Errorf("local: the served folder is gone: %w", storage.ErrUnavailable)
		}
		dir = path.Dir(dir)
	}
}

// Resume finds an upload begun by this tree, or one whose files a previous
// run left.
func (t *Tree) Resume(_ context.Context, id string) (storage.Upload, error) {
	if !validID(id) {
		return nil, fs.ErrNotExist
	}
	t.mu.Lock()
	p := t.pending[id]
	t.mu.Unlock()
	if p != nil {
		return &upload{t: t, d: *p, modified: p.Created}, nil
	}
	d, err := t.readDesc(id)
	if err != nil {
		return nil, err
	}
	fi, err := t.fs.LstatRaw(d.dataName())
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > d.Length {
		// The data is gone (its folder removed or moved away) or is not
		// what it should be: the upload cannot go on.
		t.fs.RemoveTemp(descName(id))
		if err == nil {
			t.fs.RemoveTemp(d.dataName())
		}
		return nil, fs.ErrNotExist
	}
	return &upload{t: t, d: *d, stored: true, offset: fi.Size(), modified: fi.ModTime()}, nil
}

// readDesc reads an upload's description and checks it as if it were not
// ours: it lies in the served tree.
func (t *Tree) readDesc(id string) (*desc, error) {
	f, err := t.fs.OpenRaw(descName(id))
	if err != nil {
		return nil, fs.ErrNotExist
	}
	b, err := io.ReadAll(io.LimitReader(f, maxDesc))
	f.Close()
	if err != nil {
		return nil, rootfs.WriteErr(err)
	}
	var d desc
	if json.Unmarshal(b, &d) != nil || d.ID != id || d.Length < 0 || !cleanName(d.Target) || d.Dir != "." && !cleanName(d.Dir) {
		t.fs.RemoveTemp(descName(id))
		return nil, fs.ErrNotExist
	}
	return &d, nil
}

// cleanName reports a clean relative name without "." or ".." components.
func cleanName(n string) bool {
	if n == "" || n == "." || path.Clean(n) != n || strings.HasPrefix(n, "/") {
		return false
	}
	for c := range strings.SplitSeq(n, "/") {
		if c == ".." || c == "." {
			return false
		}
	}
	return true
}

// Expire removes the uploads without bytes since before: those begun here
// and never stored, and those on disk (whatever run left them) whose data
// was last written before.
func (t *Tree) Expire(_ context.Context, before time.Time) (int, error) {
	n := 0
	t.mu.Lock()
	for id, p := range t.pending {
		if p.Created.Before(before) {
			delete(t.pending, id)
			n++
		}
	}
	t.mu.Unlock()
	root, err := t.fs.OpenRaw(".")
	if err != nil {
		return n, err
	}
	names, err := root.Readdirnames(-1)
	root.Close()
	for _, name := range names {
		id, ok := strings.CutPrefix(name, tusPrefix)
		if !ok {
			continue
		}
		if id, ok = strings.CutSuffix(id, descSuffix); !ok {
			continue
		}
		d, derr := t.readDesc(id)
		if derr != nil {
			continue
		}
		fi, serr := t.fs.LstatRaw(d.dataName())
		if serr == nil && !fi.ModTime().Before(before) {
			continue
		}
		t.fs.RemoveTemp(d.dataName())
		t.fs.RemoveTemp(name)
		n++
	}
	return n, rootfs.WriteErr(err)
}

// upload is one resumable upload, as found by Resume.
type upload struct {
	t        *Tree
	d        desc
	stored   bool // its files exist
	offset   int64
	modified time.Time
}

func (u *upload) ID() string          { return u.d.ID }
func (u *upload) Name() string        { return u.d.Target }
func (u *upload) Length() int64       { return u.d.Length }
func (u *upload) Offset() int64       { return u.offset }
func (u *upload) Meta() string        { return u.d.Meta }
func (u *upload) Modified() time.Time { return u.modified }

// store creates the empty data file and the description, once the first
// bytes (or the end of an empty upload) arrive.
func (u *upload) store() error {
	if u.stored {
		return nil
	}
	f, err := u.t.fs.CreateTemp(u.d.dataName())
	if err != nil {
		return err
	}
	f.Close()
	b, _ := json.Marshal(&u.d)
	info, err := u.t.fs.CreateTemp(descName(u.d.ID))
	if err == nil {
		_, err = info.Write(append(b, '\n'))
		if err == nil {
			err = info.Sync()
		}
		if cerr := info.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		u.t.fs.RemoveTemp(u.d.dataName())
		u.t.fs.RemoveTemp(descName(u.d.ID))
		return rootfs.WriteErr(err)
	}
	u.stored = true
	u.t.mu.Lock()
	delete(u.t.pending, u.d.ID)
	u.t.mu.Unlock()
	return nil
}

// Append writes what r yields at the offset and flushes it: the offset a
// client is told survives a crash. Bytes written before a read or write
// error count.
func (u *upload) Append(_ context.Context, r io.Reader) (int64, error) {
	if err := u.store(); err != nil {
		return u.offset, err
	}
	f, err := u.t.fs.OpenTemp(u.d.dataName())
	if err != nil {
		return u.offset, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return u.offset, rootfs.WriteErr(err)
	} else if fi.Size() != u.offset {
		// Another writer changed the file since Resume: trust the offset
		// this upload knows.
		if err := f.Truncate(u.offset); err != nil {
			return u.offset, rootfs.WriteErr(err)
		}
	}
	dst := io.NewOffsetWriter(f, u.offset)
	remain := u.d.Length - u.offset
	buf := make([]byte, min(appendBuf, remain+1))
	var n int64
	var rerr error
	for n < remain {
		p := buf[:min(int64(len(buf)), remain-n)]
		var nr int
		nr, rerr = r.Read(p)
		if nr > 0 {
			nw, werr := dst.Write(p[:nr])
			n += int64(nw)
			if werr != nil {
				f.Truncate(u.offset + n)
				u.offset += n
				return u.offset, rootfs.WriteErr(werr)
			}
		}
		if rerr != nil {
			break
		}
	}
	if errors.Is(rerr, io.EOF) {
		rerr = nil
	}
	serr := f.Sync()
	u.offset += n
	u.modified = time.Now()
	if serr != nil {
		return u.offset, rootfs.WriteErr(serr)
	}
	return u.offset, rerr
}

// Commit gives the complete data its name, making missing folders now.
func (u *upload) Commit(_ context.Context, replace bool) (bool, error) {
	if u.offset != u.d.Length {
		return false, fmt.Errorf("local: upload %s has %d of %d bytes", u.d.ID, u.offset, u.d.Length)
	}
	if err := u.store(); err != nil {
		return false, err
	}
	dir := path.Dir(u.d.Target)
	created, err := u.t.fs.MkdirParents(dir)
	if err != nil {
		u.t.undoParents(created)
		return false, err
	}
	replaced, err := u.t.fs.Publish(u.d.dataName(), u.d.Target, replace)
	if err != nil {
		u.t.undoParents(created)
		return false, err
	}
	u.t.fs.SyncDir(dir)
	u.t.fs.RemoveTemp(descName(u.d.ID))
	return replaced, nil
}

// Abort removes the upload's files (or forgets it, before its first bytes).
func (u *upload) Abort(context.Context) error {
	u.t.mu.Lock()
	delete(u.t.pending, u.d.ID)
	u.t.mu.Unlock()
	if !u.stored {
		return nil
	}
	u.t.fs.RemoveTemp(u.d.dataName())
	return u.t.fs.RemoveTemp(descName(u.d.ID))
}
