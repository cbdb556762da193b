//go:build !unix

package archive

import "io/fs"

// inodeOf has no device and inode numbers to give here (FileInfo.Sys is not a
// Stat_t); symlink loops are then stopped by maxDepth alone.
func inodeOf(fs.FileInfo) (inode, bool) { return inode{}, false }
