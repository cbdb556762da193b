package listing

import (
	"bufio"
	"io"
	"strconv"
	"unicode/utf8"
)

// WriteJSON renders the page as
//
//	{"path": "/sub/", "entries": [{"name": "a.txt", "type": "file", "size": 12, "modified": "RFC 3339"},
//	                              {"name": "docs", "type": "dir", "modified": "RFC 3339"}]}
//
// Folders carry no size, and no modified when the store keeps no time for
// them (an object store's folders are the common prefixes of their
// members); entries is [] and never null; order is as given (sort
// with p.Sort.Apply first, as for the HTML page). Times are in UTC. It is
// written by hand, like the HTML rows, because encoding/json would allocate a
// struct and a time string per entry; the tests check it against a decoder.
func (p *Page) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var b []byte
	b = append(b, `{"path":`...)
	base := p.cleanPath()
	b = appendJSONString(b, base)
	if p.Search != nil {
		// A search's results: what was asked, and why it stopped early
		// ("" when it went through the whole subtree).
		b = append(b, `,"query":`...)
		b = appendJSONString(b, p.Search.Query)
		b = append(b, `,"limit":`...)
		b = appendJSONString(b, p.Search.Limit)
	}
	b = append(b, `,"entries":[`...)
	for i := range p.Entries {
		e := &p.Entries[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendJSONString(b, e.Name)
		if e.Path != "" {
			b = append(b, `,"path":`...)
			b = appendJSONString(b, base+e.Path)
		}
		if e.IsDir {
			b = append(b, `,"type":"dir"`...)
		} else {
			b = append(b, `,"type":"file","size":`...)
			b = strconv.AppendInt(b, e.Size, 10)
		}
		if !e.ModTime.IsZero() {
			// An object store keeps no time for a folder that is only
			// the common prefix of its members.
			b = append(b, `,"modified":"`...)
			b = appendRFC3339UTC(b, e.ModTime)
			b = append(b, '"')
		}
		b = append(b, '}')
		if len(b) >= 32<<10 {
			if _, err := bw.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	b = append(b, "]}\n"...)
	if _, err := bw.Write(b); err != nil {
		return err
	}
	return bw.Flush()
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping what RFC 8259
// requires plus <, > and & (so the body is inert if a browser ever sniffs it
// as HTML) and U+2028/U+2029 (for JavaScript consumers), as encoding/json
// does. Invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[last:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			last = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, s[last:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[last:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += n
			continue
		}
		i += n
		last = i
	}
	dst = append(dst, s[last:]...)
	return append(dst, '"')
}
