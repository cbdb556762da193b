package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"github.com/ferry-sh/ferry/internal/transfer"
)

// Config is what Run needs besides the listeners.
type Config struct {
	Handler http.Handler
	TLS     *tls.Config // nil: plain HTTP
	// Done, when closed, stops the server as Ctrl-C would (--exit-after, --once).
	Done <-chan struct{}
	// IdleExit stops the server after that long without a request in flight.
	IdleExit time.Duration
	// Idle reports how long no request has been in flight.
	Idle func() time.Duration
	// Interrupt delivers further signals during shutdown: one ends it at once.
	Interrupt <-chan os.Signal
	// Grace is how long transfers in flight may go on after a stop.
	Grace time.Duration
	// ReadHeaderTimeout and IdleTimeout default to 10s and 120s.
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	// MaxConnsPerIP caps open connections per client address; 0 = no cap.
	MaxConnsPerIP int
	// ConnRefused, when set, hears of each connection closed unread (at
	// that cap, or with every connection busy at capacity).
	ConnRefused func()
	// ConnLimitExempt, when set, names addresses the cap does not apply
	// to (trusted reverse proxies). Unix sockets are never capped: their
	// peers have no address to tell them apart.
	ConnLimitExempt func(netip.Addr) bool
	// Capacity limits connections and requests in flight; the zero value
	// derives them from the descriptor limit (CapacityFor).
	Capacity Capacity
	// Client, when set, tells the client a request comes from, for the
	// per-client limits (behind a trusted proxy: the forwarded address).
	Client func(*http.Request) netip.Addr
	// RequestRefused, when set, hears of each request refused for
	// overload (503, or dropped).
	RequestRefused func()
	// Logger hears of overload (connections shed, requests refused). Nil
	// logs nothing.
	Logger *slog.Logger
	// Stopping, when set, is called once the server stops, before the
	// transfers in flight are waited for (the command line says so). An
	// interrupt from then on (after a stop by signal: a second one) ends
	// them at once.
	Stopping func(Reason)
	// Busy, when set, reports the requests whose handlers still run. After
	// cutting transfers short, Run waits briefly for those handlers to
	// return, so that their log lines come before what the caller prints.
	Busy func() int
	// Settle, when set, is called after the server stopped, within the
	// grace period: it waits for downloads whose last bytes the clients
	// have yet to acknowledge (transfer.Tracker.Settle).
	Settle func(context.Context)
}

// Reason says why Run returned.
type Reason string

const (
	ReasonSignal Reason = "interrupted"
	ReasonDone   Reason = "done"
	ReasonIdle   Reason = "idle"
)

// NewHTTPServer builds the http.Server with ferry's timeouts: a header read
// timeout against slowloris and an idle timeout, but no write timeout, which
// would cut long legitimate downloads.
func NewHTTPServer(cfg Config) *http.Server {
	srv := &http.Server{
		Handler:           cfg.Handler,
		ReadHeaderTimeout: or(cfg.ReadHeaderTimeout, 10*time.Second),
		IdleTimeout:       or(cfg.IdleTimeout, 120*time.Second),
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         cfg.TLS,
		// Go answers "OPTIONS *" itself unless told not to; ferry must check
		// credentials first.
		DisableGeneralOptionsHandler: true,
		// Clients hanging up and TLS probes are no server errors.
		ErrorLog: log.New(io.Discard, "", 0),
		// Requests find their connection's socket, to learn what the
		// client acknowledged (Listen in Run makes the sockets).
		ConnContext: transfer.ConnContext,
		// A hundred streams per connection, as nginx and Apache allow,
		// rather than Go's 250: every stream in flight may hold a file
		// and buffers.
		HTTP2: &http.HTTP2Config{MaxConcurrentStreams: 100},
	}
	if cfg.MaxHeaderBytes > 0 {
		srv.MaxHeaderBytes = cfg.MaxHeaderBytes
	}
	return srv
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Run serves on every listener until ctx ends, Done closes, or the server
// has been idle for IdleExit; then it lets transfers in flight finish for
// Grace (a further interrupt ends them at once).
func Run(ctx context.Context, ls *Listeners, cfg Config) (Reason, error) {
	guard := protect(&cfg)
	quic := newHTTP3(&cfg, ls)
	srv := NewHTTPServer(cfg)
	srv.ConnState = guard.connState
	errc := make(chan error, len(ls.List)+quic.count())
	quic.serve(errc)
	for _, ln := range ls.List {
		// The guard is outermost: the server closes its connections,
		// and transfer's socket below it is found through NetConn.
		ln = guard.listener(transfer.Listen(ln))
		go func(ln net.Listener) {
			var err error
			if cfg.TLS != nil {
				err = srv.ServeTLS(ln, "", "")
			} else {
				err = srv.Serve(ln)
			}
			errc <- err
		}(ln)
	}

	var idleTick <-chan time.Time
	if cfg.IdleExit > 0 && cfg.Idle != nil {
		t := time.NewTicker(min(cfg.IdleExit/4+time.Millisecond, time.Second))
		defer t.Stop()
		idleTick = t.C
	}
	var reason Reason
	var serveErr error
	// signals counts interrupts seen on cfg.Interrupt. The command line's
	// ctx is cancelled by the same SIGINT that also lands on cfg.Interrupt,
	// so a stop by signal must wait for a second one before cutting the
	// transfers in flight.
	signals := 0
wait:
	for {
		select {
		case <-ctx.Done():
			reason = ReasonSignal
			break wait
		case <-cfg.Interrupt:
			signals++
			reason = ReasonSignal
			break wait
		case <-cfg.Done:
			reason = ReasonDone
			break wait
		case <-idleTick:
			if cfg.Idle() >= cfg.IdleExit {
				reason = ReasonIdle
				break wait
			}
		case err := <-errc:
			if !errors.Is(err, http.ErrServerClosed) {
				serveErr = err
				break wait
			}
		}
	}

	grace := or(cfg.Grace, 5*time.Second)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	need := 1
	if reason == ReasonSignal {
		need = 2
	}
	if cfg.Stopping != nil && serveErr == nil {
		cfg.Stopping(reason)
	}
	go func() {
		for signals < need {
			select {
			case <-cfg.Interrupt:
				signals++
			case <-sctx.Done():
				return
			}
		}
		cancel()
	}()
	quicDone := make(chan struct{})
	go func() { quic.shutdown(sctx); close(quicDone) }()
	defer func() { <-quicDone }()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		if cfg.Busy != nil {
			// The handlers see their connections fail and return at
			// once; wait for that, boundedly.
			for end := time.Now().Add(time.Second); cfg.Busy() > 0 && time.Now().Before(end); {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	if cfg.Settle != nil {
		cfg.Settle(sctx)
	}
	return reason, serveErr
}
