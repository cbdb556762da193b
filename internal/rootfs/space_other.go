//go:build !(linux || darwin || freebsd)

package rootfs

// Available cannot tell free space on this platform; writers then learn of
// a full disk from the write that fails.
func (f *FS) Available(dir string) (n int64, ok bool) { return 0, false }
