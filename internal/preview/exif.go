package preview

import (
	"bufio"
	"encoding/binary"
	"image"
	"io"
)

// orientation reads the EXIF orientation (1 to 8) of a JPEG: how the camera
// was held, which browsers honour when they show the photo, so its thumbnail
// must too. Anything unexpected gives 1 (as stored). It reads at most the
// segments before the image data, each bounded by its 16-bit length.
func orientation(r io.Reader) int {
	br := bufio.NewReaderSize(r, 4096)
	var soi [2]byte
	if _, err := io.ReadFull(br, soi[:]); err != nil || soi != [2]byte{0xFF, 0xD8} {
		return 1
	}
	for range 32 { // markers before the image data: a handful in practice
		var m [4]byte
		if _, err := io.ReadFull(br, m[:2]); err != nil || m[0] != 0xFF {
			return 1
		}
		for m[1] == 0xFF { // fill bytes
			b, err := br.ReadByte()
			if err != nil {
				return 1
			}
			m[1] = b
		}
		switch {
		case m[1] == 0xDA || m[1] == 0xD9: // start of scan, end of image
			return 1
		case m[1] >= 0xD0 && m[1] <= 0xD7 || m[1] == 0x01: // no length
			continue
		}
		if _, err := io.ReadFull(br, m[2:4]); err != nil {
			return 1
		}
		n := int(binary.BigEndian.Uint16(m[2:4])) - 2
		if n < 0 {
			return 1
		}
		if m[1] != 0xE1 {
			if _, err := br.Discard(n); err != nil {
				return 1
			}
			continue
		}
		seg := make([]byte, n)
		if _, err := io.ReadFull(br, seg); err != nil {
			return 1
		}
		if o, ok := exifOrientation(seg); ok {
			return o
		}
	}
	return 1
}

// exifOrientation finds tag 0x0112 in IFD0 of an APP1 "Exif" segment.
func exifOrientation(seg []byte) (int, bool) {
	const hdr = "Exif\x00\x00"
	if len(seg) < len(hdr)+8 || string(seg[:len(hdr)]) != hdr {
		return 0, false
	}
	tiff := seg[len(hdr):]
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0, false
	}
	if bo.Uint16(tiff[2:4]) != 42 {
		return 0, false
	}
	off := bo.Uint32(tiff[4:8])
	if off > uint32(len(tiff)-2) {
		return 0, false
	}
	count := int(bo.Uint16(tiff[off:]))
	entries := tiff[off+2:]
	for i := 0; i < count && 12*(i+1) <= len(entries); i++ {
		e := entries[12*i:]
		if bo.Uint16(e[0:2]) != 0x0112 {
			continue
		}
		if bo.Uint16(e[2:4]) != 3 { // SHORT
			return 0, false
		}
		v := int(bo.Uint16(e[8:10]))
		if v < 1 || v > 8 {
			return 0, false
		}
		return v, true
	}
	return 0, false
}

// orient turns an image stored with EXIF orientation o upright.
func orient(src *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return src
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 { // the four that swap width and height
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range h {
		for x := range w {
			var dx, dy int
			switch o {
			case 2: // mirrored
				dx, dy = w-1-x, y
			case 3: // upside down
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored upside down
				dx, dy = x, h-1-y
			case 5: // mirrored, turned left
				dx, dy = y, x
			case 6: // turned left: rotate right to fix
				dx, dy = h-1-y, x
			case 7: // mirrored, turned right
				dx, dy = h-1-y, w-1-x
			case 8: // turned right: rotate left to fix
				dx, dy = y, w-1-x
			}
			si := src.PixOffset(b.Min.X+x, b.Min.Y+y)
			di := dst.PixOffset(dx, dy)
			copy(dst.Pix[di:di+4], src.Pix[si:si+4])
		}
	}
	return dst
}
