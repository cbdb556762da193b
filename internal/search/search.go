// Package search finds names in a subtree of a storage.Tree (?q=WORDS): a
// name matches when it contains every word, without regard to case or
// accents. The walk is bounded in results, folders and time, and sees the
// tree through whatever policy wraps it, so what the rules hide (dotfiles,
// symlinks leading out, CGI folders) is never found.
package search

import (
	"context"
	"errors"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ferry-sh/ferry/internal/storage"
)

// Limits bound one search.
type Limits struct {
	Results int           // at most this many hits
	Folders int           // at most this many folders listed
	Budget  time.Duration // at most this long
}

// DefaultLimits are the command line's: a thousand names, twenty
// thousand folders, two seconds.
func DefaultLimits() Limits { return Limits{Results: 1000, Folders: 20000, Budget: 2 * time.Second} }

// Why a search stopped before the end of the subtree.
const (
	LimitResults = "results"
	LimitFolders = "folders"
	LimitTime    = "time"
)

// MaxQuery is the longest query accepted, in bytes.
const MaxQuery = 256

// ErrQuery is a query that cannot be searched for (too long, no words).
var ErrQuery = errors.New("search: bad query")

// Hit is a matching name: its path below the searched folder ("sub/a.txt")
// and what the tree says of it.
type Hit struct {
	Path string
	storage.Info
}

// Words splits a query into normalized words; ErrQuery when it has none or
// is too long.
func Words(q string) ([]string, error) {
	if len(q) > MaxQuery {
		return nil, ErrQuery
	}
	words := strings.Fields(Fold(q))
	if len(words) == 0 {
		return nil, ErrQuery
	}
	return words, nil
}

// Fold lowercases s and strips its accents ("Élan" → "elan"), so that
// names and queries compare as people read them. ASCII is folded without
// allocating more than the result.
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	// norm passes bytes that are not UTF-8 through and may then leave the
	// letters after them composed ("\xf4ŏ" kept its breve), so that a
	// folded word folded again changed and no longer matched the same
	// names: such bytes become U+FFFD first.
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue // a combining mark: the accent of the letter before
		}
		b.WriteRune(unicode.ToLower(r))
	}
	// Letters that decompose into nothing (ß, æ, ø) stay as they are.
	return b.String()
}

// Match reports whether name contains every word (as Words gives them).
func Match(name string, words []string) bool {
	f := Fold(name)
	for _, w := range words {
		if !strings.Contains(f, w) {
			return false
		}
	}
	return true
}

// Walk searches the subtree at dir (a clean relative name, "." for the
// root) breadth first, so that nearer names come first when a bound stops
// it. keep, when not nil, decides which paths (relative to the tree's
// root) the client may see; a folder it refuses is neither shown nor
// entered. It returns the hits and, when a bound stopped it, which one.
// An error is returned only when dir itself cannot be listed.
func Walk(ctx context.Context, tree storage.Tree, dir string, words []string, lim Limits, keep func(name string) bool) ([]Hit, string, error) {
	ctx, cancel := context.WithTimeout(ctx, lim.Budget)
	defer cancel()
	var hits []Hit
	queue := []string{dir}
	visited := 0
	for len(queue) > 0 {
		if visited >= lim.Folders {
			return hits, LimitFolders, nil
		}
		cur := queue[0]
		queue = queue[1:]
		visited++
		for info, err := range tree.List(ctx, cur) {
			if ctx.Err() != nil {
				return hits, LimitTime, nil
			}
			if err != nil {
				if cur == dir {
					return nil, "", err
				}
				break // a folder that vanished or cannot be read: skip it
			}
			full := info.Name
			if cur != "." {
				full = cur + "/" + info.Name
			}
			if keep != nil && !keep(full) {
				continue
			}
			if Match(info.Name, words) {
				if len(hits) >= lim.Results {
					return hits, LimitResults, nil
				}
				rel := full
				if dir != "." {
					rel = strings.TrimPrefix(full, dir+"/")
				}
				hits = append(hits, Hit{Path: path.Clean(rel), Info: info})
			}
			if info.IsDir {
				queue = append(queue, full)
			}
		}
		if ctx.Err() != nil {
			return hits, LimitTime, nil
		}
	}
	return hits, "", nil
}
