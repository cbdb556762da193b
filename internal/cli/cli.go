// Package cli is ferry's command line: it translates arguments, FERRY_*
// variables and a config file into the option structs of internal/config,
// and reports usage errors (one line, exit status 2). The flags themselves
// are defined once, in flags.go; the commands in commands.go.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ferry-sh/ferry/internal/config"
	"github.com/ferry-sh/ferry/internal/version"
)

// Env looks up environment variables; tests replace it.
type Env func(string) (string, bool)

// Main runs ferry with args (without the program name) and returns the exit status.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, args, stdin, stdout, stderr, os.LookupEnv)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env Env) int {
	a := &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, env: env, args: args}
	root := a.commands()
	if args == nil {
		args = []string{} // cobra reads os.Args for nil
	}
	if len(args) > 0 && strings.HasPrefix(args[0], cobra.ShellCompRequestCmd) {
		plainUsage(root)
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	return a.exitCode(cmd, err)
}

type app struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	env    Env
	args   []string
	// commandNames are the subcommands, for a hint when an argument that
	// is no file looks like a mistyped one.
	commandNames []string

	// settled is set once the command line parsed and the command's own
	// work begins: errors cobra returns before that are usage errors.
	settled bool
	// from says where each flag set outside the command line got its value
	// ("FERRY_PORT", "ferry.toml:3"); flags set on the command line map to "".
	from map[string]string
}

// usageError is a bad command line: one line on stderr, exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// errHelp means help (or the version) was printed: exit 0.
var errHelp = errors.New("help shown")

func (a *app) exitCode(cmd *cobra.Command, err error) int {
	var ue *usageError
	var ce *config.Error
	helpCmd := "ferry"
	if cmd != nil {
		helpCmd = cmd.CommandPath()
	}
	usage := func(msg string) int {
		fmt.Fprintf(a.stderr, "ferry: %s (see '%s --help')\n", oneLine(msg), helpCmd)
		return 2
	}
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		return usage(ue.msg)
	case errors.As(err, &ce):
		// A bad value from the environment or a config file names where
		// it came from: the command line did not say it.
		if where := a.from[ce.Key]; where != "" {
			return usage(where + ": " + ce.Msg)
		}
		return usage(ce.Msg)
	case !a.settled:
		// Cobra's own words: an unknown command, a bad argument to one.
		return usage(err.Error())
	default:
		fmt.Fprintf(a.stderr, "ferry: %s\n", oneLine(err.Error()))
		return 1
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// settle runs before every command: --version, then FERRY_* variables for
// the flags the command line left unset, then the config file for those
// still unset. A command line value always wins.
func (a *app) settle(cmd *cobra.Command, _ []string) error {
	a.settled = true
	fs := cmd.Flags()
	if v, _ := fs.GetBool("version"); v {
		a.printVersion()
		return errHelp
	}
	a.from = map[string]string{}
	fs.Visit(func(f *pflag.Flag) { a.from[f.Name] = "" })
	if err := a.applyEnv(fs); err != nil {
		return err
	}
	return a.applyConfigFile(cmd)
}

// notFromEnv are flags no variable sets: asking for help or the version
// belongs on the command line.
func notFromEnv(name string) bool { return name == "help" || name == "version" }

// envKey is a flag's variable: FERRY_ and the name, dashes as underscores.
func envKey(name string) string {
	return "FERRY_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// repeatable reports whether a flag may be given more than once; its
// variable and config key then take a list.
func repeatable(f *pflag.Flag) bool {
	t := f.Value.Type()
	return strings.HasSuffix(t, "Array") || strings.HasSuffix(t, "Slice")
}

func (a *app) applyEnv(fs *pflag.FlagSet) error {
	var envErr error
	fs.VisitAll(func(f *pflag.Flag) {
		if _, set := a.from[f.Name]; envErr != nil || set || notFromEnv(f.Name) {
			return
		}
		key := envKey(f.Name)
		v, ok := a.env(key)
		if !ok || v == "" {
			return
		}
		values := []string{v}
		switch {
		case f.Name == "header":
			// A header's value may hold commas ("Cache-Control: public,
			// max-age=60"): one header per line.
			values = strings.Split(strings.TrimRight(v, "\r\n"), "\n")
		case repeatable(f):
			values = strings.Split(v, ",")
		}
		for _, one := range values {
			if err := fs.Set(f.Name, strings.TrimSpace(one)); err != nil {
				envErr = usagef("invalid value %q for %s: %s", v, key, expected(f.Value.Type()))
				return
			}
		}
		a.from[f.Name] = key
	})
	return envErr
}

// explicit reports whether a flag was given anywhere: on the command line,
// in the environment or in a config file.
func (a *app) explicit(name string) bool {
	_, ok := a.from[name]
	return ok
}

// flagError words a flag the parser refused, with a hint where a habit
// from another tool explains it.
func (a *app) flagError(cmd *cobra.Command, err error) error {
	fs := cmd.Flags()
	if hint := unknownFlag(fs, a.args, err); hint != nil {
		return hint
	}
	var ive *pflag.InvalidValueError
	if errors.As(err, &ive) {
		return usagef("invalid value %q for --%s: %s", ive.GetValue(), ive.GetFlag().Name, expected(ive.GetFlag().Value.Type()))
	}
	return usagef("%s", err)
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
	case "size":
		return "expected a size like 500K, 20M or 1G"
	}
	return "not a valid " + typ
}

func (a *app) printVersion() {
	fmt.Fprintf(a.stdout, "ferry %s (commit %s, %s)\n", version.Version, version.Commit(), version.GoVersion())
}

// noArguments refuses an argument to a command that takes none, guessing
// that a number was meant as the port.
func noArguments(cmd, arg string) error {
	if config.PortArg(arg) {
		return usagef("%s takes no arguments, got %q; did you mean -p %s?", cmd, arg, arg)
	}
	return usagef("%s takes no arguments, got %q", cmd, arg)
}
