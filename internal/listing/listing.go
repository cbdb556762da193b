// Package listing turns a folder into data (entries, sort order, capabilities)
// and renders it as an HTML page or as JSON. The page's script and stylesheet
// are embedded, so a listing never needs anything from outside the binary.
//
// The package does no I/O on the served tree: the file server reads the
// folder, fills a Page, sorts it with Sort.Apply, and renders it into a buffer
// so that a render error can still become a clean 500.
package listing

import (
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Entry is one item of a folder.
type Entry struct {
	Name    string // base name, no slash
	IsDir   bool
	Size    int64 // files only; ignored for folders
	ModTime time.Time
}

// Sort keys accepted in ?sort=.
const (
	SortName = "name"
	SortSize = "size"
	SortTime = "time"
)

// Sort is the order of a listing, as chosen by ?sort= and ?order=.
type Sort struct {
	Key  string // "name" | "size" | "time"
	Desc bool
}

// ParseSort reads ?sort=name|size|time&order=asc|desc. Each parameter falls
// back on its own when missing or invalid (to name and asc), so ?order=desc
// alone sorts names Z to A. Values are matched without regard to case.
func ParseSort(q url.Values) Sort {
	s := Sort{Key: SortName}
	switch k := strings.ToLower(strings.TrimSpace(q.Get("sort"))); k {
	case SortName, SortSize, SortTime:
		s.Key = k
	}
	s.Desc = strings.EqualFold(strings.TrimSpace(q.Get("order")), "desc")
	return s
}

// normalized returns s with an unknown key replaced by name, so a zero Sort
// (or one built by hand) still gives a defined order.
func (s Sort) normalized() Sort {
	switch s.Key {
	case SortName, SortSize, SortTime:
	default:
		s.Key = SortName
	}
	return s
}

// Apply sorts entries in place. Folders come first in every order. Within
// each group the chosen key decides; names compare case-insensitively with
// code point order as the tie-break, and equal sizes or times fall back on
// that name order. Descending is the exact reverse of ascending within each
// group, so flipping ?order= always flips the list (folders staying on top).
func (s Sort) Apply(entries []Entry) {
	s = s.normalized()
	// Not a stable sort: the order is total (only two entries with the same
	// name and kind compare equal, which a folder cannot hold), and pdqsort
	// makes several times fewer comparisons than the stable merge.
	slices.SortFunc(entries, s.compare)
}

func (s Sort) compare(a, b Entry) int {
	if a.IsDir != b.IsDir {
		if a.IsDir {
			return -1
		}
		return 1
	}
	c := 0
	switch s.Key {
	case SortSize:
		// Folder sizes are meaningless (and often the filesystem's block
		// size), so folders sort by name under ?sort=size.
		if !a.IsDir {
			c = cmpInt64(a.Size, b.Size)
		}
	case SortTime:
		c = a.ModTime.Compare(b.ModTime)
	}
	if c == 0 {
		c = compareNames(a.Name, b.Name)
	}
	if s.Desc {
		return -c
	}
	return c
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareNames orders names case-insensitively, then by code point (which,
// for valid UTF-8, is plain byte order) so that "a" and "A" still have a
// fixed order. It allocates nothing, which matters at 100,000 entries.
func compareNames(a, b string) int {
	if c := compareFold(a, b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// compareFold compares a and b rune by rune after simple case folding.
func compareFold(a, b string) int {
	// Skip the common prefix byte by byte (names in a folder often share
	// one), then back up to a rune boundary so folding sees whole runes.
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	for i > 0 && (i < len(a) && !utf8.RuneStart(a[i]) || i < len(b) && !utf8.RuneStart(b[i])) {
		i--
	}
	a, b = a[i:], b[i:]
	for a != "" && b != "" {
		var ra, rb rune
		// ASCII fast path: most file names are ASCII.
		if c := a[0]; c < utf8.RuneSelf {
			ra, a = rune(c), a[1:]
			if 'A' <= ra && ra <= 'Z' {
				ra += 'a' - 'A'
			}
		} else {
			var n int
			ra, n = utf8.DecodeRuneInString(a)
			a = a[n:]
			ra = foldRune(ra)
		}
		if c := b[0]; c < utf8.RuneSelf {
			rb, b = rune(c), b[1:]
			if 'A' <= rb && rb <= 'Z' {
				rb += 'a' - 'A'
			}
		} else {
			var n int
			rb, n = utf8.DecodeRuneInString(b)
			b = b[n:]
			rb = foldRune(rb)
		}
		if ra != rb {
			if ra < rb {
				return -1
			}
			return 1
		}
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

// foldRune maps a rune to a lower-case representative of its case class.
// Going through upper case first joins forms that ToLower alone keeps apart,
// such as the Greek final sigma (ς, Σ and σ all sort together).
func foldRune(r rune) rune {
	return unicode.ToLower(unicode.ToUpper(r))
}
