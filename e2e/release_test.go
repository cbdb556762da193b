package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReleaseBuildReproducible builds the committed HEAD the way a release
// is built (docs/Containerfile, internal/version) from two clones at
// different paths: the bytes must be the same, no build path may be in
// them, and the version must come from the commit.
func TestReleaseBuildReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ferry twice")
	}
	git := NeedCommand(t, "git")
	_, here, _, _ := runtime.Caller(0)
	repo := filepath.Dir(filepath.Dir(here))
	head := strings.TrimSpace(runOut(t, repo, git, "rev-parse", "HEAD"))

	build := func(dir string) (sum, version string, bin []byte) {
		t.Helper()
		runOut(t, "", git, "clone", "--quiet", repo, dir)
		runOut(t, dir, git, "checkout", "--quiet", head)
		out := filepath.Join(t.TempDir(), "ferry")
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./cmd/ferry")
		cmd.Dir = dir
		// As a release is built: static, and with the checkout's version
		// control information whatever GOFLAGS this machine sets.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=true")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build in %s: %v\n%s", dir, err, b)
		}
		bin, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(bin)
		return hex.EncodeToString(h[:]), runOut(t, dir, out, "version"), bin
	}
	dirA := filepath.Join(t.TempDir(), "a")
	dirB := filepath.Join(t.TempDir(), "somewhere", "else", "b")
	sumA, versionA, binA := build(dirA)
	sumB, versionB, _ := build(dirB)
	if sumA != sumB {
		t.Errorf("two builds of %s differ: %s and %s", head, sumA, sumB)
	}
	if bytes.Contains(binA, []byte(dirA)) {
		t.Errorf("the binary holds its build folder %s (-trimpath)", dirA)
	}
	if versionA != versionB {
		t.Errorf("versions differ: %q and %q", versionA, versionB)
	}
	// "ferry v0.0.0-20260101120000-abcdef123456 (commit <head>, go1.26)",
	// or the tag when HEAD has one.
	if !strings.HasPrefix(versionA, "ferry v") || !strings.Contains(versionA, "(commit "+head+",") ||
		strings.Contains(versionA, "dirty") || strings.Contains(versionA, "modified") {
		t.Errorf("ferry version = %q, want a version and commit %s from the checkout", versionA, head)
	}
}

func runOut(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
