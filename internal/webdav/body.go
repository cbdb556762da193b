package webdav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
)

// errTooLarge is a body past maxBody (413).
var errTooLarge = errors.New("request body too large")

// readBody parses a request's XML body; an empty one gives nil.
func readBody(w http.ResponseWriter, r *http.Request) (*node, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > maxBody {
		return nil, errTooLarge
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		return nil, errXML
	}
	return parseBytes(data)
}

func parseBytes(data []byte) (*node, error) {
	if len(data) == 0 {
		return nil, nil
	}
	n, err := parseXML(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if n == nil {
		// Only white space, a comment or a prolog: RFC 4918 treats a
		// body that is there as a document, and this one has no element.
		return nil, errXML
	}
	return n, nil
}

// propfindKind is what a PROPFIND asks for.
type propfindKind int

const (
	findAll   propfindKind = iota // allprop (also an empty body)
	findNames                     // propname
	findProps                     // prop: the named properties
)

type propfind struct {
	kind  propfindKind
	names []xml.Name // findProps: the names; findAll: the include list
}

// parsePropfind reads a PROPFIND body (RFC 4918 §14.20).
func parsePropfind(n *node) (propfind, error) {
	if n == nil {
		return propfind{kind: findAll}, nil
	}
	if !n.is(nsDAV, "propfind") {
		return propfind{}, errXML
	}
	var pf propfind
	found := 0
	for _, c := range n.children() {
		if c.name.Space != nsDAV {
			continue // RFC 4918 §17: unknown elements are ignored
		}
		switch c.name.Local {
		case "allprop":
			pf.kind = findAll
			found++
		case "propname":
			pf.kind = findNames
			found++
		case "prop":
			pf.kind = findProps
			found++
			for _, p := range c.children() {
				pf.names = append(pf.names, p.name)
			}
		}
	}
	if found != 1 {
		return propfind{}, errXML
	}
	if pf.kind == findAll {
		if inc := n.child("include"); inc != nil {
			for _, p := range inc.children() {
				pf.names = append(pf.names, p.name)
			}
		}
	}
	return pf, nil
}

// patch is one property of a PROPPATCH: set (with its value) or remove.
type patch struct {
	remove bool
	name   xml.Name
	lang   string
	value  string // canonical inner XML
	text   string // the value's character data, for the live ones ferry reads
}

// parsePropPatch reads a PROPPATCH body (RFC 4918 §14.19): set and
// remove instructions in document order.
func parsePropPatch(n *node) ([]patch, error) {
	if !n.is(nsDAV, "propertyupdate") {
		return nil, errXML
	}
	var out []patch
	for _, c := range n.children() {
		if c.name.Space != nsDAV || (c.name.Local != "set" && c.name.Local != "remove") {
			continue
		}
		prop := c.child("prop")
		if prop == nil {
			return nil, errXML
		}
		for _, p := range prop.children() {
			out = append(out, patch{
				remove: c.name.Local == "remove", name: p.name, lang: p.lang(),
				value: p.innerXML(), text: p.text(),
			})
		}
	}
	if len(out) == 0 {
		return nil, errXML
	}
	return out, nil
}

// lockInfo is a LOCK request's body (RFC 4918 §14.11).
type lockInfo struct {
	shared bool
	owner  string // inner XML of DAV:owner, echoed in lockdiscovery
}

func parseLockInfo(n *node) (lockInfo, error) {
	if !n.is(nsDAV, "lockinfo") {
		return lockInfo{}, errXML
	}
	var li lockInfo
	scope, typ := n.child("lockscope"), n.child("locktype")
	if scope == nil || typ == nil || typ.child("write") == nil {
		return lockInfo{}, errXML
	}
	switch {
	case scope.child("exclusive") != nil && scope.child("shared") == nil:
	case scope.child("shared") != nil && scope.child("exclusive") == nil:
		li.shared = true
	default:
		return lockInfo{}, errXML
	}
	if o := n.child("owner"); o != nil {
		li.owner = o.innerXML()
	}
	return li, nil
}
