// Package termview shows the transfers in flight on a terminal: one line per
// download or upload with its client, file, a progress bar, bytes of total,
// speed and time left, redrawn in place a few times a second, while log
// lines scroll above them. The drawing is left to mpb, which redraws the
// bars as one block and prints what is written to it above that block, so
// lines and bars never cut into each other.
//
// Use it only when the output is a terminal; everything written to it goes
// through Writer.
package termview

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/mattn/go-runewidth"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/ferry-sh/ferry/internal/accesslog"
	"github.com/ferry-sh/ferry/internal/transfer"
)

// Options tune the view; the zero value is fine.
type Options struct {
	// MaxBars bounds the bars shown at once; more transfers are counted
	// on one line below them. Default 10.
	MaxBars int
	// Refresh is the redraw interval. Default 200ms (5 Hz).
	Refresh time.Duration
	// Width is the terminal's width when it cannot be asked. Default 100.
	Width func() int
}

// View is the live transfer view. It implements accesslog.Observer.
type View struct {
	p       *mpb.Progress
	opts    Options
	closed  atomic.Bool
	stop    chan struct{}
	stopped chan struct{}

	// restore gives the terminal back its settings (see quietControls).
	restore func()

	mu    sync.Mutex
	live  map[uint64]*entry    // transfers with a bar, by ID
	queue []*transfer.Transfer // transfers beyond MaxBars, oldest first
	more  *mpb.Bar             // the "and N more" line, nil when none
	moreN atomic.Int64
	order int
	// closing: Close has begun; no bar is added any more.
	closing bool
	// dying are bars taken away but maybe not yet off the screen: mpb
	// draws a removed bar once more, and one drawn by its last redraw
	// stays.
	dying []*mpb.Bar
}

type entry struct {
	tr      *transfer.Transfer
	bar     *mpb.Bar
	label   string
	stats   atomic.Pointer[string]
	samples []sample // recent progress, for the speed
}

type sample struct {
	t    time.Time
	done int64
}

// speedWindow is how far back the speed looks: long enough to be steady,
// short enough that a stall shows within seconds.
const speedWindow = 3 * time.Second

var _ accesslog.Observer = (*View)(nil)

// New starts drawing on out, which must be a terminal.
func New(out io.Writer, opts Options) *View {
	if opts.MaxBars <= 0 {
		opts.MaxBars = 10
	}
	if opts.Refresh <= 0 {
		opts.Refresh = 200 * time.Millisecond
	}
	if opts.Width == nil {
		opts.Width = func() int { return 100 }
	}
	v := &View{
		opts:    opts,
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
		live:    map[uint64]*entry{},
		restore: func() {},
	}
	if f, ok := out.(*os.File); ok {
		v.restore = quietControls(f)
	}
	v.p = mpb.New(mpb.WithOutput(out), mpb.WithRefreshRate(opts.Refresh), mpb.WithAutoRefresh())
	go v.poll()
	return v
}

// Writer returns a writer whose lines are printed above the bars while the
// view runs, and go straight to w once it is closed (or if drawing fails).
// Every output that shares the terminal with the view must go through one.
func (v *View) Writer(w io.Writer) io.Writer { return &lineWriter{v: v, w: w} }

type lineWriter struct {
	v *View
	w io.Writer
}

func (l *lineWriter) Write(b []byte) (int, error) {
	if l.v.closed.Load() {
		return l.w.Write(b)
	}
	n, err := l.v.p.Write(b)
	if errors.Is(err, mpb.ErrDone) {
		return l.w.Write(b)
	}
	return n, err
}

// closeWait bounds how long Close waits for the bars to be taken off the
// screen: a redraw or two.
const closeWait = 2 * time.Second

// Close takes the bars off the screen, prints what was written before and
// stops drawing; what is written afterwards goes straight out, below the
// last log line, with nothing of the view left around it.
func (v *View) Close() {
	v.mu.Lock()
	if v.closing {
		v.mu.Unlock()
		return
	}
	v.closing = true // no new bars from here on
	for id, e := range v.live {
		v.remove(e.bar)
		delete(v.live, id)
	}
	v.queue = nil
	if v.more != nil {
		v.remove(v.more)
		v.more = nil
	}
	bars := v.dying
	v.dying = nil
	v.mu.Unlock()
	close(v.stop)
	<-v.stopped
	// A removed bar is drawn one last time by the redraw that notices it,
	// and the next redraw wipes it. Were that last drawing the final one,
	// made by Shutdown, the bar would stay on the screen, stale (below the
	// summary that follows): so each is seen gone before Shutdown, whose
	// redraw then wipes them all.
	deadline := time.After(closeWait)
	for _, b := range bars {
		done := make(chan struct{})
		go func() { b.Wait(); close(done) }()
		select {
		case <-done:
		case <-deadline:
		}
	}
	v.p.Shutdown()
	v.closed.Store(true)
	v.restore()
}

// Started shows a transfer (a bar if there is room, else it is counted).
func (v *View) Started(tr *transfer.Transfer) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closing {
		return
	}
	if len(v.live) < v.opts.MaxBars {
		v.add(tr)
	} else {
		v.queue = append(v.queue, tr)
	}
	v.updateMore()
}

// Ended takes a transfer's bar away; its log line follows through Writer.
func (v *View) Ended(tr *transfer.Transfer) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if e, ok := v.live[tr.ID]; ok {
		v.remove(e.bar)
		delete(v.live, tr.ID)
		if len(v.queue) > 0 && !v.closing {
			next := v.queue[0]
			v.queue = v.queue[1:]
			v.add(next)
		}
	} else {
		for i, q := range v.queue {
			if q.ID == tr.ID {
				v.queue = append(v.queue[:i], v.queue[i+1:]...)
				break
			}
		}
	}
	v.updateMore()
}

// add makes a bar for tr; v.mu is held.
func (v *View) add(tr *transfer.Transfer) {
	e := &entry{tr: tr}
	e.label = label(tr, v.opts.Width())
	e.update(time.Now())
	total := max(tr.Size, 0)
	v.order++
	e.bar = v.p.AddBar(total,
		mpb.BarPriority(v.order),
		mpb.BarRemoveOnComplete(),
		mpb.BarFillerClearOnComplete(),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return e.label })),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return *e.stats.Load() }, decor.WCSyncWidthR)),
	)
	e.bar.SetCurrent(min(tr.Done(), max(total-1, 0)))
	v.live[tr.ID] = e
}

// updateMore shows, updates or removes the "and N more" line; v.mu is held.
func (v *View) updateMore() {
	n := int64(len(v.queue))
	v.moreN.Store(n)
	switch {
	case n > 0 && v.more == nil && !v.closing:
		v.more = v.p.New(0, mpb.NopStyle(),
			mpb.BarPriority(math.MaxInt32),
			mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
				return fmt.Sprintf("… and %d more transfers", v.moreN.Load())
			})),
		)
	case n == 0 && v.more != nil:
		v.remove(v.more)
		v.more = nil
	}
}

// remove takes a bar away; v.mu is held.
func (v *View) remove(b *mpb.Bar) {
	b.Abort(true)
	v.dying = append(v.dying, b)
}

// poll samples the progress of the shown transfers for the next redraw.
func (v *View) poll() {
	defer close(v.stopped)
	t := time.NewTicker(v.opts.Refresh)
	defer t.Stop()
	for {
		select {
		case <-v.stop:
			return
		case now := <-t.C:
			v.mu.Lock()
			v.dying = slices.DeleteFunc(v.dying, func(b *mpb.Bar) bool { return !b.IsRunning() })
			for _, e := range v.live {
				e.update(now)
				done := e.tr.Done()
				if e.tr.Size > 0 {
					// The bar completes (and goes) only when the
					// transfer ends: a download may still fail at
					// its last byte.
					done = min(done, e.tr.Size-1)
				}
				e.bar.SetCurrent(done)
			}
			v.mu.Unlock()
		}
	}
}

// update recomputes the figures after the bar: percentage, bytes of total,
// speed over the last seconds and time left.
func (e *entry) update(now time.Time) {
	done, size := e.tr.Done(), e.tr.Size
	e.samples = append(e.samples, sample{now, done})
	for len(e.samples) > 2 && now.Sub(e.samples[0].t) > speedWindow {
		e.samples = e.samples[1:]
	}
	first := e.samples[0]
	if len(e.samples) == 1 {
		// A resumed upload starts at what earlier requests stored.
		first = sample{e.tr.Start, e.tr.Offset}
	}
	var speed float64
	if dt := now.Sub(first.t).Seconds(); dt > 0.1 {
		speed = float64(done-first.done) / dt
	}
	var b []byte
	if size > 0 {
		b = fmt.Appendf(b, "%3d%%  ", min(done*100/size, 100))
	} else {
		b = append(b, "   ?  "...)
	}
	b = accesslog.AppendSize(b, done)
	b = append(b, " / "...)
	b = accesslog.AppendSize(b, size)
	b = append(b, "  "...)
	b = accesslog.AppendSize(b, int64(speed))
	b = append(b, "/s"...)
	if size > 0 && speed > 0 && done < size {
		b = append(b, "  "...)
		b = append(b, eta(time.Duration(float64(size-done)/speed*float64(time.Second)))...)
		b = append(b, " left"...)
	}
	s := string(b)
	e.stats.Store(&s)
}

// eta formats a time left as 42s, 3m05s or 2h07m.
func eta(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 100*3600:
		return fmt.Sprintf("%dh%02dm", s/3600, s/60%60)
	}
	return "long"
}

// label is the part before the bar: client address and file, the name cut
// to fit the terminal.
func label(tr *transfer.Transfer, width int) string {
	client := tr.Client
	if host, _, err := net.SplitHostPort(client); err == nil {
		client = host
	}
	arrow := "↓"
	if tr.Kind == transfer.KindUpload {
		arrow = "↑"
	}
	// The bar and the figures after it need about 60 columns.
	nameW := min(max(width-60-17, 12), 60)
	name := runewidth.Truncate(Printable(tr.Path), nameW, "…")
	return fmt.Sprintf("%-15s %s %s", runewidth.Truncate(Printable(client), 15, "…"), arrow, runewidth.FillRight(name, nameW))
}

// Printable replaces control characters (an escape sequence in a requested
// path would otherwise reach the terminal) and bidirectional overrides
// (which would reorder the line) with U+FFFD.
func Printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return '\uFFFD'
		}
		return r
	}, s)
}
