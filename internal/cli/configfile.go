package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ferry-sh/ferry/internal/config"
)

// This file is --config: a TOML file whose keys are flag names, at the top
// level for the file server and in [echo] and [time] for those commands.
// It sets what neither the command line nor a FERRY_* variable did.

// fileKey reports whether a flag has a config file key: asking for help or
// the version, or for another config file, belongs on the command line.
func fileKey(name string) bool { return !notFromEnv(name) && name != "config" }

// tableCommands maps each config file table to its command's flags.
func tableCommands(root *cobra.Command) map[string]*cobra.Command {
	m := map[string]*cobra.Command{"": root}
	for _, c := range root.Commands() {
		if c.Name() == "echo" || c.Name() == "time" {
			m[c.Name()] = c
		}
	}
	return m
}

// tableOf is the config file table of a command, "" for the file server.
func tableOf(cmd *cobra.Command) string {
	if cmd.HasParent() {
		return cmd.Name()
	}
	return ""
}

// applyConfigFile reads --config (or FERRY_CONFIG) and sets the flags the
// command line and the environment left unset from the command's table.
// Every table is checked, so that a mistake shows whichever command runs.
func (a *app) applyConfigFile(cmd *cobra.Command) error {
	f := cmd.Flags().Lookup("config")
	if f == nil || f.Value.String() == "" {
		return nil
	}
	path := f.Value.String()
	data, err := os.ReadFile(path)
	if err != nil {
		return usagef("cannot read the config file %s: %s", path, describeFSErr(err))
	}
	settings, err := config.ParseFile(path, data)
	if err != nil {
		return usagef("%v", err)
	}
	tables := tableCommands(cmd.Root())
	mine := tableOf(cmd)
	for _, s := range settings {
		where := path + ":" + strconv.Itoa(s.Line)
		fs := tables[s.Table].Flags()
		fl := fs.Lookup(s.Key)
		if fl == nil || !fileKey(fl.Name) {
			if best := nearestFlag(fs, s.Key); best != "" && fileKey(best) {
				return usagef("%s: unknown key %q; did you mean %q?", where, s.Key, best)
			}
			return usagef("%s: unknown key %q", where, s.Key)
		}
		if s.Array && !repeatable(fl) {
			return usagef("%s: %s takes one value, not a list", where, s.Key)
		}
		if s.Table != mine {
			continue
		}
		if _, set := a.from[fl.Name]; set {
			continue
		}
		for _, v := range s.Values {
			if err := fs.Set(fl.Name, v); err != nil {
				return usagef("%s: invalid value %q for %s: %s", where, v, s.Key, expected(fl.Value.Type()))
			}
		}
		a.from[fl.Name] = where
	}
	return nil
}

func (a *app) configCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "config COMMAND",
		Short: "config files: 'ferry config example' prints one with every key",
		Long: `ferry reads flags from a TOML file given with --config FILE (or
FERRY_CONFIG=FILE). Every flag is a key of the same name: the file server's
at the top level, ferry echo's under [echo], ferry time's under [time]. The
command line wins over FERRY_* variables, which win over the file, which wins
over the defaults. A key ferry does not know is an error naming its line.`,
		Example: `  ferry config example > ferry.toml    then uncomment what you need
  ferry --config ferry.toml            serve with it`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown config command %q: use 'ferry config example'", args[0])
			}
			writeHelp(cmd, args)
			return nil
		},
	}
	c.AddCommand(&cobra.Command{
		Use:   "example",
		Short: "print a commented config file with every key and its default",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("config example takes no arguments")
			}
			writeExample(a.stdout, cmd.Root())
			return nil
		},
	})
	return c
}

// writeExample prints every key of every table, commented out, with its
// help as a comment above it and its default as the value.
func writeExample(w io.Writer, root *cobra.Command) {
	fmt.Fprint(w, `# ferry config file: ferry --config ferry.toml (or FERRY_CONFIG=ferry.toml).
# Every key is the flag of the same name; uncomment a line to change it.
# The command line wins over FERRY_* variables, which win over this file.
# Durations and sizes are strings ("90s", "500M"); a repeatable flag takes
# a list (bind = ["127.0.0.1", "::1"]). Relative paths are relative to the
# folder ferry starts in.
`)
	tables := tableCommands(root)
	for _, table := range []string{"", "echo", "time"} {
		c := tables[table]
		if table != "" {
			fmt.Fprintf(w, "\n# ferry %s\n[%s]\n", table, table)
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !fileKey(f.Name) {
				return
			}
			_, usage := pflag.UnquoteUsage(f)
			fmt.Fprintln(w)
			for _, l := range wrap(usage, 76) {
				fmt.Fprintf(w, "# %s\n", l)
			}
			fmt.Fprintf(w, "# %s = %s\n", f.Name, tomlValue(f))
		})
	}
}

// tomlValue spells a flag's default as TOML.
func tomlValue(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "bool", "int", "int64":
		return f.DefValue
	}
	if repeatable(f) {
		return "[]"
	}
	if f.Value.Type() == "duration" && f.DefValue == "0" {
		return `"0s"`
	}
	return strconv.Quote(f.DefValue)
}

// wrap breaks text into lines of at most width characters, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(lines, line)
}
