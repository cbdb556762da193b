// Package version tells which ferry this is.
package version

import (
	"runtime"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X github.com/ferry-sh/ferry/internal/version.Version=...".
var Version = "0.1.0-dev"

// Commit returns the VCS revision the binary was built from, if recorded.
func Commit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// GoVersion is the Go toolchain that built the binary.
func GoVersion() string { return runtime.Version() }
