package s3

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ferry-sh/ferry/internal/storage"
)

// stallGuard bounds how long any answer of the store may stop in the middle
// of its body. The transport's ResponseHeaderTimeout bounds the wait for
// the headers, but nothing bounded the body: a store that stalled mid-way
// held a download (and its client) for ever, and a stalled listing hung
// the request, or ferry's startup. Each request gets a context of its own;
// a Read of its body that waits longer than idle cancels it, which drops
// the connection and ends the Read with ErrUnavailable, so a download is
// cut short and logged as such. The middleware sits innermost in the
// Deserialize step, so the SDK's own deserializers (a listing's XML) read
// through it too.
//
// The same holds the other way: ResponseHeaderTimeout starts only once the
// request's body is all sent, so a store that stopped taking an upload's
// body in held the upload (and its client) for ever. A request's body is
// read through a sendGuard, which cancels the request when the transport,
// having read a piece, does not come back for the next within idle (its
// write of that piece to the store is stuck); the upload then fails with
// ErrUnavailable, a 503.
func stallGuard(idle time.Duration) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("ferryStallGuard",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				ctx, cancel := context.WithCancel(ctx)
				var send *sendGuard
				if req, ok := in.Request.(*smithyhttp.Request); ok && req.GetStream() != nil {
					send = newSendGuard(req.GetStream(), idle, cancel)
					if guarded, err := req.SetStream(send); err == nil {
						in.Request = guarded
					}
				}
				out, md, err := next.HandleDeserialize(ctx, in)
				if send != nil {
					send.stop()
					if err != nil && send.stalled.Load() {
						err = fmt.Errorf("%w: the store took in nothing of the body for %s", storage.ErrUnavailable, idle)
					}
				}
				resp, ok := out.RawResponse.(*smithyhttp.Response)
				if !ok || resp.Body == nil {
					cancel()
					return out, md, err
				}
				// Cancelled when the body is closed: a streamed object's
				// body outlives this call.
				resp.Body = newStallBody(resp.Body, idle, cancel)
				return out, md, err
			}), middleware.After)
	}
}

// stallBody cancels its request when a Read waits longer than idle.
type stallBody struct {
	rc      io.ReadCloser
	idle    time.Duration
	cancel  context.CancelFunc
	timer   *time.Timer
	stalled atomic.Bool
}

func newStallBody(rc io.ReadCloser, idle time.Duration, cancel context.CancelFunc) *stallBody {
	b := &stallBody{rc: rc, idle: idle, cancel: cancel}
	b.timer = time.AfterFunc(idle, func() {
		b.stalled.Store(true)
		cancel()
	})
	b.timer.Stop()
	return b
}

func (b *stallBody) Read(p []byte) (int, error) {
	b.timer.Reset(b.idle)
	n, err := b.rc.Read(p)
	b.timer.Stop()
	if err != nil && b.stalled.Load() {
		return n, fmt.Errorf("%w: the store sent nothing for %s", storage.ErrUnavailable, b.idle)
	}
	return n, err
}

func (b *stallBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	// The body was read or dropped: its connection is back in the pool or
	// closed, and cancelling now only releases the context.
	b.cancel()
	return err
}

// sendGuard cancels its request when the transport, having read a piece of
// the body, does not come back for the next within idle: the write of that
// piece to the store has stalled. The wait before the first piece (the
// connection, an Expect: 100-continue) and after the last (the response,
// under ResponseHeaderTimeout) is not its business.
type sendGuard struct {
	r       io.Reader
	idle    time.Duration
	timer   *time.Timer
	stalled atomic.Bool
	mu      sync.Mutex
	over    bool // the request is answered: never armed again
}

func newSendGuard(r io.Reader, idle time.Duration, cancel context.CancelFunc) *sendGuard {
	g := &sendGuard{r: r, idle: idle}
	g.timer = time.AfterFunc(idle, func() {
		g.stalled.Store(true)
		cancel()
	})
	g.timer.Stop()
	return g
}

func (g *sendGuard) Read(p []byte) (int, error) {
	g.timer.Stop()
	n, err := g.r.Read(p)
	if err == nil {
		g.mu.Lock()
		if !g.over {
			g.timer.Reset(g.idle)
		}
		g.mu.Unlock()
	}
	return n, err
}

func (g *sendGuard) stop() {
	g.mu.Lock()
	g.over = true
	g.timer.Stop()
	g.mu.Unlock()
}
