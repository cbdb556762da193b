package listing

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseSort(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  Sort
	}{
		{"missing", "", Sort{Key: "name"}},
		{"name asc", "sort=name&order=asc", Sort{Key: "name"}},
		{"size desc", "sort=size&order=desc", Sort{Key: "size", Desc: true}},
		{"time asc", "sort=time", Sort{Key: "time"}},
		{"upper case", "sort=SIZE&order=DESC", Sort{Key: "size", Desc: true}},
		{"invalid key", "sort=owner&order=asc", Sort{Key: "name"}},
		{"invalid key keeps valid order", "sort=bogus&order=desc", Sort{Key: "name", Desc: true}},
		{"invalid order", "sort=size&order=up", Sort{Key: "size"}},
		{"order alone", "order=desc", Sort{Key: "name", Desc: true}},
		{"empty values", "sort=&order=", Sort{Key: "name"}},
		{"first value wins", "sort=time&sort=size", Sort{Key: "time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := ParseSort(q); got != tt.want {
				t.Errorf("ParseSort(%q) = %+v, want %+v", tt.query, got, tt.want)
			}
		})
	}
}

func names(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
		if e.IsDir {
			out[i] += "/"
		}
	}
	return out
}

func TestSortApply(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	entries := []Entry{
		{Name: "b.txt", Size: 30, ModTime: at(3)},
		{Name: "Zeta", IsDir: true, ModTime: at(1)},
		{Name: "a.txt", Size: 10, ModTime: at(5)},
		{Name: "B.txt", Size: 30, ModTime: at(2)},
		{Name: "alpha", IsDir: true, ModTime: at(4)},
		{Name: "C.md", Size: 20, ModTime: at(3)},
		{Name: "Émile", Size: 1, ModTime: at(0)},
		{Name: "émile2", Size: 2, ModTime: at(0)},
	}
	tests := []struct {
		name string
		sort Sort
		want []string
	}{
		{"name asc: folders first, case-insensitive, code point tie-break",
			Sort{Key: "name"},
			[]string{"alpha/", "Zeta/", "a.txt", "B.txt", "b.txt", "C.md", "Émile", "émile2"}},
		{"name desc: exact reverse, folders still first",
			Sort{Key: "name", Desc: true},
			[]string{"Zeta/", "alpha/", "émile2", "Émile", "C.md", "b.txt", "B.txt", "a.txt"}},
		{"size asc: ties by name, folders by name",
			Sort{Key: "size"},
			[]string{"alpha/", "Zeta/", "Émile", "émile2", "a.txt", "C.md", "B.txt", "b.txt"}},
		{"size desc",
			Sort{Key: "size", Desc: true},
			[]string{"Zeta/", "alpha/", "b.txt", "B.txt", "C.md", "a.txt", "émile2", "Émile"}},
		{"time asc: folders by time too, ties by name",
			Sort{Key: "time"},
			[]string{"Zeta/", "alpha/", "Émile", "émile2", "B.txt", "b.txt", "C.md", "a.txt"}},
		{"time desc",
			Sort{Key: "time", Desc: true},
			[]string{"alpha/", "Zeta/", "a.txt", "C.md", "b.txt", "B.txt", "émile2", "Émile"}},
		{"unknown key sorts by name",
			Sort{Key: "owner"},
			[]string{"alpha/", "Zeta/", "a.txt", "B.txt", "b.txt", "C.md", "Émile", "émile2"}},
		{"zero Sort sorts by name",
			Sort{},
			[]string{"alpha/", "Zeta/", "a.txt", "B.txt", "b.txt", "C.md", "Émile", "émile2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := slices.Clone(entries)
			tt.sort.Apply(es)
			if got := names(es); !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			// Sorting is deterministic whatever the input order.
			rev := slices.Clone(entries)
			slices.Reverse(rev)
			tt.sort.Apply(rev)
			if got := names(rev); !slices.Equal(got, tt.want) {
				t.Errorf("from reversed input: got %q", got)
			}
		})
	}
}

func TestSortFoldersFirstAlways(t *testing.T) {
	es := []Entry{
		{Name: "big", Size: 1 << 40, ModTime: time.Unix(9e9, 0)},
		{Name: "dir", IsDir: true, Size: 4096, ModTime: time.Unix(0, 0)},
		{Name: "AAA", Size: 0, ModTime: time.Unix(1, 0)},
	}
	for _, key := range []string{"name", "size", "time"} {
		for _, desc := range []bool{false, true} {
			s := Sort{Key: key, Desc: desc}
			got := slices.Clone(es)
			s.Apply(got)
			if !got[0].IsDir {
				t.Errorf("%+v: first entry %q is not the folder", s, got[0].Name)
			}
		}
	}
}

func TestCompareNames(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"a", "B", -1},
		{"B", "a", 1},
		{"A", "a", -1}, // same fold: code point order, 'A' < 'a'
		{"a", "a", 0},
		{"ab", "a", 1},
		{"", "a", -1},
		{"file10", "file9", -1}, // no natural sort: the spec asks for code point order
		{"σ", "Σ", 1},           // fold equal, then code point: Σ (U+03A3) < σ (U+03C3)
		{"ς", "σa", -1},         // final sigma folds with sigma
		{"é", "f", 1},           // code point order after folding, not locale collation
		{"\xff", "a", 1},        // invalid UTF-8 sorts as U+FFFD
	}
	for _, tt := range tests {
		if got := compareNames(tt.a, tt.b); got != tt.want {
			t.Errorf("compareNames(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := compareNames(tt.b, tt.a); got != -tt.want {
			t.Errorf("compareNames(%q, %q) = %d, want %d (antisymmetry)", tt.b, tt.a, got, -tt.want)
		}
	}
}

// compareFold must agree with comparing strings.ToLower forms for text where
// ToLower and folding agree (here: ASCII and Latin-1).
func FuzzCompareFold(f *testing.F) {
	f.Add("abc", "ABD")
	f.Add("Émile", "émile")
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, s := range []string{a, b} {
			for _, r := range s {
				if r > 0xff || r == 0xb5 || r == 0xff { // µ and ÿ fold outside Latin-1
					return
				}
			}
		}
		want := strings.Compare(strings.ToLower(a), strings.ToLower(b))
		if got := compareFold(a, b); got != want {
			t.Errorf("compareFold(%q, %q) = %d, want %d", a, b, got, want)
		}
	})
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		e    Entry
		want string
	}{
		{Entry{Name: "photos", IsDir: true}, "folder"},
		{Entry{Name: "x.png", IsDir: true}, "folder"},
		{Entry{Name: "IMG_1.JPG"}, "image"},
		{Entry{Name: "clip.mkv"}, "video"},
		{Entry{Name: "song.flac"}, "audio"},
		{Entry{Name: "backup.tar.gz"}, "archive"},
		{Entry{Name: "main.go"}, "code"},
		{Entry{Name: "Makefile"}, "code"},
		{Entry{Name: "notes.md"}, "text"},
		{Entry{Name: "README"}, "text"},
		{Entry{Name: "paper.PDF"}, "pdf"},
		{Entry{Name: "blob.bin"}, "file"},
		{Entry{Name: "noext"}, "file"},
		{Entry{Name: "trailing."}, "file"},
	}
	for _, tt := range tests {
		if got := KindOf(tt.e); got != tt.want {
			t.Errorf("KindOf(%q) = %q, want %q", tt.e.Name, got, tt.want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1, "1 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{10 * 1024, "10 KiB"},
		{10188, "9.9 KiB"},
		{10230, "10 KiB"}, // 9.99 KiB rounds up to 10 rather than showing "10.0"
		{1024*1024 - 1, "1.0 MiB"},
		{3355443, "3.2 MiB"},
		{500 << 20, "500 MiB"},
		{5 << 30, "5.0 GiB"},
		{1 << 62, "4.0 EiB"},
	}
	for _, tt := range tests {
		if got := HumanSize(tt.n); got != tt.want {
			t.Errorf("HumanSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
