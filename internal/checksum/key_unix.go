//go:build unix

package checksum

import (
	"io/fs"
	"syscall"
)

// keyOf names the version of the file info describes; ok is false when
// the system does not tell the file's identity (nothing is then cached).
func keyOf(alg string, info fs.FileInfo) (key, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return key{}, false
	}
	k := keyOfInfo(alg, info)
	k.dev, k.ino = uint64(st.Dev), uint64(st.Ino)
	k.ctime = ctimeOf(st)
	return k, true
}
