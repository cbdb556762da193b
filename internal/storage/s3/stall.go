package s3

import (
	"context"
	"fmt"
	"io"
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
func stallGuard(idle time.Duration) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("ferryStallGuard",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				ctx, cancel := context.WithCancel(ctx)
				out, md, err := next.HandleDeserialize(ctx, in)
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
