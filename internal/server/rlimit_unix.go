//go:build unix

package server

import "syscall"

// fdLimit is how many descriptors the process may open (Go raises the soft
// limit to the hard one at startup).
func fdLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 1024
	}
	return int(min(rl.Cur, 1<<20))
}
