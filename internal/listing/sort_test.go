package listing

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The reference order: Apply folds each name once into a key, and must order
// names exactly as this rune-by-rune comparison does.

// compareNames orders names case-insensitively, then by code point (which,
// for valid UTF-8, is plain byte order) so that "a" and "A" still have a
// fixed order.
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

// referenceSort is the comparison Apply replaced, entry against entry.
func referenceSort(s Sort, entries []Entry) {
	s = s.normalized()
	slices.SortFunc(entries, func(a, b Entry) int {
		if a.IsDir != b.IsDir {
			if a.IsDir {
				return -1
			}
			return 1
		}
		c := 0
		switch s.Key {
		case SortSize:
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
	})
}

var allSorts = []Sort{{Key: SortName}, {Key: SortName, Desc: true}, {Key: SortSize}, {Key: SortSize, Desc: true},
	{Key: SortTime}, {Key: SortTime, Desc: true}}

func checkSameOrder(t *testing.T, entries []Entry) {
	t.Helper()
	for _, s := range allSorts {
		got, want := slices.Clone(entries), slices.Clone(entries)
		s.Apply(got)
		referenceSort(s, want)
		for i := range want {
			if got[i].Name != want[i].Name || got[i].IsDir != want[i].IsDir {
				t.Fatalf("%+v: position %d is %q, want %q\ngot  %q\nwant %q", s, i, got[i].Name, want[i].Name, names(got), names(want))
			}
		}
	}
}

// Names built from the runes that make folding interesting: case pairs,
// sigmas, the Kelvin sign and long s (which fold to ASCII), dotted I,
// invalid UTF-8 and U+FFFD itself.
func TestSortMatchesReference(t *testing.T) {
	pieces := []string{"a", "A", "b", "B", "z", "Z", "0", "_", ".", " ", "é", "É", "e", "σ", "Σ", "ς", "K", "k", "\u212a",
		"ſ", "s", "S", "İ", "ı", "i", "I", "ß", "ẞ", "\xff", "\xe9", "\ufffd", "日", "ǅ", "ǆ", "Ǆ", "\U0001F600", "\x00"}
	r := rand.New(rand.NewPCG(7, 11))
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for round := range 200 {
		n := 2 + r.IntN(60)
		entries := make([]Entry, 0, n)
		seen := map[string]bool{}
		for len(entries) < n {
			var b strings.Builder
			if round%2 == 1 {
				// A long start shared by every name (IMG_0000…), which
				// Apply skips before comparing 8 bytes at once.
				b.WriteString("IMG_0000")
			}
			for range 1 + r.IntN(5) {
				b.WriteString(pieces[r.IntN(len(pieces))])
			}
			name := b.String()
			if seen[name] {
				continue
			}
			seen[name] = true
			entries = append(entries, Entry{Name: name, IsDir: r.IntN(5) == 0, Size: int64(r.IntN(4)),
				ModTime: t0.Add(time.Duration(r.IntN(3)) * time.Second).Add(time.Duration(r.IntN(2)))})
		}
		if round == 0 {
			// Times before 1970 and far ahead of 2262 (beyond UnixNano).
			entries[0].ModTime = time.Date(1900, 1, 1, 0, 0, 0, 5, time.UTC)
			entries[1].ModTime = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		checkSameOrder(t, entries)
	}
}

func FuzzSortMatchesReference(f *testing.F) {
	f.Add("a", "B", "Σ", "ς")
	f.Add("\xff", "\ufffd", "K", "\u212a")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		var entries []Entry
		seen := map[string]bool{}
		for i, n := range []string{a, b, c, d} {
			if seen[n] {
				continue
			}
			seen[n] = true
			entries = append(entries, Entry{Name: n, IsDir: i == 3, Size: int64(len(n) % 2)})
		}
		checkSameOrder(t, entries)
		for _, e := range entries {
			// Invalid bytes become U+FFFD, so keys are always valid.
			var b strings.Builder
			if appendFold(&b, e.Name); !utf8.ValidString(b.String()) {
				t.Errorf("fold of %q is not valid UTF-8", e.Name)
			}
		}
	})
}

// Names like bench/run's fixture: lower case ASCII, so no key is built.
func BenchmarkSort10kLower(b *testing.B) {
	entries := make([]Entry, 10000)
	for i, j := range rand.New(rand.NewPCG(1, 2)).Perm(len(entries)) {
		entries[i] = Entry{Name: "file-" + strings.Repeat("0", 6-len(itoa(j))) + itoa(j) + ".txt", Size: 4096}
	}
	work := make([]Entry, len(entries))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, entries)
		Sort{Key: SortName}.Apply(work)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
