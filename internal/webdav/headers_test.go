package webdav

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseIf(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []ifList // nil: refused
	}{
		{"(<urn:a>)", []ifList{{conds: []ifCond{{token: "urn:a"}}}}},
		{` (<urn:a> ["e1"]) (Not <DAV:no-lock> [W/"e2"])`, []ifList{
			{conds: []ifCond{{token: "urn:a"}, {etag: `"e1"`}}},
			{conds: []ifCond{{not: true, token: "DAV:no-lock"}, {etag: `W/"e2"`}}}}},
		{"<http://h/a> (<urn:a>) (<urn:b>) </b> (not[\"x\"])", []ifList{
			{tag: "http://h/a", conds: []ifCond{{token: "urn:a"}}},
			{tag: "http://h/a", conds: []ifCond{{token: "urn:b"}}},
			{tag: "/b", conds: []ifCond{{not: true, etag: `"x"`}}}}},
		{"", nil},
		{"()", nil},
		{"(<urn:a>", nil},
		{"<urn:a>", nil},
		{"(<urn:a>) <http://h/a> (<urn:b>)", nil}, // untagged then tagged
		{"<http://h/a> (<urn:a>) (<urn:b>) x", nil},
		{"(Not)", nil},
		{"(<>)", nil},
		{"([])", nil},
		{"(<urn a>)", nil},
		{"(urn:a)", nil},
	} {
		h, err := parseIf(tc.in)
		if tc.want == nil {
			if err == nil {
				t.Errorf("parseIf(%q) = %+v, want an error", tc.in, h)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(h.lists, tc.want) {
			t.Errorf("parseIf(%q) = %+v, %v; want %+v", tc.in, h.lists, err, tc.want)
		}
	}
	h, _ := parseIf("(<urn:a>) (Not <urn:b>) (<urn:c>)")
	if got := h.tokens(); !reflect.DeepEqual(got, []string{"urn:a", "urn:c"}) {
		t.Errorf("tokens = %v", got)
	}
}

func TestParseDepthTimeout(t *testing.T) {
	for in, want := range map[string]int{"": 7, "0": 0, " 1 ": 1, "Infinity": infinity, "infinity": infinity} {
		if got, err := parseDepth(in, 7); err != nil || got != want {
			t.Errorf("parseDepth(%q) = %d %v", in, got, err)
		}
	}
	for _, in := range []string{"2", "-1", "inf", "0,1"} {
		if _, err := parseDepth(in, 0); err == nil {
			t.Errorf("parseDepth(%q) accepted", in)
		}
	}
	for in, want := range map[string]time.Duration{
		"":                                  defaultTimeout,
		"Second-3600":                       time.Hour,
		"second-5":                          5 * time.Second,
		"Infinite, Second-4100000000":       maxTimeout,
		"Second-4100000000":                 maxTimeout,
		"Second-99999999999999999999999999": maxTimeout,
		"Second-0, Second-9":                9 * time.Second,
		"Minute-5":                          defaultTimeout,
		"Second-x, Second-30":               30 * time.Second,
	} {
		if got := parseTimeout(in); got != want {
			t.Errorf("parseTimeout(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestXMLParse(t *testing.T) {
	for _, bad := range []string{
		"<a", "<a></b>", "<a/><b/>", "text<a/>", `<a xmlns:p=""/>`, `<p:a/>`, `<a xmlns:xml="urn:x"/>`,
		`<a xmlns:x="http://www.w3.org/XML/1998/namespace"/>`, `<a><b p:c="1"/></a>`,
		strings.Repeat("<a>", maxDepth+1) + strings.Repeat("</a>", maxDepth+1),
		`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, `<a>&unknown;</a>`,
	} {
		if _, err := parseBytes([]byte(bad)); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
	n, err := parseBytes([]byte(`<?xml version="1.0"?><!-- hi --><p:a xmlns:p="urn:p" xmlns="urn:d"><b xml:lang="en" x="1">t<!--c-->u</b><c xmlns=""/></p:a>`))
	if err != nil {
		t.Fatal(err)
	}
	if !n.is("urn:p", "a") || !n.children()[0].is("urn:d", "b") || !n.children()[1].is("", "c") || n.children()[0].lang() != "en" {
		t.Errorf("names: %+v", n)
	}
	if got := n.innerXML(); got != `<b xmlns="urn:d" xml:lang="en" x="1">tu</b><c xmlns=""/>` {
		t.Errorf("innerXML = %s", got)
	}
}

func TestXMLEscape(t *testing.T) {
	var b strings.Builder
	xmlText(&b, "a&<>\"\r\n\t\x01\uFFFD\xff")
	if got := b.String(); got != "a&amp;&lt;&gt;\"&#xD;\n\t\uFFFD\uFFFD\uFFFD" {
		t.Errorf("text: %q", got)
	}
	b.Reset()
	xmlAttr(&b, "\"\n\t")
	if got := b.String(); got != "&#34;&#xA;&#x9;" {
		t.Errorf("attr: %q", got)
	}
}
