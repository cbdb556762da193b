//go:build !linux

package rootfs

import "os"

func (f *FS) readDir(dir *os.File, name string) ([]Entry, error) {
	return f.readDirPortable(dir, name)
}

func (f *FS) readNames(dir *os.File, name string) ([]string, error) {
	return f.readNamesPortable(dir)
}

func (f *FS) openIn(dir *os.File, member string) (*os.File, bool, error) {
	return nil, false, nil
}
