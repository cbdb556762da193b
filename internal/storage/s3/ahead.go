package s3

import (
	"context"
	"io"
	"sync"
)

// A long sequential read (a whole large file, a long range) is fetched as
// chunks, several ranged GETs in flight at once: one GET stream runs at the
// pace of the store's own pipeline (a gateway fetching the object's chunks
// from its volume servers one after the other), and a few side by side let
// the store work on the next chunks while ferry sends this one. Memory stays
// bounded: each read holds at most aheadChunks+1 buffers of chunkSize, and
// the whole Tree at most maxChunks of them; a read that finds none free
// streams windows one after the other instead, as short reads always do.
const (
	chunkSize   = 8 << 20
	aheadChunks = 2
	maxChunks   = 8 // 64 MiB per Tree
)

// chunks is a Tree's budget of chunk buffers.
type chunks struct {
	tokens chan struct{}
	bufs   sync.Pool
}

func newChunks() *chunks {
	return &chunks{tokens: make(chan struct{}, maxChunks), bufs: sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}}
}

// take reserves a buffer, or reports that the budget is spent.
func (c *chunks) take() (*[]byte, bool) {
	select {
	case c.tokens <- struct{}{}:
		return c.bufs.Get().(*[]byte), true
	default:
		return nil, false
	}
}

func (c *chunks) give(b *[]byte) {
	c.bufs.Put(b)
	<-c.tokens
}

// chunk is one ranged GET read whole into its buffer.
type chunk struct {
	off, end int64
	buf      *[]byte
	n        int
	err      error
	done     chan struct{}
}

// ahead reads [at, end) of an object as chunks.
type ahead struct {
	o      *object
	ctx    context.Context
	cancel context.CancelFunc
	at     int64 // the next byte Read returns
	next   int64 // where the next chunk to fetch starts
	end    int64
	queue  []*chunk // fetched or being fetched, in order; queue[0] is being read
}

// startAhead begins reading [o.pos, end) as chunks, or returns nil when the
// budget cannot spare the two buffers that make it worthwhile.
func (o *object) startAhead(end int64) *ahead {
	a := &ahead{o: o, at: o.pos, next: o.pos, end: end}
	a.ctx, a.cancel = context.WithCancel(o.ctx)
	for range aheadChunks + 1 {
		if !a.launch() {
			break
		}
	}
	if len(a.queue) < 2 {
		a.stop()
		return nil
	}
	return a
}

// launch starts fetching the next chunk, if there is one and a buffer.
func (a *ahead) launch() bool {
	if a.next >= a.end {
		return false
	}
	buf, ok := a.o.t.chunks.take()
	if !ok {
		return false
	}
	c := &chunk{off: a.next, end: min(a.next+chunkSize, a.end), buf: buf, done: make(chan struct{})}
	a.next = c.end
	a.queue = append(a.queue, c)
	go func() {
		defer close(c.done)
		body, err := a.o.getCtx(a.ctx, c.off, c.end)
		if err != nil {
			c.err = err
			return
		}
		c.n, err = io.ReadFull(body, (*c.buf)[:c.end-c.off])
		body.Close()
		if err != nil {
			c.err = storeErr("read", err)
		}
	}()
	return true
}

// read serves p from the chunk at a.at; ok is false when the chunks ran out
// (the budget went to other reads): the caller goes on with windows.
func (a *ahead) read(p []byte) (n int, ok bool, err error) {
	for len(a.queue) > 0 {
		c := a.queue[0]
		select {
		case <-c.done:
		case <-a.ctx.Done():
			return 0, true, a.ctx.Err()
		}
		if c.err != nil {
			return 0, true, c.err
		}
		if a.at < c.off+int64(c.n) {
			n = copy(p, (*c.buf)[a.at-c.off:c.n])
			a.at += int64(n)
			return n, true, nil
		}
		a.queue = a.queue[1:]
		a.o.t.chunks.give(c.buf)
		a.launch()
	}
	return 0, false, nil
}

// stop abandons the chunks in flight and hands their buffers back once
// their GETs have let go of them.
func (a *ahead) stop() {
	a.cancel()
	for _, c := range a.queue {
		go func() {
			<-c.done
			a.o.t.chunks.give(c.buf)
		}()
	}
	a.queue = nil
}
