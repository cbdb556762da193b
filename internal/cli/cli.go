// Package cli is ferry's command line: subcommands, flags, FERRY_* variables
// and usage errors (one line, exit status 2).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ferry-sh/ferry/internal/version"
)

// Env looks up environment variables; tests replace it.
type Env func(string) (string, bool)

// Main runs ferry with args (without the program name) and returns the exit status.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, args, stdin, stdout, stderr, os.LookupEnv)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env Env) int {
	a := &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, env: env}
	var err error
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "echo":
		err = a.echo(args[1:])
	case "time":
		err = a.time(args[1:])
	case "version":
		err = a.version(args[1:])
	case "hash-password":
		err = a.hashPassword(args[1:])
	case "help":
		fmt.Fprint(stdout, serveHelp)
	default:
		err = a.serve(args)
	}
	return a.exitCode(err)
}

type app struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	env    Env
}

// usageError is a bad command line: one line on stderr, exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// errHelp means help (or the version) was printed: exit 0.
var errHelp = errors.New("help shown")

func (a *app) exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(a.stderr, "ferry: %s (see 'ferry --help')\n", oneLine(ue.msg))
		return 2
	default:
		fmt.Fprintf(a.stderr, "ferry: %s\n", oneLine(err.Error()))
		return 1
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// parse parses args into fs, filling flags the command line left unset from
// FERRY_<FLAG> variables. A command line value always wins.
func (a *app) parse(fs *pflag.FlagSet, args []string, help string) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.SortFlags = false
	var showHelp, showVersion bool
	fs.BoolVarP(&showHelp, "help", "h", false, "show this help")
	if fs.Lookup("version") == nil {
		// "ferry --version" is what people try first (spec: same as "ferry version").
		fs.BoolVar(&showVersion, "version", false, "show the version")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(a.stdout, help)
			return errHelp
		}
		if hint := unknownFlag(fs, args, err); hint != nil {
			return hint
		}
		var ive *pflag.InvalidValueError
		if errors.As(err, &ive) {
			return usagef("invalid value %q for --%s: %s", ive.GetValue(), ive.GetFlag().Name, expected(ive.GetFlag().Value.Type()))
		}
		return usagef("%s", err)
	}
	if showHelp {
		fmt.Fprint(a.stdout, help)
		return errHelp
	}
	if showVersion {
		a.printVersion()
		return errHelp
	}
	var envErr error
	fs.VisitAll(func(f *pflag.Flag) {
		if envErr != nil || f.Changed || f.Name == "help" || f.Name == "version" {
			return
		}
		key := "FERRY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, ok := a.env(key)
		if !ok || v == "" {
			return
		}
		values := []string{v}
		if strings.HasSuffix(f.Value.Type(), "Array") || strings.HasSuffix(f.Value.Type(), "Slice") {
			values = strings.Split(v, ",")
		}
		for _, one := range values {
			if err := fs.Set(f.Name, strings.TrimSpace(one)); err != nil {
				envErr = usagef("invalid value %q for %s: %s", v, key, expected(f.Value.Type()))
				return
			}
		}
	})
	return envErr
}

// expected says in words what a flag of this pflag type takes.
func expected(typ string) string {
	switch typ {
	case "int", "int64", "uint", "uint64":
		return "expected a whole number"
	case "duration":
		return "expected a duration like 90s, 5m or 1h30m"
	case "bool":
		return "expected 1, 0, true or false"
	}
	return "not a valid " + typ
}

func (a *app) version(args []string) error {
	fs := pflag.NewFlagSet("version", pflag.ContinueOnError)
	if err := a.parse(fs, args, "usage: ferry version\n"); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("version takes no arguments")
	}
	a.printVersion()
	return nil
}

func (a *app) printVersion() {
	fmt.Fprintf(a.stdout, "ferry %s (commit %s, %s)\n", version.Version, version.Commit(), version.GoVersion())
}
