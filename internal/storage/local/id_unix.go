//go:build unix

package local

import (
	"io/fs"
	"strconv"
	"syscall"
)

type inode struct{ dev, ino uint64 }

// fileID is a folder's device and inode, for the loop checks of walks.
func fileID(fi fs.FileInfo) any {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return inode{uint64(st.Dev), uint64(st.Ino)}
}

// version names the state of a file: device, inode, size, modification and
// change times (restoring a modification time after rewriting a file cannot
// reset the change time).
func version(fi fs.FileInfo) (string, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	b := make([]byte, 0, 64)
	for _, n := range [...]int64{int64(st.Dev), int64(st.Ino), fi.Size(), fi.ModTime().UnixNano(), ctimeOf(st)} {
		b = strconv.AppendInt(b, n, 36)
		b = append(b, ':')
	}
	return string(b), true
}
