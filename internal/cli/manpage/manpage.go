// Package manpage generates ferry.1 from the command line's definitions.
// It is its own package so that the ferry binary does not carry the
// generator. It writes man(7) macros itself: cobra's generator goes
// through Markdown, which ate the underscores of FERRY_CONFIG and FERRY_*
// as emphasis and laid every option out as "--quiet[=false]" on one line
// with its text.
package manpage

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ferry-sh/ferry/internal/cli"
)

//go:generate go run ../../../cmd/ferry-man -o ../../../ferry.1

// Write writes ferry.1, generated from the same definitions as --help:
// the file server's page, then each command folded in as a subsection of
// COMMANDS, so that one page tells everything ("man ferry", then /echo).
func Write(w io.Writer) error {
	root := cli.Command()
	var b bytes.Buffer
	b.WriteString(".TH FERRY 1 \"\" ferry \"User Commands\"\n.nh\n.ad l\n")
	fmt.Fprintf(&b, ".SH NAME\nferry \\- %s\n", roffText(root.Short))
	b.WriteString(".SH SYNOPSIS\n")
	if u := root.Annotations[cli.UsageAnnotation]; u != "" {
		b.WriteString(".nf\n" + roffText(dedent(u)) + "\n.fi\n")
	} else {
		fmt.Fprintf(&b, "\\fB%s\\fR\n", roffText(root.UseLine()))
	}
	b.WriteString(".SH DESCRIPTION\n")
	writeText(&b, root.Long)
	b.WriteString(".SH OPTIONS\n")
	writeFlags(&b, root.LocalFlags(), true)
	if root.Example != "" {
		b.WriteString(".SH EXAMPLES\n")
		writeExamples(&b, root.Example)
	}
	b.WriteString(".SH COMMANDS\n")
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() {
				continue
			}
			writeCommand(&b, sub)
			if sub.Name() != "completion" { // one script a shell: its text says how to load each
				walk(sub)
			}
		}
	}
	walk(root)
	b.WriteString(".SH ENVIRONMENT\n")
	writeText(&b, cli.EnvNote)
	b.WriteString(".SH SEE ALSO\n\\fBcurl\\fR(1), \\fBwget\\fR(1), \\fBnginx\\fR(8)\n")
	_, err := w.Write(b.Bytes())
	return err
}

// writeCommand writes one command as a subsection: its use line, what it
// does, its own flags and its examples.
func writeCommand(b *bytes.Buffer, c *cobra.Command) {
	fmt.Fprintf(b, ".SS %s\n", roffText(c.UseLine()))
	writeText(b, firstNonEmpty(c.Long, c.Short))
	if hasOwnFlags(c) {
		b.WriteString(".PP\nFlags:\n")
		writeFlags(b, c.LocalFlags(), false)
	}
	if c.Example != "" {
		b.WriteString(".PP\nExamples:\n")
		writeExamples(b, c.Example)
	}
}

// hasOwnFlags reports whether c has flags besides --help.
func hasOwnFlags(c *cobra.Command) bool {
	own := false
	c.LocalFlags().VisitAll(func(f *pflag.Flag) { own = own || (f.Name != "help" && !f.Hidden) })
	return own
}

// writeFlags writes each flag as a tagged paragraph: its names and value
// in bold and italics, then its text and default. --help is listed once,
// with the file server's flags.
func writeFlags(b *bytes.Buffer, fs *pflag.FlagSet, withHelp bool) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || (f.Name == "help" && !withHelp) {
			return
		}
		value, usage := pflag.UnquoteUsage(f)
		b.WriteString(".TP\n")
		if f.Shorthand != "" {
			fmt.Fprintf(b, "\\fB\\-%s\\fR, ", f.Shorthand)
		}
		fmt.Fprintf(b, "\\fB\\-\\-%s\\fR", roffText(f.Name))
		if value != "" {
			fmt.Fprintf(b, " \\fI%s\\fR", roffText(value))
		}
		b.WriteString("\n" + roffText(usage))
		if d := shownDefault(f); d != "" {
			b.WriteString(" (default " + roffText(d) + ")")
		}
		b.WriteString("\n")
	})
}

// shownDefault is a flag's default as --help shows it, "" when it is the
// zero value and goes without saying.
func shownDefault(f *pflag.Flag) string {
	switch f.DefValue {
	case "", "0", "false", "[]":
		return ""
	}
	return f.DefValue
}

// writeText writes help text: lines indented in the source (tables,
// commands to type) keep their layout; the rest is filled, a blank line
// starting a new paragraph.
func writeText(b *bytes.Buffer, text string) {
	b.WriteString(".PP\n")
	fill := true
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		switch {
		case strings.TrimSpace(l) == "":
			if !fill {
				b.WriteString(".fi\n")
				fill = true
			}
			b.WriteString(".PP\n")
			continue
		case strings.HasPrefix(l, " ") && fill:
			b.WriteString(".nf\n")
			fill = false
		case !strings.HasPrefix(l, " ") && !fill:
			b.WriteString(".fi\n")
			fill = true
		}
		b.WriteString(roffText(l) + "\n")
	}
	if !fill {
		b.WriteString(".fi\n")
	}
}

// writeExamples writes examples as typed, indented, without filling.
func writeExamples(b *bytes.Buffer, ex string) {
	b.WriteString(".PP\n.RS 4\n.nf\n" + roffText(dedent(ex)) + "\n.fi\n.RE\n")
}

// dedent removes the two spaces help indents usage and examples with.
func dedent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "  ")
	}
	return strings.Join(lines, "\n")
}

// roffText escapes text for roff: backslashes; dashes as \- so that flags
// copied from the page are the ASCII ones a shell wants; and a leading dot
// or quote that roff would read as a request.
func roffText(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			l = `\&` + l
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
