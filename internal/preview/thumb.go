package preview

import (
	"bufio"
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"path"
	"strings"
	"sync"

	"golang.org/x/image/draw"

	"github.com/ferry-sh/ferry/internal/storage"
)

// ThumbSize is the longest side of a thumbnail in pixels: twice the grid's
// card, for high-density screens.
const ThumbSize = 320

// Decoders ferry makes thumbnails from, by extension. Each is Go's own; a
// browser shows the rest (WebP, SVG, AVIF) in the viewer without one.
var thumbExts = map[string]string{
	".jpg": "jpeg", ".jpeg": "jpeg", ".jpe": "jpeg", ".jfif": "jpeg",
	".png": "png", ".gif": "gif",
}

// Thumbable reports whether ferry makes thumbnails of files named so.
func Thumbable(name string) bool { return thumbExts[strings.ToLower(path.Ext(name))] != "" }

// thumbError is a refusal whose text is meant for the client.
type thumbError struct{ msg string }

func (e *thumbError) Error() string { return e.msg }

var errNotImage = &thumbError{"not a readable image"}

// thumb is a finished thumbnail, or the refusal a source gets every time
// (until it changes).
type thumb struct {
	data  []byte
	ctype string
	err   error
}

func (t *thumb) size() int64 { return int64(len(t.data)) + 256 }

// cache keeps thumbnails by file identity and modification time, most
// recently used first, within a byte bound.
type cache struct {
	mu    sync.Mutex
	max   int64
	used  int64
	order *list.List // of *cacheEntry, most recent at the front
	byKey map[string]*list.Element
}

type cacheEntry struct {
	key string
	t   *thumb
}

func newCache(max int64) *cache {
	return &cache{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *cache) get(key string) (*thumb, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).t, true
}

func (c *cache) put(key string, t *thumb) {
	if t.size() > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.used -= e.Value.(*cacheEntry).t.size()
		c.order.Remove(e)
	}
	c.byKey[key] = c.order.PushFront(&cacheEntry{key: key, t: t})
	c.used += t.size()
	for c.used > c.max {
		last := c.order.Back()
		ce := last.Value.(*cacheEntry)
		c.order.Remove(last)
		delete(c.byKey, ce.key)
		c.used -= ce.t.size()
	}
}

func (c *cache) bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// flight is a thumbnail being made; later askers for the same one wait for
// it instead of decoding the image again.
type flight struct {
	done chan struct{}
	t    *thumb
}

// makeThumb decodes the image at name (already known to exist with info) and
// scales it. It runs under the server's semaphore.
func (s *Server) makeThumb(ctx context.Context, name string, info storage.Info) *thumb {
	if info.Size > s.opts.MaxSource {
		return &thumb{err: &thumbError{fmt.Sprintf("image file too large for a thumbnail (%d bytes; limit %d)", info.Size, s.opts.MaxSource)}}
	}
	obj, err := s.tree.Open(ctx, name)
	if err != nil {
		return &thumb{err: err}
	}
	defer obj.Close()
	format := thumbExts[strings.ToLower(path.Ext(name))]
	// The header says how large the decoded image would be; anything past
	// the bound is refused before a pixel is allocated.
	cfg, got, err := image.DecodeConfig(bufio.NewReader(io.NewSectionReader(obj, 0, info.Size)))
	if err != nil || got != format {
		return &thumb{err: errNotImage}
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > s.opts.MaxPixels || cfg.Width <= 0 || cfg.Height <= 0 {
		return &thumb{err: &thumbError{fmt.Sprintf("image too large for a thumbnail (%d×%d; limit %d megapixels)", cfg.Width, cfg.Height, s.opts.MaxPixels/1_000_000)}}
	}
	r := bufio.NewReaderSize(io.NewSectionReader(obj, 0, info.Size), 64<<10)
	var src image.Image
	switch format {
	case "jpeg":
		src, err = jpeg.Decode(r)
	case "png":
		src, err = png.Decode(r)
	case "gif":
		src, err = gif.Decode(r) // the first frame
	}
	if err != nil {
		return &thumb{err: errNotImage}
	}
	if err := ctx.Err(); err != nil {
		return &thumb{err: err}
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > ThumbSize || h > ThumbSize {
		if w >= h {
			w, h = ThumbSize, max(1, h*ThumbSize/b.Dx())
		} else {
			w, h = max(1, w*ThumbSize/b.Dy()), ThumbSize
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	// BiLinear widens its kernel with the scale factor, so a large photo
	// is averaged, not sampled: no moiré, at a cost that grows with the
	// source's pixels, which the bound above and the semaphore hold down.
	draw.BiLinear.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	if format == "jpeg" {
		dst = orient(dst, orientation(io.NewSectionReader(obj, 0, min(info.Size, 1<<20))))
	}
	var out bytes.Buffer
	if opaque(src) {
		err = jpeg.Encode(&out, dst, &jpeg.Options{Quality: 82})
		if err != nil {
			return &thumb{err: err}
		}
		return &thumb{data: out.Bytes(), ctype: "image/jpeg"}
	}
	// Transparency survives as PNG, so an icon stays an icon on a dark page.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&out, dst); err != nil {
		return &thumb{err: err}
	}
	return &thumb{data: out.Bytes(), ctype: "image/png"}
}

func opaque(m image.Image) bool {
	if o, ok := m.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// isRefusal reports an error that is the image's, not the server's.
func isRefusal(err error) bool {
	var te *thumbError
	return errors.As(err, &te)
}
