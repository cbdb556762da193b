package preview

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-sh/ferry/internal/listing"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage/local"
	"github.com/ferry-sh/ferry/internal/storage/policy"
)

func TestRenderMarkdown(t *testing.T) {
	for _, c := range []struct {
		src        string
		want, deny []string
	}{
		{"# T\n\n<script>alert(1)</script>\n", []string{"<h3>T</h3>"}, []string{"<script"}},
		{"<img src=x onerror=alert(1)>\n", nil, []string{"<img", "onerror"}},
		{"[a](javascript:alert(1)) [b](JAVASCRIPT:x) [c](vbscript:x)", []string{`<a href="">a</a>`}, []string{"javascript", "JAVASCRIPT", "vbscript"}},
		{"![r](https://e.example/t.png) ![p](//e.example/p.png) ![l](l.png) ![d](data:image/png;base64,AA==)",
			[]string{`<a href="https://e.example/t.png">r</a>`, `<a href="//e.example/p.png">p</a>`, `<img src="l.png" alt="l">`, `<img src="data:image/png;base64,AA==" alt="d">`},
			[]string{`src="https:`, `src="//`}},
		{"###### six\n\n#### four", []string{"<h5>six</h5>", "<h3>four</h3>"}, nil},
		{"## two\n\n### three", []string{"<h3>two</h3>", "<h4>three</h4>"}, nil},
		{"- [x] done\n- [ ] not", []string{`<input type="checkbox" checked disabled aria-label="done"> done`, `aria-label="to do"`}, nil},
		{"| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ - [x] done", []string{"<table>", "<del>gone</del>"}, nil},
		{"# listing {#listing}\n", nil, []string{`id=`}},
	} {
		out, err := RenderMarkdown([]byte(c.src))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%q renders as %s; want %s", c.src, out, w)
			}
		}
		for _, d := range c.deny {
			if strings.Contains(string(out), d) {
				t.Errorf("%q renders as %s, which holds %s", c.src, out, d)
			}
		}
	}
}

func TestOffSite(t *testing.T) {
	for u, want := range map[string]bool{
		"https://x": true, "HTTP://x": true, "//x/y": true, "mailto:a@b": true, " https://x": true,
		"a.png": false, "sub/a.png": false, "/abs.png": false, "a:b.png": true, "./a:b.png": false,
		"data:image/png;base64,": false, "?q": false, "#f": false,
	} {
		if got := offSite(u); got != want {
			t.Errorf("offSite(%q) = %v, want %v", u, got, want)
		}
	}
}

// exifJPEG is a tiny w×h JPEG with an APP1 Exif segment giving orientation o,
// its left column red and the rest blue.
func exifJPEG(t testing.TB, w, h, o int, order binary.ByteOrder) []byte {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{0, 0, 255, 255}
			if x < w/4 {
				c = color.RGBA{255, 0, 0, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	var body bytes.Buffer
	if err := jpeg.Encode(&body, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	// TIFF: header, IFD0 with one entry (orientation), no next IFD.
	var tiff bytes.Buffer
	if order == binary.LittleEndian {
		tiff.WriteString("II")
	} else {
		tiff.WriteString("MM")
	}
	binary.Write(&tiff, order, uint16(42))
	binary.Write(&tiff, order, uint32(8))
	binary.Write(&tiff, order, uint16(1))
	binary.Write(&tiff, order, uint16(0x0112))
	binary.Write(&tiff, order, uint16(3))
	binary.Write(&tiff, order, uint32(1))
	binary.Write(&tiff, order, uint16(o))
	binary.Write(&tiff, order, uint16(0))
	binary.Write(&tiff, order, uint32(0))
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write([]byte{0xFF, 0xD8, 0xFF, 0xE1})
	binary.Write(&out, binary.BigEndian, uint16(len(seg)+2))
	out.Write(seg)
	out.Write(body.Bytes()[2:])
	return out.Bytes()
}

func TestOrientation(t *testing.T) {
	for o := 1; o <= 8; o++ {
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			if got := orientation(bytes.NewReader(exifJPEG(t, 8, 4, o, bo))); got != o {
				t.Errorf("orientation %d (%v) read as %d", o, bo, got)
			}
		}
	}
	for _, junk := range []string{"", "\xff\xd8", "\xff\xd8\xff\xe1\x00\x02", "\xff\xd8\xff\xe1\x00\x10Exif\x00\x00II*\x00\xff\xff\xff\xff", "GIF89a"} {
		if got := orientation(strings.NewReader(junk)); got != 1 {
			t.Errorf("orientation(%q) = %d, want 1", junk, got)
		}
	}
}

func FuzzOrientation(f *testing.F) {
	f.Add(exifJPEG(f, 4, 2, 6, binary.BigEndian))
	f.Add(exifJPEG(f, 4, 2, 3, binary.LittleEndian))
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x10Exif\x00\x00MM\x00*\x00\x00\x00\x08"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := orientation(bytes.NewReader(b)); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}

func TestOrient(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	// Pixel values are their own coordinates, in R and G.
	for y := range 2 {
		for x := range 3 {
			src.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), 0, 255})
		}
	}
	at := func(m *image.RGBA, x, y int) [2]uint8 { c := m.RGBAAt(x, y); return [2]uint8{c.R, c.G} }
	// Where the source's top-left pixel (0,0) and top-right (2,0) land.
	for _, c := range []struct {
		o      int
		w, h   int
		tl, tr [2]int
	}{
		{2, 3, 2, [2]int{2, 0}, [2]int{0, 0}},
		{3, 3, 2, [2]int{2, 1}, [2]int{0, 1}},
		{4, 3, 2, [2]int{0, 1}, [2]int{2, 1}},
		{5, 2, 3, [2]int{0, 0}, [2]int{0, 2}},
		{6, 2, 3, [2]int{1, 0}, [2]int{1, 2}},
		{7, 2, 3, [2]int{1, 2}, [2]int{1, 0}},
		{8, 2, 3, [2]int{0, 2}, [2]int{0, 0}},
	} {
		d := orient(src, c.o)
		if d.Bounds().Dx() != c.w || d.Bounds().Dy() != c.h {
			t.Errorf("o=%d: %v", c.o, d.Bounds())
			continue
		}
		if got := at(d, c.tl[0], c.tl[1]); got != [2]uint8{0, 0} {
			t.Errorf("o=%d: top-left went elsewhere; at %v is %v", c.o, c.tl, got)
		}
		if got := at(d, c.tr[0], c.tr[1]); got != [2]uint8{2, 0} {
			t.Errorf("o=%d: top-right went elsewhere; at %v is %v", c.o, c.tr, got)
		}
	}
}

func newServer(t *testing.T, files map[string][]byte, opts Options) *Server {
	dir := t.TempDir()
	for n, b := range files {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	back, err := local.Open(dir, rootfs.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { back.Close() })
	return New(policy.Wrap(back, policy.Rules{}), opts)
}

// A photo taken with the camera turned: its thumbnail stands upright,
// as browsers show the photo itself.
func TestThumbUpright(t *testing.T) {
	s := newServer(t, map[string][]byte{"turned.jpg": exifJPEG(t, 400, 200, 6, binary.BigEndian)}, Options{Thumbnails: true})
	info, _ := s.tree.Stat(context.Background(), "turned.jpg")
	th := s.makeThumb(context.Background(), "turned.jpg", info)
	if th.err != nil {
		t.Fatal(th.err)
	}
	m, err := jpeg.Decode(bytes.NewReader(th.data))
	if err != nil {
		t.Fatal(err)
	}
	if b := m.Bounds(); b.Dx() != 160 || b.Dy() != 320 {
		t.Fatalf("thumbnail %v, want 160x320 (turned)", b)
	}
	// The red left column is now at the top.
	if r, _, b, _ := m.At(80, 10).RGBA(); r < 0xa000 || b > 0x6000 {
		t.Errorf("top of the upright thumbnail is not red: r=%x b=%x", r, b)
	}
	if r, _, b, _ := m.At(80, 300).RGBA(); b < 0xa000 || r > 0x6000 {
		t.Errorf("bottom of the upright thumbnail is not blue: r=%x b=%x", r, b)
	}
}

func TestCacheBound(t *testing.T) {
	c := newCache(10 << 10)
	for i := range 100 {
		c.put(string(rune('a'+i)), &thumb{data: make([]byte, 1000)})
		if c.bytes() > 10<<10 {
			t.Fatalf("cache at %d bytes, bound %d", c.bytes(), 10<<10)
		}
	}
	if _, ok := c.get(string(rune('a' + 99))); !ok {
		t.Error("the latest entry was dropped")
	}
	if _, ok := c.get("a"); ok {
		t.Error("the oldest entry was kept")
	}
	c.put("big", &thumb{data: make([]byte, 20<<10)})
	if _, ok := c.get("big"); ok {
		t.Error("an entry larger than the bound was kept")
	}
}

func TestReadmePick(t *testing.T) {
	s := newServer(t, map[string][]byte{
		"a/README":     []byte("plain"),
		"a/readme.md":  []byte("# md"),
		"b/README":     []byte("<plain>"),
		"c/Readme.TXT": []byte("text"),
	}, Options{})
	ctx := context.Background()
	entries := func(names ...string) []listing.Entry {
		var e []listing.Entry
		for _, n := range names {
			e = append(e, listing.Entry{Name: n})
		}
		return e
	}
	if r := s.Readme(ctx, "a", entries("README", "readme.md", "x")); r == nil || r.Name != "readme.md" || !strings.Contains(string(r.HTML), "<h3>md</h3>") {
		t.Errorf("a: %+v", r)
	}
	if r := s.Readme(ctx, "b", entries("README")); r == nil || string(r.HTML) != `<pre class="plain">&lt;plain&gt;</pre>` {
		t.Errorf("b: %+v", r)
	}
	if r := s.Readme(ctx, "c", entries("Readme.TXT")); r == nil || r.Name != "Readme.TXT" {
		t.Errorf("c: %+v", r)
	}
	if r := s.Readme(ctx, "c", entries("notes.md")); r != nil {
		t.Errorf("notes.md taken for a README: %+v", r)
	}
	if r := s.Readme(ctx, "a", []listing.Entry{{Name: "README.md", IsDir: true}}); r != nil {
		t.Errorf("a folder taken for a README: %+v", r)
	}
}
