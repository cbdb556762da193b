//go:build linux || darwin || freebsd

package rootfs

import "golang.org/x/sys/unix"

// Available reports the bytes an unprivileged writer may still store in the
// folder dir's filesystem; ok is false where that cannot be told.
func (f *FS) Available(dir string) (n int64, ok bool) {
	d, err := f.root.Open(dir)
	if err != nil {
		return 0, false
	}
	defer d.Close()
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(d.Fd()), &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}
