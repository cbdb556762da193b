package ferry

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ferry-sh/ferry/internal/echo"
	"github.com/ferry-sh/ferry/internal/timeproto"
)

// EchoOptions configure the request inspector. The zero value is ready to use.
type EchoOptions struct {
	// MaxBody caps request bodies in bytes (larger ones answer 413);
	// 0 = no limit. Bodies are streamed either way.
	MaxBody int64
}

// NewEchoHandler returns the request inspector ferry echo runs: it answers
// every request, whatever its method or path, with 200 and a report of what
// it received (client, method, path, query, protocol, headers, the body's
// size and SHA-256, the body itself when it is text of up to 64 KiB, form
// fields and uploaded files with their SHA-256), as plain text, or JSON for
// "Accept: application/json" or "?format=json".
func NewEchoHandler(opts EchoOptions) http.Handler {
	return echo.NewHandler(echo.Options{MaxBody: opts.MaxBody})
}

// TimeOptions configure the time service. The zero value is ready to use.
type TimeOptions struct {
	// IdleTimeout closes a connection that sends no line for this long;
	// 0 = 60s.
	IdleTimeout time.Duration
	// Logger receives one record per connection; nil logs nothing.
	Logger *slog.Logger
}

// ServeTime runs ferry's line-protocol time service on ln until ctx ends:
// each line "asctime", "seconds" or "rfc822" (any case, surrounding white
// space ignored) is answered with the time in that form, anything else with
// one line of help. It closes ln and every connection before returning, and
// returns nil when ctx ended it.
func ServeTime(ctx context.Context, ln net.Listener, opts TimeOptions) error {
	return timeproto.Serve(ctx, ln, timeproto.Options{IdleTimeout: opts.IdleTimeout, Logger: opts.Logger})
}
