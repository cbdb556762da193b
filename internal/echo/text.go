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
		// Go hands headers and form fields over as maps, so the order of
		// names is lost (net/http also canonicalises header names); sorted
		// names at least make reports comparable. The values of one name
		// keep the order they arrived in, duplicates included.
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
	row("sha256", rep.Body.SHA256)
	if rep.Body.Text != nil && *rep.Body.Text != "" {
		// The text goes around the table: its tabs and spaces are the
		// client's, not column separators.
		tw.Flush()
		fmt.Fprintf(w, "\nBody text\n")
		writeBodyText(w, *rep.Body.Text)
	}
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

// writeBodyText writes a text body line by line, indented, exactly as
// received except that characters a terminal would act on or that look
// like others (escape sequences, carriage returns, tabs, invisible
// formatting) are written as Go escapes. A missing final newline is said,
// as diff does.
func writeBodyText(w io.Writer, text string) {
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for _, line := range lines {
		line = strings.TrimSuffix(line, "\n")
		var b strings.Builder
		b.WriteString("  ")
		for _, r := range line {
			if strconv.IsPrint(r) {
				b.WriteRune(r)
			} else {
				q := strconv.QuoteRune(r)
				b.WriteString(q[1 : len(q)-1])
			}
		}
		fmt.Fprintln(w, b.String())
	}
	if !strings.HasSuffix(text, "\n") {
		fmt.Fprintln(w, "  (no newline at end of body)")
	}
}

// show returns s as it can safely be printed to a terminal: unchanged when
// it is plain printable text, otherwise Go-quoted, so that escape sequences,
// tabs that would break the table, invalid UTF-8, invisible formatting
// characters and surrounding spaces reach the reader as visible escapes.
// A value that merely starts with a quote (an ETag, "\"abc\"") is shown as
// sent.
func show(s string) string {
	if s == "" {
		return `""`
	}
	if !utf8.ValidString(s) || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r != ' ' && !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
