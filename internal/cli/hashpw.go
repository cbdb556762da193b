package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"
)

const hashPasswordHelp = `ferry hash-password prints a bcrypt hash to use as PASS in --auth USER:PASS,
so the password itself need not appear on a command line or in a script.

Usage:
  ferry hash-password [--cost N]

From a terminal the password is asked twice without echo; otherwise the
first line of standard input is the password.

Flags:
      --cost N   bcrypt cost, 4 to 31 (default 10); each step doubles the work
  -h, --help     show this help

Example:
  ferry -w --auth "alice:$(ferry hash-password)" .
`

func (a *app) hashPassword(args []string) error {
	fs := pflag.NewFlagSet("hash-password", pflag.ContinueOnError)
	cost := fs.Int("cost", bcrypt.DefaultCost, "")
	if err := a.parse(fs, args, hashPasswordHelp); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("hash-password takes no arguments; it reads the password from the terminal or standard input")
	}
	if *cost < bcrypt.MinCost || *cost > bcrypt.MaxCost {
		return usagef("invalid --cost %d: use %d to %d", *cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	pw, err := a.readPassword()
	if err != nil {
		return err
	}
	if len(pw) > 72 {
		// bcrypt looks at the first 72 bytes only; a longer password would
		// silently match anything sharing that prefix.
		return usagef("password longer than 72 bytes; bcrypt would ignore the rest")
	}
	hash, err := bcrypt.GenerateFromPassword(pw, *cost)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s\n", hash)
	return nil
}

// readPassword asks twice without echo on a terminal, or reads one line.
func (a *app) readPassword() ([]byte, error) {
	if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		fmt.Fprint(a.stderr, "Password: ")
		pw, err := term.ReadPassword(fd)
		fmt.Fprintln(a.stderr)
		if err != nil {
			return nil, fmt.Errorf("reading the password: %w", err)
		}
		if len(pw) == 0 {
			return nil, usagef("empty password")
		}
		fmt.Fprint(a.stderr, "Again: ")
		again, err := term.ReadPassword(fd)
		fmt.Fprintln(a.stderr)
		if err != nil {
			return nil, fmt.Errorf("reading the password: %w", err)
		}
		if string(again) != string(pw) {
			return nil, usagef("the passwords do not match")
		}
		return pw, nil
	}
	if a.stdin == nil {
		return nil, usagef("no password: pipe it to standard input")
	}
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading the password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, usagef("empty password on standard input")
	}
	return []byte(line), nil
}
