package rootfs

import (
	"os"
	"path/filepath"
	"strconv"
)

// hostPath is where an open file lies on this machine, every symlink
// resolved, as the kernel tells it for the descriptor itself: one readlink
// of /proc/self/fd/N. ok is false without /proc.
func hostPath(file *os.File) (p string, ok bool) {
	rc, err := file.SyscallConn()
	if err != nil {
		return "", false
	}
	var rerr error
	if err := rc.Control(func(fd uintptr) {
		p, rerr = os.Readlink("/proc/self/fd/" + strconv.Itoa(int(fd)))
	}); err != nil || rerr != nil || !filepath.IsAbs(p) {
		return "", false
	}
	return p, true
}
