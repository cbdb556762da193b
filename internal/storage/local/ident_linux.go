package local

import (
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// sameFile reports whether two stats describe the same file in the same
// state (see Object.Unchanged).
func sameFile(a, b fs.FileInfo) bool {
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 &&
		sa.Dev == sb.Dev && sa.Ino == sb.Ino &&
		sa.Size == sb.Size && sa.Mode == sb.Mode &&
		sa.Mtim == sb.Mtim && sa.Ctim == sb.Ctim
}

// willNeed asks the kernel to start reading the first n bytes of f into the
// page cache now (POSIX_FADV_WILLNEED), without waiting for them. It is only
// a hint: an error changes nothing.
func willNeed(f *os.File, n int64) {
	rc, err := f.SyscallConn()
	if err != nil || n <= 0 {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.Fadvise(int(fd), 0, n, unix.FADV_WILLNEED)
	})
}
