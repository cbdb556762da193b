//go:build !linux

package fileserver

// Elsewhere the fields that prove a file unchanged differ by system (and
// Windows cannot replace a file that is held open), so nothing is cached.
const canCache = false
