// Package version tells which ferry this is, from what the go command
// stamped into the binary (runtime/debug.ReadBuildInfo): no -ldflags, so a
// release build is just
//
//	CGO_ENABLED=0 go build -trimpath ./cmd/ferry
//
// from a clean checkout of the release tag, and the same commit and
// toolchain give the same bytes.
package version

import (
	"runtime"
	"runtime/debug"
)

// Version is the module version the go command stamped: the tag (v1.2.0)
// when the commit has one, else a pseudo-version naming the commit
// (v0.0.0-20260101120000-abcdef123456), with "+dirty" for uncommitted
// changes; "devel" when built without version control information
// (-buildvcs=false, or outside a checkout).
var Version = moduleVersion()

func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// Commit returns the VCS revision the binary was built from, with
// "-modified" when the tree had uncommitted changes, or "unknown".
func Commit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, modified := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if modified {
		rev += "-modified"
	}
	return rev
}

// GoVersion is the Go toolchain that built the binary.
func GoVersion() string { return runtime.Version() }
