package webdav

import (
	"strings"
	"testing"
	"time"
)

// FuzzXMLBody: no body a client sends makes the parsers fail other than
// with an error, and a parsed value written back (a dead property's, an
// owner's) reads again as the same value.
func FuzzXMLBody(f *testing.F) {
	for _, s := range []string{patchBody, exclusiveBody, sharedBody,
		`<propfind xmlns="DAV:"><prop><getetag/><x:y xmlns:x="urn:x"/></prop></propfind>`,
		`<propfind xmlns="DAV:"><allprop/><include><quota-available-bytes/></include></propfind>`,
		`<D:propertyupdate xmlns:D="DAV:"><D:remove><D:prop><a xmlns="" xml:lang="de" b="&amp;"/></D:prop></D:remove></D:propertyupdate>`,
		"<a>\r\n&#x10000;</a>", `<a xmlns:p="urn:p"><p:b p:c="d"/></a>`, "<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseBytes(data)
		if err != nil || n == nil {
			return
		}
		parsePropfind(n)
		parsePropPatch(n)
		parseLockInfo(n)
		inner := n.innerXML()
		again, err := parseBytes([]byte("<w>" + inner + "</w>"))
		if err != nil {
			t.Fatalf("innerXML does not parse: %v\n%q\nfrom %q", err, inner, data)
		}
		if got := again.innerXML(); got != inner {
			t.Fatalf("innerXML not stable:\n%q\n%q", inner, got)
		}
	})
}

// FuzzIf: the If parser never panics, and what it accepts is well formed.
func FuzzIf(f *testing.F) {
	for _, s := range []string{"(<urn:a>)", `(<urn:a> ["e"]) (Not <DAV:no-lock>)`, "<http://h/a> (<urn:a>) </b> (Not [W/\"x\"])", "((", "<", "(Not<a>)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseIf(s)
		if err != nil {
			return
		}
		if len(h.lists) == 0 || len(h.lists) > maxIfLists {
			t.Fatalf("%q: %d lists", s, len(h.lists))
		}
		for _, l := range h.lists {
			if len(l.conds) == 0 {
				t.Fatalf("%q: empty list", s)
			}
			for _, c := range l.conds {
				if (c.token == "") == (c.etag == "") || strings.ContainsAny(c.token, " \t>") {
					t.Fatalf("%q: bad condition %+v", s, c)
				}
			}
		}
	})
}

// FuzzDepthTimeout: Depth gives 0, 1 or infinity or an error; Timeout is
// always a usable duration within the bound.
func FuzzDepthTimeout(f *testing.F) {
	for _, s := range []string{"0", "1", "infinity", "Second-60", "Infinite, Second-4100000000", "Second-", "second-00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := parseDepth(s, 0); err == nil && d != 0 && d != 1 && d != infinity {
			t.Fatalf("parseDepth(%q) = %d", s, d)
		}
		if d := parseTimeout(s); d <= 0 || d > maxTimeout || d%time.Second != 0 {
			t.Fatalf("parseTimeout(%q) = %v", s, d)
		}
	})
}
