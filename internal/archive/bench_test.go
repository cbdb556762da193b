package archive

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage/local"
	pol "github.com/ferry-sh/ferry/internal/storage/policy"
)

// BenchmarkWrite archives 2,000 files of 4 KiB of random letters (as
// bench/run's dir10k, a fifth of it) in each format.
func BenchmarkWrite(b *testing.B) {
	dir := b.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 4096)
	for i := range 2000 {
		for j := range buf {
			buf[j] = byte('a' + r.IntN(26))
		}
		ext := [...]string{".txt", ".bin", ".jpg", ".md"}[i%4]
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%06d%s", i, ext)), buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	fsys, err := local.Open(dir, rootfs.Policy{})
	if err != nil {
		b.Fatal(err)
	}
	defer fsys.Close()
	for _, format := range Formats {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(2000 * 4096)
			for b.Loop() {
				if err := Write(context.Background(), io.Discard, format, "", []Source{{Tree: pol.Wrap(fsys, pol.Rules{}), Path: ".", Name: "t"}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
