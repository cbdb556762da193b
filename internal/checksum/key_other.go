//go:build !unix

package checksum

import "io/fs"

// keyOf cannot tell a file's identity here, so nothing is cached: every
// GET computes (still within the job limits).
func keyOf(string, fs.FileInfo) (key, bool) { return key{}, false }
