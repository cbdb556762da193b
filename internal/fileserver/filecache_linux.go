package fileserver

import (
	"io/fs"
	"syscall"
)

const canCache = true

// sameFile reports whether two stats describe the same file in the same
// state; see openFiles for why these fields suffice.
func sameFile(a, b fs.FileInfo) bool {
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 &&
		sa.Dev == sb.Dev && sa.Ino == sb.Ino &&
		sa.Size == sb.Size && sa.Mode == sb.Mode &&
		sa.Mtim == sb.Mtim && sa.Ctim == sb.Ctim
}
