//go:build !linux

package rootfs

import "os"

// hostPath is unknown here: heldBack resolves the name instead.
func hostPath(*os.File) (string, bool) { return "", false }
