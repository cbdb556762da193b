package webdav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// The request bodies of PROPFIND, PROPPATCH and LOCK are small XML
// documents. They are read whole (bounded by maxBody) into a tree of nodes
// whose names are resolved against their namespace declarations here, not by
// encoding/xml: its Token leaves an undeclared prefix in place of a namespace
// and accepts xmlns:p="", both of which RFC 4918 §8.2 and the Namespaces in
// XML recommendation make a client error (litmus's propfind_invalid2).

const (
	nsDAV = "DAV:"
	nsXML = "http://www.w3.org/XML/1998/namespace"
	// maxBody bounds a request body; a dead property's value lives in it.
	maxBody = 1 << 20
	// maxDepth bounds element nesting, so that a hostile body cannot make
	// the parser or the serializer recurse without end.
	maxDepth = 64
)

var errXML = errors.New("malformed XML body")

// node is one element: its resolved name, its attributes (namespace
// declarations left out, names resolved) and its content in document order:
// *node children and string character data.
type node struct {
	name    xml.Name
	attr    []xml.Attr
	content []any
}

// children are the element children.
func (n *node) children() []*node {
	var out []*node
	for _, c := range n.content {
		if e, ok := c.(*node); ok {
			out = append(out, e)
		}
	}
	return out
}

// child is the first element child with the given name in the DAV: namespace.
func (n *node) child(local string) *node {
	for _, c := range n.children() {
		if c.name.Space == nsDAV && c.name.Local == local {
			return c
		}
	}
	return nil
}

func (n *node) is(space, local string) bool {
	return n != nil && n.name.Space == space && n.name.Local == local
}

// text is the node's character data, children's included.
func (n *node) text() string {
	var b strings.Builder
	for _, c := range n.content {
		switch c := c.(type) {
		case string:
			b.WriteString(c)
		case *node:
			b.WriteString(c.text())
		}
	}
	return b.String()
}

// lang is the node's xml:lang attribute.
func (n *node) lang() string {
	for _, a := range n.attr {
		if a.Name.Space == nsXML && a.Name.Local == "lang" {
			return a.Value
		}
	}
	return ""
}

// parseXML reads one XML document. An empty body gives (nil, nil).
func parseXML(r io.Reader) (*node, error) {
	d := xml.NewDecoder(r)
	d.Strict = true
	type frame struct {
		n      *node
		raw    xml.Name // as written, to match the end tag
		prefix map[string]string
		def    string
	}
	var stack []frame
	var root *node
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			if len(stack) > 0 {
				return nil, errXML
			}
			return root, nil
		}
		if err != nil {
			return nil, errXML
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, errXML // a second root element
			}
			if len(stack) >= maxDepth {
				return nil, errXML
			}
			f := frame{raw: t.Name}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				f.prefix, f.def = top.prefix, top.def
			}
			copied := false
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					f.def = a.Value
				case a.Name.Space == "xmlns":
					// Namespaces in XML 1.0 §3: a prefix may not be
					// bound to the empty name, nor xmlns be bound at all,
					// nor xml to anything but its own name.
					if a.Value == "" || !isNCName(a.Name.Local) || a.Name.Local == "xmlns" || (a.Name.Local == "xml") != (a.Value == nsXML) {
						return nil, errXML
					}
					if !copied {
						m := make(map[string]string, len(f.prefix)+1)
						for k, v := range f.prefix {
							m[k] = v
						}
						f.prefix, copied = m, true
					}
					f.prefix[a.Name.Local] = a.Value
				}
			}
			resolve := func(n xml.Name, elem bool) (xml.Name, bool) {
				// encoding/xml checks a qualified name as a whole, so
				// "x:0" passes though its local part is no name; written
				// back unprefixed (a dead property in a PROPFIND answer)
				// it would be malformed XML.
				if !isNCName(n.Local) || n.Space != "" && !isNCName(n.Space) {
					return n, false
				}
				switch {
				case n.Space == "" && elem:
					return xml.Name{Space: f.def, Local: n.Local}, true
				case n.Space == "":
					return n, true
				case n.Space == "xml":
					return xml.Name{Space: nsXML, Local: n.Local}, true
				}
				uri, ok := f.prefix[n.Space]
				return xml.Name{Space: uri, Local: n.Local}, ok
			}
			name, ok := resolve(t.Name, true)
			if !ok {
				return nil, errXML
			}
			f.n = &node{name: name}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				an, ok := resolve(a.Name, false)
				if !ok {
					return nil, errXML
				}
				f.n.attr = append(f.n.attr, xml.Attr{Name: an, Value: a.Value})
			}
			if len(stack) == 0 {
				root = f.n
			} else {
				p := stack[len(stack)-1].n
				p.content = append(p.content, f.n)
			}
			stack = append(stack, f)
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1].raw != t.Name {
				return nil, errXML
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, errXML // text outside the root element
				}
				continue
			}
			p := stack[len(stack)-1].n
			p.content = append(p.content, string(t))
		}
		// Comments, processing instructions and directives carry nothing a
		// WebDAV body means; Go's decoder never expands a DTD's entities.
	}
}

// innerXML serializes a node's content so that it reads back the same
// wherever it is embedded: every element states its namespace as the
// default one (xmlns="..."), and namespaced attributes get a prefix
// declared on the same element. Comments were dropped when parsing.
func (n *node) innerXML() string {
	var b strings.Builder
	for _, c := range n.content {
		switch c := c.(type) {
		case string:
			xmlText(&b, c)
		case *node:
			c.writeXML(&b)
		}
	}
	return b.String()
}

func (n *node) writeXML(b *strings.Builder) {
	b.WriteByte('<')
	b.WriteString(n.name.Local)
	b.WriteString(` xmlns="`)
	xmlAttr(b, n.name.Space)
	b.WriteByte('"')
	ns := 0
	for _, a := range n.attr {
		b.WriteByte(' ')
		switch a.Name.Space {
		case "":
		case nsXML:
			b.WriteString("xml:")
		default:
			p := "a" + string(rune('0'+ns%10)) + strings.Repeat("_", ns/10)
			ns++
			b.WriteString("xmlns:" + p + `="`)
			xmlAttr(b, a.Name.Space)
			b.WriteString(`" ` + p + ":")
		}
		b.WriteString(a.Name.Local)
		b.WriteString(`="`)
		xmlAttr(b, a.Value)
		b.WriteByte('"')
	}
	if len(n.content) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	b.WriteString(n.innerXML())
	b.WriteString("</")
	b.WriteString(n.name.Local)
	b.WriteByte('>')
}

// xmlText writes s escaped for character data: the markup characters and
// a carriage return (which a parser would turn into a line feed); a
// character XML 1.0 does not allow (a control character in a file name)
// becomes U+FFFD, as encoding/xml does. Quotes stay as they are, which keeps
// every ETag of a PROPFIND answer 8 bytes shorter than EscapeText would.
func xmlText(w io.Writer, s string) { xmlEscape(w, s, false) }

// xmlAttr writes s escaped for an attribute value in double quotes, where
// white space other than a space would be normalized away.
func xmlAttr(w io.Writer, s string) { xmlEscape(w, s, true) }

func xmlEscape(w io.Writer, s string, attr bool) {
	last := 0
	var esc string
	for i, r := range s {
		switch {
		case r == '&':
			esc = "&amp;"
		case r == '<':
			esc = "&lt;"
		case r == '>':
			esc = "&gt;"
		case r == '\r':
			esc = "&#xD;"
		case attr && r == '"':
			esc = "&#34;"
		case attr && r == '\n':
			esc = "&#xA;"
		case attr && r == '\t':
			esc = "&#x9;"
		case r == '\n', r == '\t':
			continue
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF,
			r == utf8.RuneError && !validAt(s, i):
			esc = "\uFFFD"
		default:
			continue
		}
		io.WriteString(w, s[last:i])
		io.WriteString(w, esc)
		_, size := utf8.DecodeRuneInString(s[i:])
		last = i + size
	}
	io.WriteString(w, s[last:])
}

// validAt reports whether a RuneError at i is the character U+FFFD itself,
// not an invalid byte.
func validAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 3
}

// isNCName reports whether s is a name without a colon (Namespaces in XML
// 1.0 §3, NCName), by XML 1.0's (fifth edition) NameStartChar and NameChar.
func isNCName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		start := r == '_' || 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' ||
			0xC0 <= r && r <= 0xD6 || 0xD8 <= r && r <= 0xF6 || 0xF8 <= r && r <= 0x2FF ||
			0x370 <= r && r <= 0x37D || 0x37F <= r && r <= 0x1FFF || 0x200C <= r && r <= 0x200D ||
			0x2070 <= r && r <= 0x218F || 0x2C00 <= r && r <= 0x2FEF || 0x3001 <= r && r <= 0xD7FF ||
			0xF900 <= r && r <= 0xFDCF || 0xFDF0 <= r && r <= 0xFFFD || 0x10000 <= r && r <= 0xEFFFF
		if r == utf8.RuneError && !validAt(s, i) {
			return false
		}
		if start {
			continue
		}
		if i == 0 {
			return false
		}
		if !(r == '-' || r == '.' || '0' <= r && r <= '9' || r == 0xB7 ||
			0x300 <= r && r <= 0x36F || 0x203F <= r && r <= 0x2040) {
			return false
		}
	}
	return true
}
