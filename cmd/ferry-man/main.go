// Command ferry-man writes ferry's man page, ferry.1, generated from the
// command line's definitions: go run ./cmd/ferry-man -o ferry.1
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/ferry-sh/ferry/internal/cli/manpage"
)

func main() {
	out := flag.String("o", "", "write the page to this file (default: standard output)")
	flag.Parse()
	var b bytes.Buffer
	if err := manpage.Write(&b); err != nil {
		fmt.Fprintln(os.Stderr, "ferry-man:", err)
		os.Exit(1)
	}
	var err error
	if *out == "" {
		_, err = os.Stdout.Write(b.Bytes())
	} else {
		err = os.WriteFile(*out, b.Bytes(), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferry-man:", err)
		os.Exit(1)
	}
}
