package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ferry-sh/ferry/internal/config"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"
)

func (a *app) hashPassword(h *config.HashPassword) error {
	if err := h.Validate(); err != nil {
		return err
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
	hash, err := bcrypt.GenerateFromPassword(pw, h.Cost)
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
