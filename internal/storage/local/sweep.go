package local

import (
	"path"
	"strings"
	"time"

	"github.com/ferry-sh/ferry/internal/rootfs"
)

// staleAfter is how long a partial upload must have been left untouched
// before a later run takes it for the remains of a crash. A live upload
// writes all the time, so a day of silence is no upload in progress.
const staleAfter = 24 * time.Hour

// sweep removes the partial files that an earlier run killed mid-upload
// left in dir before the given time; newTemp starts it the first time this
// run writes into a folder (Close removes a live run's own). Resumable
// uploads keep theirs: Expire removes them.
func (t *Tree) sweep(dir string, before time.Time) {
	f, err := t.fs.OpenRaw(dir)
	if err != nil {
		return
	}
	names, _ := f.Readdirnames(-1)
	f.Close()
	for _, n := range names {
		if !strings.HasPrefix(n, rootfs.TempPrefix) || strings.HasPrefix(n, tusPrefix) {
			continue
		}
		name := path.Join(dir, n)
		t.mu.Lock()
		_, live := t.temps[name]
		t.mu.Unlock()
		if info, err := t.fs.LstatRaw(name); err == nil && !live && info.Mode().IsRegular() && info.ModTime().Before(before) {
			t.fs.RemoveTemp(name)
		}
	}
}
