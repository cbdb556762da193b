package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/ferry-sh/ferry"
	"github.com/ferry-sh/ferry/internal/server"
	"github.com/ferry-sh/ferry/internal/version"
)

const defaultTimePort = 8765

const timeHelp = `ferry time is a line-protocol time service over TCP: a client sends a line,
ferry answers one line.

Usage:
  ferry time [flags]

Requests (case and surrounding white space are ignored):
  asctime    local time, like Mon Jan  2 15:04:05 2006
  seconds    whole seconds since the Unix epoch
  rfc822     UTC time, like Mon, 02 Jan 2006 15:04:05 +0000
Anything else, or a blank line, gets one line of help. A connection may send
several lines; a line over 1024 bytes, or silence for --idle-timeout, ends it.

Flags:
  -p, --port N            TCP port; 0 picks a free one (default 8765; when it
                          is taken, the first free one of 8766-8775, else any)
  -b, --bind ADDR         address to listen on; repeatable (default: every
                          interface, IPv4 and IPv6)
      --idle-timeout DUR  close a connection that sends nothing for this long
                          (default 60s)
      --log FORMAT        text or json (default text)
  -q, --quiet             no per-connection log lines
  -h, --help              show this help

Every flag can also be set as FERRY_<FLAG> (FERRY_IDLE_TIMEOUT=5m).

Examples:
  ferry time                   serve on port 8765
  nc localhost 8765            then type asctime (or seconds, rfc822) and Enter
  ferry time -p 13 -b ::1      IPv6 loopback only, on the daytime port
`

func (a *app) time(args []string) error {
	var f listenFlags
	var idle time.Duration
	fs := pflag.NewFlagSet("ferry time", pflag.ContinueOnError)
	f.define(fs, defaultTimePort)
	fs.DurationVar(&idle, "idle-timeout", 60*time.Second, "")
	if err := a.parse(fs, args, timeHelp); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return noArguments("time", fs.Arg(0))
	}
	if err := f.validate(); err != nil {
		return err
	}
	if idle <= 0 {
		return usagef("invalid --idle-timeout %s: use a positive duration", idle)
	}

	ls, err := a.listen(fs, &f)
	if err != nil {
		return err
	}
	defer ls.Close()

	w := a.stdout
	if ls.FellBack {
		fmt.Fprintf(w, "port %d is in use; serving on port %d instead\n", defaultTimePort, ls.Port)
	}
	fmt.Fprintf(w, "ferry %s time service: send asctime, seconds or rfc822, one per line\n", version.Version)
	urls := server.URLs(ls, "tcp")
	for _, u := range urls {
		fmt.Fprintf(w, "  %s\n", strings.TrimSuffix(strings.TrimPrefix(u, "tcp://"), "/"))
	}
	// The last address is localhost unless --bind named others; suggesting
	// localhost then would send the user to a port nothing listens on.
	host := "localhost"
	if len(urls) > 0 {
		if u, err := url.Parse(urls[len(urls)-1]); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
	}
	fmt.Fprintf(w, "try: nc %s %d\n", host, ls.Port)
	fmt.Fprintln(w, "press Ctrl-C to stop")

	// Connection records are Info: with -q only warnings and errors remain.
	var log slog.Handler = a.newLogger(f.logFormat, false).Handler()
	if f.quiet {
		log = minLevel{log, slog.LevelWarn}
	}
	opts := ferry.TimeOptions{IdleTimeout: idle, Logger: slog.New(log)}

	// One listener failing for good stops them all: a half-served set of
	// addresses is worse than a clear exit.
	ctx, cancel := context.WithCancel(a.ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(ls.List))
	for i, ln := range ls.List {
		wg.Go(func() {
			if errs[i] = ferry.ServeTime(ctx, ln, opts); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("time service: %w", err)
	}
	fmt.Fprintln(w, "stopped")
	return nil
}

// minLevel drops records below a level.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(as), m.min}
}

func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{m.Handler.WithGroup(name), m.min}
}
