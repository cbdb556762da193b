//go:build !linux

package rootfs

import "os"

func (f *FS) readDir(dir *os.File, name string) ([]Entry, error) {
	return f.readDirPortable(dir, name)
}
