//go:build !unix

package cgi

import "os/exec"

// ownProcessGroup leaves exec's default: cancelling kills the script alone.
func ownProcessGroup(*exec.Cmd) {}
