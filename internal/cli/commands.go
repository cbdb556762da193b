package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ferry-sh/ferry/internal/config"
)

// Command builds ferry's command tree without running it, for the man
// page generator (cmd/ferry-man) and tests.
func Command() *cobra.Command {
	a := &app{}
	root := a.commands()
	root.InitDefaultHelpCmd()
	return root
}

// commands builds the command tree; each command's options start at their
// defaults from internal/config and the flags write into them.
func (a *app) commands() *cobra.Command {
	serve := config.DefaultServe()
	root := &cobra.Command{
		Use:   "ferry [flags] [DIR | s3://BUCKET[/PREFIX] | FILE...]",
		Short: "share a folder over HTTP",
		Long: `ferry shares a folder over HTTP: concurrent, resumable, safe by default.
Given a folder (default: the current one) it serves what is inside; given
files, it shares just those, each at /NAME, and nothing else. Given
s3://BUCKET, it serves a bucket of an S3-compatible object store as if it
were a folder (endpoint and credentials from the AWS environment, or
--s3-endpoint), and several ferry nodes may serve one bucket.`,
		Example: `  ferry                               share the current folder on port 8000
  ferry -p 9000 ~/Downloads           share a folder on port 9000
  ferry -w --auth alice:s3cret .      a shared drop box with a password
  ferry --exit-after 1 release.tar    hand over one file, then exit
  ferry --once --qr a.pdf ~/b.jpg     share two files, exit once both were fetched
  curl -C - -O http://HOST:8000/big.iso    resume a download
  curl -T notes.txt http://HOST:8000/      upload with --upload
  ferry -w s3://share                 serve a bucket (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...)
  ferry --cgi .                       also run executables in ./cgi-bin/ as CGI
  curl -X FUNC http://HOST:8000/cgi-bin/app.sh/x   any method reaches a script
  ferry echo                          inspect requests: curl -F f=@a.txt http://localhost:8000/x?a=1
  ferry time                          time service: nc localhost 8765, then type asctime`,
		Args:              cobra.ArbitraryArgs,
		SilenceErrors:     true,
		SilenceUsage:      true,
		PersistentPreRunE: a.settle,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.serve(&serve, args)
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveDefault // files and folders
		},
	}
	root.Annotations = map[string]string{UsageAnnotation: `  ferry [flags] [DIR]      serve DIR (default: the current folder)
  ferry [flags] s3://BUCKET[/PREFIX]
                           serve a bucket of an S3-compatible object store
  ferry [flags] FILE...    share just these files, each at /NAME
  ferry COMMAND [flags]    one of the commands below`}
	defineServe(root.Flags(), &serve)
	defineConfig(root.Flags())
	root.PersistentFlags().Bool("version", false, "show the version")
	root.SetFlagErrorFunc(a.flagError)
	root.SetHelpFunc(writeHelp)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetIn(a.stdin)
	root.CompletionOptions.HiddenDefaultCmd = false

	root.AddCommand(a.echoCommand(), a.timeCommand(), a.hashPasswordCommand(), a.versionCommand(), a.configCommand())
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			// Cobra's command prints its help for any argument; a shell it
			// does not know is a usage error like any other.
			c.Use = "completion SHELL"
			c.Short = "shell completion script (bash, zsh, fish, powershell)"
			c.Long = completionHelp
			c.Args = cobra.ArbitraryArgs
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) > 0 {
					return usagef("no completion for %q: use bash, zsh, fish or powershell", args[0])
				}
				writeHelp(cmd, args)
				return nil
			}
		}
	}
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() {
			a.commandNames = append(a.commandNames, c.Name())
		}
	}
	var each func(*cobra.Command)
	each = func(c *cobra.Command) {
		c.Flags().SortFlags = false
		if c.Flags().Lookup("help") == nil {
			c.Flags().BoolP("help", "h", false, "show this help")
		}
		completeFlags(c)
		if c.ValidArgsFunction == nil {
			// Only the file server takes file names; the commands take
			// none (or a command's name, which cobra offers anyway).
			c.ValidArgsFunction = cobra.NoFileCompletions
		}
		for _, sub := range c.Commands() {
			each(sub)
		}
	}
	each(root)
	return root
}

func (a *app) echoCommand() *cobra.Command {
	opts := config.DefaultEcho()
	return listener(&cobra.Command{
		Use:   "echo [flags]",
		Short: "request inspector: answers every request with what it received",
		Long: `ferry echo answers every request, whatever its method or path, with 200 and
a report of what it received: client address and port, method, path, query,
protocol, headers (values as sent; names as Go spells them, sorted), the
body's size and SHA-256, the body itself when it is text of up to 64 KiB
(else a note), form fields and uploaded files (name, size, content type,
SHA-256). Plain text by default; JSON with "Accept: application/json" or
"?format=json". Bodies are streamed.`,
		Example: `  ferry echo                                      inspect requests on port 8000
  curl -F f=@a.txt http://localhost:8000/x?a=1    see an upload as it arrived
  curl -d name=v -H 'Accept: application/json' http://localhost:8000/
                                                  a form, reported as JSON
  curl -X FUNC -H 'X-Trace: 1' http://localhost:8000/any/path`,
	}, func(fs *pflag.FlagSet) { defineEcho(fs, &opts) }, func() error { return a.echo(&opts) })
}

func (a *app) timeCommand() *cobra.Command {
	opts := config.DefaultTime()
	return listener(&cobra.Command{
		Use:   "time [flags]",
		Short: "line-protocol time service (asctime, seconds, rfc822)",
		Long: `ferry time is a line-protocol time service over TCP: a client sends a line,
ferry answers one line.

Requests (case and surrounding white space are ignored):
  asctime    local time, like Mon Jan  2 15:04:05 2006
  seconds    whole seconds since the Unix epoch
  rfc822     UTC time, like Mon, 02 Jan 2006 15:04:05 +0000

Anything else, or a blank line, gets one line of help. A connection may send
several lines; a line over 1024 bytes, or silence for --idle-timeout, ends it.`,
		Example: `  ferry time                   serve on port 8765
  nc localhost 8765            then type asctime (or seconds, rfc822) and Enter
  ferry time -p 13 -b ::1      IPv6 loopback only, on the daytime port`,
	}, func(fs *pflag.FlagSet) { defineTime(fs, &opts) }, func() error { return a.time(&opts) })
}

// listener completes a sibling that listens (echo, time): its flags and
// --config, and no arguments, a number among them taken for the port.
func listener(c *cobra.Command, define func(*pflag.FlagSet), run func() error) *cobra.Command {
	define(c.Flags())
	defineConfig(c.Flags())
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return noArguments(cmd.Name(), args[0])
		}
		return run()
	}
	return c
}

func (a *app) hashPasswordCommand() *cobra.Command {
	opts := config.DefaultHashPassword()
	c := &cobra.Command{
		Use:   "hash-password [flags]",
		Short: "print a bcrypt hash for --auth",
		Long: `ferry hash-password prints a bcrypt hash to use as PASS in --auth USER:PASS,
so the password itself need not appear on a command line or in a script.

From a terminal the password is asked twice without echo; otherwise the
first line of standard input is the password.`,
		Example: `  ferry -w --auth "alice:$(ferry hash-password)" .`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("hash-password takes no arguments; it reads the password from the terminal or standard input")
			}
			return a.hashPassword(&opts)
		},
	}
	defineHashPassword(c.Flags(), &opts)
	return c
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "version, commit and Go version (also --version)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("version takes no arguments")
			}
			a.printVersion()
			return nil
		},
	}
}

const completionHelp = `ferry completion SHELL prints a script that teaches SHELL ferry's commands,
flags and their values (--log, folders for -d, files for --tls-cert...). Load
it into the shell you are in, or install it once (a new shell picks it up):

    bash         source <(ferry completion bash)
                 ferry completion bash > /etc/bash_completion.d/ferry
    zsh          ferry completion zsh > "${fpath[1]}/_ferry"
    fish         ferry completion fish > ~/.config/fish/completions/ferry.fish
    powershell   ferry completion powershell | Out-String | Invoke-Expression

Bash needs the bash-completion package; without root, install the script as
~/.local/share/bash-completion/completions/ferry (mkdir -p the folder first).
Zsh needs compinit in ~/.zshrc. --no-descriptions leaves out the text shown
beside each flag; 'ferry completion SHELL --help' says more.`

// completeFlags tells shell completion what each flag's value may be: the
// formats of --log, folders or files for the flags that name one, and
// nothing for the rest (a port, an address or a size is no file name).
func completeFlags(c *cobra.Command) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if f.NoOptDefVal != "" {
			return // a boolean: no value to complete
		}
		switch f.Name {
		case "log":
			c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(
				[]cobra.Completion{"text", "json", "combined"}, cobra.ShellCompDirectiveNoFileComp))
		case "trusted-proxy":
			c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(
				[]cobra.Completion{cobra.CompletionWithDesc("unix", "peers on a Unix socket")}, cobra.ShellCompDirectiveNoFileComp))
		case "directory", "cgi-dir", "acme-cache":
			c.MarkFlagDirname(f.Name)
		case "tls-cert", "tls-key", "log-file", "share-secret", "config":
			c.MarkFlagFilename(f.Name)
		default:
			c.RegisterFlagCompletionFunc(f.Name, cobra.NoFileCompletions)
		}
	})
}

// plainUsage removes the backquotes that mark a value's name in the flags'
// help text (for --help's "--port N"): shell completion shows the text as
// it is written.
func plainUsage(c *cobra.Command) {
	c.Flags().VisitAll(func(f *pflag.Flag) { _, f.Usage = pflag.UnquoteUsage(f) })
	for _, sub := range c.Commands() {
		plainUsage(sub)
	}
}

// UsageAnnotation holds a command's usage lines when its one-line use does
// not tell enough (the file server's DIR or FILE...).
const UsageAnnotation = "ferry:usage"

// writeHelp prints a command's help: what it does, how to call it, its
// commands, its flags (from their one definition), the environment and
// examples.
func writeHelp(c *cobra.Command, _ []string) {
	w := c.OutOrStdout()
	fmt.Fprintln(w, strings.TrimSpace(firstNonEmpty(c.Long, c.Short)))
	fmt.Fprintln(w, "\nUsage:")
	if u := c.Annotations[UsageAnnotation]; u != "" {
		fmt.Fprintln(w, u)
	} else {
		fmt.Fprintf(w, "  %s\n", c.UseLine())
	}
	if cmds := availableCommands(c); len(cmds) > 0 {
		fmt.Fprintln(w, "\nCommands:")
		width := 0
		for _, sub := range cmds {
			width = max(width, len(sub.Name()))
		}
		for _, sub := range cmds {
			fmt.Fprintf(w, "  %-*s  %s\n", width, sub.Name(), sub.Short)
		}
	}
	if fs := c.Flags(); fs.HasAvailableFlags() {
		fmt.Fprintln(w, "\nFlags:")
		fmt.Fprint(w, fs.FlagUsagesWrapped(80))
		if fs.Lookup("config") != nil {
			// The commands a config file may set (serve, echo, time).
			fmt.Fprintln(w, EnvNote)
		}
	}
	if c.Example != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", c.Example)
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags.\n", c.CommandPath())
	}
}

// EnvNote is the help's and the man page's word on the environment.
const EnvNote = `
Every flag can also be set as FERRY_<FLAG>, dashes as underscores
(FERRY_PORT=9000, FERRY_NO_LISTING=1; a repeatable flag takes a comma-separated
list; booleans 1, 0, true or false), or as a key of a --config file. The
command line wins, then the environment, then the file. Durations look like
90s, 5m, 1h30m; sizes take K, M, G (powers of 1024).`

func availableCommands(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			out = append(out, sub)
		}
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
