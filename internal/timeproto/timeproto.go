// Package timeproto implements the ferry time service: a line protocol in the
// spirit of the daytime service (RFC 867), where each request line names a
// format and the reply is the current time in that format.
package timeproto

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// HelpText is the reply to any line that is not one of the three words.
const HelpText = "send one of: asctime (local time, like Mon Jan  2 15:04:05 2006), " +
	"seconds (whole seconds since the Unix epoch), " +
	"rfc822 (UTC time, like Mon, 02 Jan 2006 15:04:05 +0000)"

// MaxLine is the longest request line, in bytes before its newline, that a
// connection may send; a longer one closes the connection unanswered.
const MaxLine = 1024

// DefaultIdleTimeout applies when Options.IdleTimeout is zero.
const DefaultIdleTimeout = 60 * time.Second

// Options configures Serve. The zero value is ready to use.
type Options struct {
	IdleTimeout time.Duration    // default 60s when zero
	Now         func() time.Time // nil = time.Now (tests inject a clock)
	Location    *time.Location   // for asctime; nil = time.Local
	Logger      *slog.Logger     // one log line per connection; nil = no logs
}

// Answer returns the one-line reply (without newline) for one request line.
// The line may carry a trailing "\r" and surrounding white space.
func Answer(line string, now time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	switch word := strings.TrimSpace(line); {
	case strings.EqualFold(word, "asctime"):
		return now.In(loc).Format(time.ANSIC)
	case strings.EqualFold(word, "seconds"):
		return strconv.FormatInt(now.Unix(), 10)
	case strings.EqualFold(word, "rfc822"):
		// RFC1123Z rather than RFC822Z: it carries the weekday and a
		// four-digit year, which is what the spec's example shows.
		return now.UTC().Format(time.RFC1123Z)
	default:
		return HelpText
	}
}

// Serve accepts connections on ln until ctx is done, then closes ln, closes
// the connections still open and returns nil once their goroutines have
// ended. If ln fails for good it does the same and returns that error.
func Serve(ctx context.Context, ln net.Listener, opts Options) error {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}

	// connCtx also ends when Serve returns on a listener error, so that no
	// connection outlives the call.
	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(connCtx, func() { ln.Close() })
	defer stop()

	var conns sync.WaitGroup
	defer conns.Wait()

	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if isTemporary(err) {
				// Running out of file descriptors passes; wait as
				// net/http does rather than spin or give up.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(backoff):
					continue
				case <-connCtx.Done():
					return nil
				}
			}
			cancel()
			ln.Close()
			return err
		}
		backoff = 0
		conns.Go(func() { serveConn(connCtx, c, &opts) })
	}
}

// isTemporary reports whether an Accept error may go away by itself, such
// as EMFILE. net.Error.Temporary is deprecated because its meaning is vague,
// but for Accept it is exactly the test net/http still uses.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary() && !errors.Is(err, net.ErrClosed)
}

// How a connection ended, as logged.
const (
	endEOF      = "eof"
	endIdle     = "idle"
	endTooLong  = "too long"
	endReset    = "reset by client"
	endShutdown = "shutdown"
	endError    = "error"
	endPanic    = "panic"
)

var errTooLong = errors.New("request line too long")

// serveConn answers lines on c until EOF, the idle timeout, an over-long
// line or ctx ending, and logs one line about it.
func serveConn(ctx context.Context, c net.Conn, opts *Options) {
	start := time.Now()
	var lines int
	end, cause := endEOF, error(nil)

	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer func() {
		// A panic here would take the whole process and every other
		// connection with it; keep it to this connection.
		if p := recover(); p != nil {
			end, cause = endPanic, nil
			if opts.Logger != nil {
				opts.Logger.Error("time connection panicked", "client", c.RemoteAddr().String(), "panic", p)
			}
		}
		stop()
		c.Close()
		if opts.Logger != nil {
			attrs := []any{
				"client", c.RemoteAddr().String(),
				"lines", lines,
				"duration", time.Since(start).Round(time.Millisecond),
				"end", end,
			}
			if cause != nil {
				attrs = append(attrs, "error", cause.Error())
			}
			opts.Logger.Info("time connection", attrs...)
		}
	}()

	// The reader's buffer is one byte larger than MaxLine, so a full buffer
	// without a newline is exactly a line that is too long, and memory per
	// connection stays fixed whatever the client sends.
	br := bufio.NewReaderSize(c, MaxLine+1)
	out := make([]byte, 0, 128)
	for {
		if err := c.SetReadDeadline(time.Now().Add(opts.IdleTimeout)); err != nil {
			end, cause = classify(ctx, err)
			return
		}
		line, err := readLine(br)
		if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
			end, cause = classify(ctx, err)
			return
		}
		out = append(out[:0], Answer(string(line), opts.Now(), opts.Location)...)
		out = append(out, '\n')
		// A client that sends without reading would otherwise block this
		// write forever once the socket buffers fill.
		if werr := c.SetWriteDeadline(time.Now().Add(opts.IdleTimeout)); werr != nil {
			end, cause = classify(ctx, werr)
			return
		}
		if _, werr := c.Write(out); werr != nil {
			end, cause = classify(ctx, werr)
			return
		}
		lines++
		if err != nil { // the final line had no newline; EOF follows it
			return
		}
	}
}

// readLine returns the next line without its "\n". At EOF it returns the
// unterminated rest (possibly empty) together with io.EOF.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, errTooLong
	case err != nil:
		if len(line) > MaxLine {
			return nil, errTooLong
		}
		return line, err
	}
	line = line[:len(line)-1]
	if len(line) > MaxLine {
		return nil, errTooLong
	}
	return line, nil
}

// classify turns the error that ended a connection into a log reason. Only
// errors that are not the client's doing keep their cause.
func classify(ctx context.Context, err error) (string, error) {
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		return endShutdown, nil
	case errors.Is(err, errTooLong):
		return endTooLong, nil
	case errors.Is(err, io.EOF):
		return endEOF, nil
	case errors.As(err, &ne) && ne.Timeout():
		return endIdle, nil
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.ErrClosedPipe):
		return endReset, nil
	default:
		return endError, err
	}
}
