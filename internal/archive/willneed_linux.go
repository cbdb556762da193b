package archive

import (
	"os"

	"golang.org/x/sys/unix"
)

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
