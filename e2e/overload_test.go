package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// COPY stores new data as an upload does, so --max-upload bounds it: with
// alternating COPY and MOVE a folder doubled each round (issue 11, item 8).
// A refused copy writes nothing, not even a temporary folder.
func TestOverloadCopyMaxUpload(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"f/a.bin":   string(bytes.Repeat([]byte("a"), 300<<10)),
		"big.bin":   string(bytes.Repeat([]byte("b"), 1100<<10)),
		"small.bin": "s",
	})
	p := Start(t, dir, "-p", "0", "-w", "--max-upload", "1M")
	dest := func(path string) string { return p.URL + path }

	// Round by round the folder doubles until a copy of it would pass 1 MiB.
	for round := 1; ; round++ {
		r, b := Do(t, "COPY", p.URL+"/f/", nil, "Destination", dest("/f2/"))
		if round <= 2 {
			if r.StatusCode != 201 {
				t.Fatalf("round %d: COPY %d %s", round, r.StatusCode, b)
			}
			if r, b := Do(t, "MOVE", p.URL+"/f2/", nil, "Destination", dest("/f/copy"+string(rune('0'+round))+"/")); r.StatusCode != 201 {
				t.Fatalf("round %d: MOVE %d %s", round, r.StatusCode, b)
			}
			continue
		}
		// 1200 KiB now: refused, and nothing appears.
		if r.StatusCode != 413 || !bytes.Contains(b, []byte("1048576")) {
			t.Fatalf("round %d: COPY of 1200 KiB under --max-upload 1M: %d %s", round, r.StatusCode, b)
		}
		break
	}
	for _, c := range []struct {
		src, dst string
		want     int
	}{
		{"/big.bin", "/big2.bin", 413},
		{"/f/", "/f3/", 413},
		{"/small.bin", "/small2.bin", 201},
		{"/f/copy1/", "/f1/", 201},
	} {
		if r, b := Do(t, "COPY", p.URL+c.src, nil, "Destination", dest(c.dst)); r.StatusCode != c.want {
			t.Errorf("COPY %s: %d %s, want %d", c.src, r.StatusCode, bytes.TrimSpace(b), c.want)
		}
	}
	want := []string{
		"big.bin", "f/", "f/a.bin", "f/copy1/", "f/copy1/a.bin", "f/copy2/", "f/copy2/a.bin", "f/copy2/copy1/",
		"f/copy2/copy1/a.bin", "f1/", "f1/a.bin", "small.bin", "small2.bin",
	}
	if got := wrTree(t, dir); !slices.Equal(got, want) {
		t.Errorf("folder holds\n%v\nwant\n%v", got, want)
	}
}

// A COPY larger than the free space answers 507 before anything is written:
// the destination folder is not touched (its modification time stays).
func TestOverloadCopyFreeSpace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs CAP_SYS_ADMIN): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	WriteFiles(t, dir, map[string]string{
		"f/a.bin": string(wrRandom(t, 1200<<10)),
		"f/b.bin": string(wrRandom(t, 1200<<10)),
		"dst/x":   "x",
	})
	p := Start(t, dir, "-p", "0", "-w")
	dst := filepath.Join(dir, "dst")
	before, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	// Modification times on tmpfs have nanoseconds, but a write in the
	// same clock tick would hide; step past it.
	time.Sleep(20 * time.Millisecond)
	for _, src := range []string{"/f/", "/f/a.bin"} {
		r, b := Do(t, "COPY", p.URL+src, nil, "Destination", p.URL+"/dst/copy")
		// The folder (2400 KiB) does not fit in the 1.6 MiB left; the file
		// (1200 KiB) does.
		want := 507
		if src == "/f/a.bin" {
			want = 201
		}
		if r.StatusCode != want {
			t.Errorf("COPY %s: %d %s, want %d", src, r.StatusCode, bytes.TrimSpace(b), want)
		}
		if want == 507 {
			after, _ := os.Stat(dst)
			if !after.ModTime().Equal(before.ModTime()) {
				t.Errorf("COPY %s was refused, but its destination folder was written to", src)
			}
		}
	}
	if got := wrNoTemps(t, dir); !slices.Equal(got, []string{"dst/", "dst/copy", "dst/x", "f/", "f/a.bin", "f/b.bin"}) {
		t.Errorf("folder holds %v", got)
	}
}
