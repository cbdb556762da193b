package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ferry-sh/ferry/internal/accesslog"
	"github.com/ferry-sh/ferry/internal/config"
	"github.com/ferry-sh/ferry/internal/logfile"
)

// logger builds the logger for l's --log, --log-file and -q. view tells
// whether a live view shows transfers on the terminal. close releases the
// log file.
func (a *app) logger(l config.Listen, view bool) (logger *slog.Logger, close func(), err error) {
	if l.LogFile == "" {
		return a.newLogger(l.Log, l.Quiet), func() {}, nil
	}
	file, stop, err := a.openLogFile(l.LogFile)
	if err != nil {
		return nil, nil, err
	}
	return a.fileLogger(file, l.Log, l.Quiet, view), stop, nil
}

// openLogFile opens --log-file and reopens it on every SIGHUP (logrotate's
// signal) until stop is called.
func (a *app) openLogFile(path string) (file *logfile.File, stop func(), err error) {
	file, err = logfile.Open(path)
	if err != nil {
		return nil, nil, usagef("cannot open --log-file %s: %s", path, describeFSErr(err))
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				if err := file.Reopen(); err != nil {
					fmt.Fprintf(a.stderr, "ferry: warning: cannot reopen --log-file %s: %s; still writing to the old file\n", path, describeFSErr(err))
				}
			case <-done:
				return
			}
		}
	}()
	return file, func() {
		signal.Stop(hup)
		close(done)
		file.Close()
	}, nil
}

// fileLogger writes the request log (every record below a warning) to file
// in format, and warnings as before to the terminal: request lines show
// there only as part of the live view (a terminal), not on a pipe, since
// the log now has a file.
func (a *app) fileLogger(file io.Writer, format string, quiet, view bool) *slog.Logger {
	termFormat := accesslog.FormatText
	if !view {
		termFormat = format
	}
	return slog.New(&teeHandler{
		term: accesslog.NewHandler(a.stdout, a.stderr, termFormat, quiet || !view),
		file: accesslog.NewHandler(file, io.Discard, format, false),
	})
}

// teeHandler sends each record to both handlers: the file's writes what is
// below a warning (its errOut discards the rest), the terminal's what it
// is enabled for.
type teeHandler struct {
	term, file slog.Handler
}

func (t *teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return t.file.Enabled(ctx, l) || t.term.Enabled(ctx, l)
}

func (t *teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if t.file.Enabled(ctx, r.Level) {
		err = t.file.Handle(ctx, r)
	}
	if t.term.Enabled(ctx, r.Level) {
		if err2 := t.term.Handle(ctx, r); err == nil {
			err = err2
		}
	}
	return err
}

func (t *teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &teeHandler{term: t.term.WithAttrs(as), file: t.file.WithAttrs(as)}
}

func (t *teeHandler) WithGroup(name string) slog.Handler {
	return &teeHandler{term: t.term.WithGroup(name), file: t.file.WithGroup(name)}
}
