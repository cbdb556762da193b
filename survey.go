package ferry

import (
	"context"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage/policy"
)

// Survey is what a handler's tree exposes and refuses, as counted for the
// command line's banner.
type Survey struct {
	Files, Folders int
	Truncated      bool // stopped counting at a bound
	// Dotfiles counts the names the policy hides as dotfiles in the first
	// two levels, where a forgotten .git or .env usually sits (0 with
	// Options.Hidden).
	Dotfiles int
	// Top lists the visible files at the top, up to 21.
	Top []string
}

// surveyDepth: dotfiles are counted in the first levels.
const surveyDepth = 2

// Survey walks the tree breadth first, so the top levels are counted before
// a bound hits: at most maxEntries entries, until deadline. It reads the
// backend below the policy layer, since it must also see what the policy
// hides; for a set of named files it counts just those.
func (h *Handler) Survey(ctx context.Context, maxEntries int, deadline time.Time) Survey {
	var s Survey
	pt, _ := h.tree.(*policy.Tree)
	if pt == nil || h.share != nil {
		return s
	}
	raw := pt.Unwrap()
	type job struct {
		dir   string
		depth int
	}
	queue := []job{{".", 1}}
	for len(queue) > 0 {
		j := queue[0]
		queue = queue[1:]
		for info, err := range raw.List(ctx, j.dir) {
			if err != nil {
				break
			}
			if s.Files+s.Folders >= maxEntries || time.Now().After(deadline) || ctx.Err() != nil {
				s.Truncated = true
				return s
			}
			name := path.Join(j.dir, info.Name)
			if !pt.Visible(name) {
				if ownName(j.dir, info.Name) {
					continue
				}
				if j.depth <= surveyDepth {
					s.Dotfiles++
				}
				continue
			}
			if info.IsDir {
				s.Folders++
				queue = append(queue, job{name, j.depth + 1})
				continue
			}
			s.Files++
			if j.dir == "." && len(s.Top) <= 20 {
				s.Top = append(s.Top, info.Name)
			}
		}
	}
	slices.Sort(s.Top)
	return s
}

// ownName reports ferry's own names, which are neither exposed nor a
// user's dotfiles: partial uploads and the reserved top-level folder.
func ownName(dir, n string) bool {
	return strings.HasPrefix(n, rootfs.TempPrefix) || dir == "." && n == rootfs.Reserved
}
