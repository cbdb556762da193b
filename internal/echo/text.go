package echo

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// writeText renders rep for a person reading a terminal: one section per
// part of the request, each a two-column table aligned by tabwriter.
func writeText(w io.Writer, rep *Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(cells ...string) {
		fmt.Fprintf(tw, "  %s\n", strings.Join(cells, "\t"))
	}
	section := func(title string, m map[string][]string) {
		fmt.Fprintf(tw, "\n%s\n", title)
		if len(m) == 0 {
			row("(none)")
			return
		}
		// Go hands headers and form fields over as maps, so the order they
		// arrived in is lost; sorted names at least make reports comparable.
		for _, name := range slices.Sorted(maps.Keys(m)) {
			for _, v := range m[name] {
				row(show(name), show(v))
			}
		}
	}

	fmt.Fprintf(tw, "Request\n")
	row("client", show(rep.Client))
	row("method", show(rep.Method))
	row("path", show(rep.Path))
	if rep.RawQuery != "" {
		row("raw query", show(rep.RawQuery))
	}
	row("protocol", show(rep.Protocol))
	section("Query", rep.Query)
	section("Headers", rep.Headers)
	if len(rep.Trailers) > 0 {
		section("Trailers", rep.Trailers)
	}

	fmt.Fprintf(tw, "\nBody\n")
	row("size", strconv.FormatInt(rep.Body.Size, 10)+" bytes")
	section("Form", rep.Body.Form)

	fmt.Fprintf(tw, "\nFiles\n")
	if len(rep.Body.Files) == 0 {
		row("(none)")
	} else {
		row("field", "filename", "size", "content type", "sha256")
		for _, f := range rep.Body.Files {
			row(show(f.Field), show(f.Filename), strconv.FormatInt(f.Size, 10), show(f.ContentType), f.SHA256)
		}
	}

	if len(rep.Body.Notes) > 0 {
		fmt.Fprintf(tw, "\nNotes\n")
		for _, n := range rep.Body.Notes {
			row(show(n))
		}
	}
	tw.Flush()
}

// show returns s as it can safely be printed to a terminal: unchanged when
// it is plain printable text, otherwise Go-quoted, so that escape sequences,
// tabs that would break the table, invalid UTF-8 and invisible formatting
// characters from a request reach the reader as visible escapes.
func show(s string) string {
	if s == "" {
		return `""`
	}
	if !utf8.ValidString(s) || strings.HasPrefix(s, `"`) ||
		strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r != ' ' && !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
