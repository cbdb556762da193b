package tus

import (
	"context"
	"time"
)

// janitor removes expired uploads until Close.
func (h *Handler) janitor() {
	defer h.wg.Done()
	every := min(max(h.opts.TTL/4, 100*time.Millisecond), 10*time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.expire()
		}
	}
}

// expireTimeout bounds one round of removing expired uploads, so that a
// store that does not answer cannot hold the janitor (or Close) for long.
const expireTimeout = 30 * time.Second

// expire removes, in the store, unfinished uploads idle for longer than the
// TTL (whichever node or run began them), and forgets here what this node
// counted of them and finished ones after finishedKeep (or the TTL if
// shorter). An upload a request is working on is left alone: it is not
// idle.
func (h *Handler) expire() {
	now := h.now()
	ctx, cancel := context.WithTimeout(context.Background(), expireTimeout)
	defer cancel()
	h.res.Expire(ctx, now.Add(-h.opts.TTL))
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.sessions {
		s.mu.Lock()
		keep := h.opts.TTL
		if s.finished {
			keep = min(keep, finishedKeep)
		}
		old := now.Sub(s.touched) > keep
		s.mu.Unlock()
		if old && s.refs <= 0 {
			h.drop(s)
		}
	}
}
