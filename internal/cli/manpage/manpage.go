// Package manpage generates ferry.1 from the command line's definitions.
// It is its own package so that the ferry binary does not carry cobra's
// man page generator and its Markdown parser.
package manpage

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ferry-sh/ferry/internal/cli"
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

//go:generate go run ../../../cmd/ferry-man -o ../../../ferry.1

// Write writes ferry.1, generated from the same definitions as --help:
// cobra's page of the file server, then each command's page folded in as
// a section of COMMANDS, so that one page tells everything ("man ferry",
// then /echo).
func Write(w io.Writer) error {
	root := cli.Command()
	root.DisableAutoGenTag = true
	page, err := manPage(root)
	if err != nil {
		return err
	}
	page = cutSection(page, "SEE ALSO") // it names pages that do not exist
	var b bytes.Buffer
	b.WriteString(page)
	b.WriteString(".SH COMMANDS\n")
	var walk func(*cobra.Command) error
	walk = func(c *cobra.Command) error {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() {
				continue
			}
			sub.DisableAutoGenTag = true
			p, err := manPage(sub)
			if err != nil {
				return err
			}
			b.WriteString(asSubsection(sub, p))
			if sub.Name() == "completion" {
				continue // one script a shell: its page says how to load each
			}
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return err
	}
	fmt.Fprintf(&b, ".SH ENVIRONMENT\n.PP\n%s\n", roffText(strings.TrimSpace(cli.EnvNote)))
	_, err = io.WriteString(w, b.String())
	return err
}

// manPage is cobra's page of one command, without a date (the page must
// not change unless the definitions do).
func manPage(c *cobra.Command) (string, error) {
	var b bytes.Buffer
	header := &doc.GenManHeader{Date: &time.Time{}, Source: "ferry", Manual: "User Commands"}
	if err := doc.GenMan(c, header, &b); err != nil {
		return "", err
	}
	return strings.Replace(b.String(), `"Jan 0001"`, `""`, 1), nil
}

// asSubsection turns a command's page into a subsection: its use line as
// the heading, the description, its own options and examples.
func asSubsection(c *cobra.Command, page string) string {
	for _, s := range []string{"SEE ALSO", "OPTIONS INHERITED FROM PARENT COMMANDS", "SYNOPSIS", "NAME"} {
		page = cutSection(page, s)
	}
	_, body, _ := strings.Cut(page, "\n.SH ")
	body = ".SH " + body
	body = strings.Replace(body, ".SH DESCRIPTION\n", "", 1)
	body = strings.Replace(body, ".SH OPTIONS\n", ".PP\n\\fBOptions\\fP\n.PP\n", 1)
	body = strings.Replace(body, ".SH EXAMPLE\n", ".PP\n\\fBExamples\\fP\n", 1)
	return fmt.Sprintf(".SS %s\n%s", roffText(c.UseLine()), body)
}

// cutSection removes a section (.SH NAME to the next .SH) from a page.
func cutSection(page, name string) string {
	start := strings.Index(page, "\n.SH "+name+"\n")
	if start < 0 {
		return page
	}
	rest := page[start+1:]
	end := strings.Index(rest[1:], "\n.SH ")
	if end < 0 {
		return page[:start+1]
	}
	return page[:start+1] + rest[end+2:]
}

// roffText escapes text for a roff line: backslashes, and a leading dot or
// quote that roff would read as a request.
func roffText(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			l = `\&` + l
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
