//go:build !unix

package server

// fdLimit has no descriptor limit to read here; handles are plentiful, so
// the connection ceiling applies.
func fdLimit() int { return 1 << 20 }
