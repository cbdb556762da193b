package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"github.com/ferry-sh/ferry"
	"github.com/ferry-sh/ferry/internal/config"
	"github.com/ferry-sh/ferry/internal/server"
	"github.com/ferry-sh/ferry/internal/version"
)

func (a *app) time(t *config.Time) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := resolveBinds(t.Binds); err != nil {
		return err
	}
	ls, err := a.listen(&t.Listen)
	if err != nil {
		return err
	}
	defer ls.Close()

	w := a.stdout
	if ls.FellBack {
		fmt.Fprintf(w, "port %d is in use; serving on port %d instead\n", config.DefaultTimePort, ls.Port)
	}
	fmt.Fprintf(w, "ferry %s time service: send asctime, seconds or rfc822, one per line\n", version.Version)
	urls := server.URLs(ls, "tcp")
	for _, u := range urls {
		fmt.Fprintf(w, "  %s\n", strings.TrimSuffix(strings.TrimPrefix(u, "tcp://"), "/"))
	}
	socks := printUnix(w, ls)
	// The last address is localhost unless --bind named others; suggesting
	// localhost then would send the user to a port nothing listens on.
	host := "localhost"
	if len(urls) > 0 {
		if u, err := url.Parse(urls[len(urls)-1]); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
	}
	if len(urls) == 0 && len(socks) > 0 {
		fmt.Fprintf(w, "try: nc -U %s\n", socks[0])
	} else {
		fmt.Fprintf(w, "try: nc %s %d\n", host, ls.Port)
	}
	fmt.Fprintln(w, "press Ctrl-C to stop")

	// Connection records are Info: with -q only warnings and errors remain.
	logger, closeLog, err := a.logger(config.Listen{Log: t.Log, LogFile: t.LogFile}, false)
	if err != nil {
		return err
	}
	defer closeLog()
	var log slog.Handler = logger.Handler()
	if t.Quiet && t.LogFile == "" {
		log = minLevel{log, slog.LevelWarn}
	}
	opts := ferry.TimeOptions{IdleTimeout: t.IdleTimeout, Logger: slog.New(log)}

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

// printUnix prints a banner line for each Unix socket listened on, which
// server.URLs leaves out (it has no URL a browser could use), and returns
// their paths.
func printUnix(w io.Writer, ls *server.Listeners) []string {
	var paths []string
	for _, ln := range ls.List {
		if server.IsUnix(ln) {
			paths = append(paths, ln.Addr().String())
			fmt.Fprintf(w, "  %s%s (Unix socket)\n", server.UnixPrefix, ln.Addr())
		}
	}
	return paths
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
