//go:build !linux

package archive

import "os"

// willNeed is a read-ahead hint where the system has one (Linux); a no-op
// elsewhere.
func willNeed(*os.File, int64) {}
