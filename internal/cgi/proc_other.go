//go:build !unix

package cgi

import "os/exec"

// ownProcessGroup leaves exec's default: cancelling kills the script alone.
func ownProcessGroup(*exec.Cmd) {}

// killGroup has no group to kill: what a script started may outlive it.
func killGroup(*exec.Cmd) {}
