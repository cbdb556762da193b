// Package transfer keeps the server's figures (requests, bytes, downloads) and
// the transfers in flight, and decides which downloads count as complete.
package transfer

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind tells what a response carries, as the handler that wrote it knows.
type Kind uint8

const (
	KindOther   Kind = iota
	KindFile         // a file's bytes (GET/HEAD of a file)
	KindArchive      // a folder streamed as an archive
	KindUpload       // a request body being stored
)

// String names the kind as the status page and logs do.
func (k Kind) String() string {
	switch k {
	case KindFile:
		return "download"
	case KindArchive:
		return "archive"
	case KindUpload:
		return "upload"
	}
	return "other"
}

// Outcome of a download.
const (
	Complete = "complete"
	CutShort = "cut short"
)

// Transfer is one request in flight whose progress is worth showing.
type Transfer struct {
	ID     uint64
	Client string
	Method string
	Path   string
	Start  time.Time
	Kind   Kind
	// Size is the number of body bytes expected, -1 when unknown.
	Size int64
	// User is the name whose credentials were verified, "" when none were.
	User string
	// Offset is how much of an uploaded file earlier requests stored (a
	// resumed upload): Done and Size then describe the whole file.
	Offset int64

	// When the handler returned and when the outcome was decided, as
	// times since Start (0 until known): see Returned and Decided. (Two
	// durations rather than two times keep the allocation Start makes
	// within 512 bytes.)
	returned, decided time.Duration

	rec      *Recorder
	received atomic.Int64
	up       upload

	// sock is the connection the request came in on when the kernel can
	// be asked about it, nil otherwise. h2 tells that other requests share
	// it. base is the socket's count of acknowledged bytes at which this
	// response's body begins, -1 until known (HTTP/1 bodies sent by
	// sendfile, whose progress would otherwise move a chunk at a time).
	sock    *Socket
	h2      bool
	base    atomic.Int64
	pend    *pend // waiting for acknowledgement; guarded by sock.mu once set
	settled atomic.Bool

	// Set by Finish, read once the outcome is known.
	req          *http.Request
	status       int
	contentRange string
	onDone       func(*Transfer)
	after        []func(outcome string, whole bool)
	outcome      string
	delivered    int64
	counted      bool

	// Set by Tracker.Start: Describe makes the transfer visible in the
	// tracker and tells obs, and End then tells obs it ended.
	tracker  *Tracker
	obs      Observer
	observed bool
	ctx      *trCtx // made with the transfer, for WithTransfer
}

// Observer hears about transfers as they start (a handler described them)
// and end; both are called on the request's goroutine.
type Observer interface {
	Started(*Transfer)
	Ended(*Transfer)
}

// Describe is called by a handler once it knows what it sends or stores.
func (t *Transfer) Describe(kind Kind, size int64) {
	t.Kind, t.Size = kind, size
	if t.tracker != nil {
		t.tracker.Show(t)
		if t.obs != nil {
			t.observed = true
			t.obs.Started(t)
		}
	}
}

// AfterDecided registers f to be told the transfer's outcome once it is
// decided ("" for a response that is no download; Complete only once the
// client acknowledged every byte) and whether it delivered a whole file or
// archive, as --exit-after counts them. It runs on the goroutine that
// decides, which may be another than the request's, after the handler
// returned; it must not block.
func (t *Transfer) AfterDecided(f func(outcome string, whole bool)) {
	t.after = append(t.after, f)
}

// Done is the number of bytes moved so far: received for uploads; for
// downloads, those the client acknowledged where the kernel tells (Linux),
// else those handed to it.
func (t *Transfer) Done() int64 {
	if t.Kind == KindUpload {
		return t.Offset + t.received.Load()
	}
	if t.rec == nil {
		return 0
	}
	sent := t.rec.Sent()
	if t.sock == nil {
		return sent
	}
	w, ok := t.sock.probe()
	if !ok {
		return sent
	}
	if base := t.base.Load(); base >= 0 {
		n := w.acked - base
		if t.Size >= 0 {
			n = min(n, t.Size)
		}
		return max(n, 0)
	}
	// Everything this response wrote is in the socket or acknowledged;
	// the queue may hold the headers, TLS records' and HTTP/2 frames'
	// overhead, and for HTTP/2 other streams' bytes: at least this many.
	return min(max(sent-w.queued, 0), sent)
}

// markBase learns where the body begins in the socket's count of
// acknowledged bytes, before a body goes out by sendfile in large steps.
// The headers are flushed first so that they are not counted as body.
func (t *Transfer) markBase(rec *Recorder) {
	if t.sock == nil || t.h2 || t.base.Load() >= 0 {
		return
	}
	if _, typed := rec.Header()["Content-Type"]; !typed {
		return // net/http would sniff the type from the first bytes: no early flush
	}
	f, ok := rec.ResponseWriter.(http.Flusher)
	if !ok {
		return
	}
	f.Flush()
	if w, ok := t.sock.probe(); ok {
		t.base.Store(w.acked + w.queued - rec.Sent())
	}
}

// Returned is when the handler returned: the clock is read once, by the
// first caller (the metrics, then Finish), for every figure that needs it.
// Reading this machine's clock costs about as much as a system call; a
// request made to read it half a dozen times spent 5 % of its CPU there.
// Only the request's goroutine may call it, once the handler returned.
func (t *Transfer) Returned() time.Time {
	if t.returned == 0 {
		t.returned = max(time.Since(t.Start), 1)
	}
	return t.Start.Add(t.returned)
}

// Decided is when the outcome was decided (when the handler returned, or
// when the client acknowledged the last byte), once it is known.
func (t *Transfer) Decided() time.Time { return t.Start.Add(t.decided) }

// Request is the request, once Finish was called.
func (t *Transfer) Request() *http.Request { return t.req }

// Status is the response's status (0 if nothing was written), once Finish was called.
func (t *Transfer) Status() int { return t.status }

// Outcome is Complete or CutShort for a download once decided, "" for
// other requests.
func (t *Transfer) Outcome() string { return t.outcome }

// Delivered is the number of body bytes that reached the client, once the
// outcome is known: for a download cut short on Linux, those acknowledged.
func (t *Transfer) Delivered() int64 { return t.delivered }

// Snapshot is a copy of the figures at one moment.
type Snapshot struct {
	Start         time.Time
	Requests      int64
	BytesSent     int64
	BytesReceived int64
	Completed     int64
	CutShort      int64
	InFlight      []TransferView
	Recent        []Finished

	UploadsCompleted int64 // files stored whole
	UploadsCutShort  int64 // upload requests whose body broke off
	// Moved names the files downloaded or uploaded, first ones first, up
	// to a bound; MovedMore counts the transfers beyond it.
	Moved     []Moved
	MovedMore int64
}

// TransferView is a transfer in flight as the status page shows it.
type TransferView struct {
	Client  string
	Method  string
	Path    string
	Kind    Kind
	Size    int64
	Done    int64
	Elapsed time.Duration
	// Offset is the part of Done that earlier requests moved (a resumed upload).
	Offset int64
}

// Finished is a completed or cut-short download or upload.
type Finished struct {
	Time    time.Time
	Client  string
	Path    string
	Size    int64
	Sent    int64 // bytes delivered (downloads) or stored (uploads); -1 unknown
	Outcome string
	// Kind is KindFile or KindArchive (downloads) or KindUpload.
	Kind     Kind
	Duration time.Duration
}

// Tracker holds the server-wide figures. All methods are safe for concurrent use.
type Tracker struct {
	start         time.Time
	requests      atomic.Int64
	bytesSent     atomic.Int64
	bytesReceived atomic.Int64
	completed     atomic.Int64
	cutShort      atomic.Int64
	active        atomic.Int64
	lastActive    atomic.Int64 // unix nanoseconds
	nextID        atomic.Uint64

	limit   int64 // downloads to count before done; 0 = no limit
	counted atomic.Int64
	done    chan struct{}

	unsettled atomic.Int64 // downloads waiting for acknowledgement
	once      sync.Once

	mu       sync.Mutex
	inflight map[uint64]*Transfer
	pending  []*Transfer         // downloads waiting for acknowledgement, and some since decided
	settling bool                // settleLoop runs
	cut      map[string]struct{} // client IP + path of downloads cut short, for resumes
	recent   [recentMax]Finished // ring of the last finished downloads
	nrecent  int                 // how many of recent are filled
	next     int                 // where the next finished download goes
	wanted   map[string]bool     // --once: paths still to be downloaded once

	uploadsCompleted atomic.Int64
	uploadsCut       atomic.Int64
	moved            []Moved // for the summary, up to maxMoved
	movedMore        int64
}

const recentMax = 50

// NewTracker makes a Tracker. exitAfter > 0 closes Done after that many counted downloads.
func NewTracker(exitAfter int64) *Tracker {
	t := &Tracker{
		start:    time.Now(),
		limit:    exitAfter,
		done:     make(chan struct{}),
		inflight: make(map[uint64]*Transfer),
		cut:      make(map[string]struct{}),
	}
	t.lastActive.Store(t.start.UnixNano())
	return t
}

// WantEach makes Done close once every one of these paths has been
// downloaded completely (for `--once`).
func (t *Tracker) WantEach(paths []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.wanted = make(map[string]bool, len(paths))
	for _, p := range paths {
		t.wanted[p] = true
	}
}

// Done is closed when the download limit is reached.
func (t *Tracker) Done() <-chan struct{} { return t.done }

// Idle reports how long no request has been in flight (0 while one is).
func (t *Tracker) Idle(now time.Time) time.Duration {
	if t.active.Load() > 0 {
		return 0
	}
	return now.Sub(time.Unix(0, t.lastActive.Load()))
}

// Begin registers a request. The returned Transfer must be passed to End.
func (t *Tracker) Begin(r *http.Request, rec *Recorder) *Transfer {
	tr := new(Transfer)
	t.begin(tr, r, rec)
	return tr
}

func (t *Tracker) begin(tr *Transfer, r *http.Request, rec *Recorder) {
	t.requests.Add(1)
	t.active.Add(1)
	tr.ID = t.nextID.Add(1)
	tr.Client, tr.Method, tr.Path = r.RemoteAddr, r.Method, r.URL.Path
	tr.Start = time.Now()
	tr.Size = -1
	tr.rec = rec
	if s := socketFrom(r.Context()); s != nil {
		s.begin(tr.Start)
		tr.sock, tr.h2 = s, r.ProtoMajor >= 2
		tr.base.Store(-1)
	}
}

// Start registers a request as Begin does, wrapping w in a Recorder that
// counts sent bytes in the tracker, both made in one allocation. Describe
// then shows the transfer and tells obs (which may be nil), and End tells
// obs it ended.
func (t *Tracker) Start(w http.ResponseWriter, r *http.Request, obs Observer) (*Transfer, *Recorder) {
	x := new(struct {
		tr  Transfer
		rec Recorder
		ctx trCtx
	})
	x.rec.ResponseWriter, x.rec.tracker, x.rec.tr = w, t, &x.tr
	t.begin(&x.tr, r, &x.rec)
	x.tr.tracker, x.tr.obs, x.tr.ctx = t, obs, &x.ctx
	x.ctx.tr = &x.tr
	return &x.tr, &x.rec
}

// Show makes a transfer visible in the in-flight list (downloads and uploads).
func (t *Tracker) Show(tr *Transfer) {
	t.mu.Lock()
	t.inflight[tr.ID] = tr
	t.mu.Unlock()
}

// Received counts request body bytes.
func (t *Tracker) Received(tr *Transfer, n int64) {
	t.bytesReceived.Add(n)
	tr.received.Add(n)
}

// Sent counts response body bytes.
func (t *Tracker) Sent(n int64) { t.bytesSent.Add(n) }

// End closes a request as Finish does and waits for the outcome, which it
// returns with whether the download counted ("" for responses that are no
// download).
func (t *Tracker) End(tr *Transfer, r *http.Request, rec *Recorder, h http.Header) (outcome string, counted bool) {
	ch := make(chan struct{})
	t.Finish(tr, r, rec, h, func(*Transfer) { close(ch) })
	<-ch
	return tr.outcome, tr.counted
}

// Finish closes a request after its handler returned and, for a download,
// decides its outcome and whether it counts. A download is complete once
// the client acknowledged every byte (where the kernel tells: Linux), not
// when the last byte was handed to the kernel; until then it stays in
// flight, its handler's connection free for the next request, and done is
// called once it is decided, on another goroutine. Otherwise done is called
// before Finish returns. done may be nil.
func (t *Tracker) Finish(tr *Transfer, r *http.Request, rec *Recorder, h http.Header, done func(*Transfer)) {
	tr.req, tr.rec, tr.onDone = r, rec, done
	tr.status = rec.Status()
	now := tr.Returned()
	sent := rec.Sent()
	if tr.Kind == KindUpload {
		t.decide(tr, t.endUpload(tr, rec), sent, now)
		return
	}
	if tr.Kind != KindFile && tr.Kind != KindArchive || r.Method != http.MethodGet {
		t.decide(tr, "", sent, now)
		return
	}
	if tr.status != http.StatusOK && tr.status != http.StatusPartialContent {
		t.decide(tr, "", sent, now)
		return
	}
	// The handlers set these canonical names: Header.Get would canonicalise
	// them again.
	if tr.status == http.StatusPartialContent {
		if v := h["Content-Range"]; len(v) > 0 {
			tr.contentRange = v[0]
		}
	}
	want := int64(-1)
	if v := h["Content-Length"]; len(v) > 0 && v[0] != "" {
		want, _ = strconv.ParseInt(v[0], 10, 64)
	}
	// With a known length, every byte handed over means the answer is
	// whole on our side: a client that hangs up right after the last byte
	// cancels the context, and only the socket tells whether it got them.
	// Without one (archives), a cancelled context is the only sign the
	// stream was cut.
	if rec.Failed() || sent != want && (want >= 0 || r.Context().Err() != nil) {
		delivered := sent
		if tr.sock != nil {
			delivered = tr.sock.delivered(sent)
		}
		t.decide(tr, CutShort, delivered, now)
		return
	}
	if tr.sock != nil {
		if !tr.h2 {
			// The last bytes may still sit in net/http's buffers. (HTTP/2
			// sends its last byte with the end of the stream once the
			// handler returns: see Recorder.copyHoldingLast.)
			rec.Flush()
		}
		if ok, _ := tr.sock.hold(tr, now); !ok {
			t.await(tr)
			return
		}
	}
	t.decide(tr, Complete, sent, now)
}

// decide records tr's outcome, counts it (a download's: endUpload counts
// uploads), and tells the observer and done.
// now is when it was decided.
func (t *Tracker) decide(tr *Transfer, outcome string, delivered int64, now time.Time) {
	tr.outcome, tr.delivered, tr.decided = outcome, delivered, now.Sub(tr.Start)
	r := tr.req
	whole := outcome == Complete && tr.status == http.StatusOK
	if outcome == Complete && tr.status == http.StatusPartialContent {
		whole = t.finishesDownload(tr.contentRange, r)
	}
	t.mu.Lock()
	delete(t.inflight, tr.ID)
	var onceDone bool
	download := tr.Kind == KindFile || tr.Kind == KindArchive
	switch {
	case !download:
	case outcome == CutShort:
		t.cutShort.Add(1)
		// What never reached the client was not sent.
		t.bytesSent.Add(delivered - tr.rec.Sent())
		t.cut[cutKey(r)] = struct{}{}
		t.record(tr, now, CutShort, delivered)
		t.move(tr.Kind, tr.Path, CutShort, delivered, tr.Size)
	case outcome == Complete:
		if whole {
			t.completed.Add(1)
		}
		t.record(tr, now, Complete, delivered)
		if whole {
			t.move(tr.Kind, tr.Path, Complete, delivered, tr.Size)
		}
		if whole && len(t.cut) > 0 {
			delete(t.cut, cutKey(r))
		}
		switch {
		case !whole || t.wanted == nil || len(t.wanted) == 0:
		case tr.Kind == KindArchive && r.URL.Path == "/":
			// An archive of the root carries every shared item at once.
			clear(t.wanted)
			onceDone = true
		case t.wanted[r.URL.Path]:
			delete(t.wanted, r.URL.Path)
			onceDone = len(t.wanted) == 0
		}
		if whole {
			tr.counted = t.count()
		}
	}
	t.mu.Unlock()
	t.lastActive.Store(now.UnixNano())
	t.active.Add(-1)
	if tr.observed {
		tr.obs.Ended(tr)
	}
	for _, f := range tr.after {
		f(outcome, download && whole)
	}
	if tr.onDone != nil {
		tr.onDone(tr)
	}
	// Last, so that a server stopping for --once or --exit-after has the
	// line of the download that made it stop.
	if onceDone {
		t.once.Do(func() { close(t.done) })
	}
	if tr.pend != nil {
		tr.settled.Store(true)
		t.unsettled.Add(-1)
	}
}

// await keeps tr pending until its socket says the client acknowledged
// every byte, or no longer can.
func (t *Tracker) await(tr *Transfer) {
	t.unsettled.Add(1)
	t.mu.Lock()
	t.pending = append(t.pending, tr)
	start := !t.settling
	t.settling = true
	t.mu.Unlock()
	if start {
		go t.settleLoop()
	}
}

// settleLoop looks at the pending downloads every settleTick while there
// are any. One goroutine for all of them: downloads waiting for a slow
// client's last bytes cost no goroutine of their own, and their handlers'
// connections serve the next request meanwhile.
func (t *Tracker) settleLoop() {
	tick := time.NewTicker(settleTick)
	defer tick.Stop()
	socks := make(map[*Socket]struct{})
	for now := range tick.C {
		if !t.settleOnce(now, false, socks) {
			return
		}
	}
}

// settleOnce decides what it can of the downloads due for a look (force:
// of all, as they stand) and reports whether any remain; when none do,
// settleLoop is no longer running. socks is scratch space. A download is
// first due a tick after its handler returned: most are settled before
// by the next request on their connection, whose arrival acknowledged them.
func (t *Tracker) settleOnce(now time.Time, force bool, socks map[*Socket]struct{}) bool {
	t.mu.Lock()
	keep := t.pending[:0]
	for _, tr := range t.pending {
		if tr.settled.Load() {
			continue
		}
		keep = append(keep, tr)
		if force || now.UnixNano() >= tr.pend.due.Load() {
			socks[tr.sock] = struct{}{}
		}
	}
	clear(t.pending[len(keep):])
	t.pending = keep
	t.mu.Unlock()
	for s := range socks {
		settleAll(s.check(now, force), now)
	}
	clear(socks)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.unsettled.Load() == 0 {
		clear(t.pending)
		t.pending = t.pending[:0]
		t.settling = false
		return false
	}
	return true
}

// Settle waits until every download waiting for acknowledgement has been
// decided, or ctx ends; then it decides the rest as they stand. A server
// calls it after Shutdown so that the log and the figures are final.
func (t *Tracker) Settle(ctx context.Context) {
	tick := time.NewTicker(settleTick)
	defer tick.Stop()
	done := ctx.Done()
	for t.unsettled.Load() > 0 {
		select {
		case <-done:
			done = nil
			t.settleOnce(time.Now(), true, map[*Socket]struct{}{})
		case now := <-tick.C:
			if done == nil {
				// Handlers cut off by the end of the grace period may
				// still add downloads: decide them as they come.
				t.settleOnce(now, true, map[*Socket]struct{}{})
			}
		}
	}
}

// finishesDownload reports whether a complete 206 delivers a whole file: a
// range from 0 to the end, or the tail of one this client had cut short.
func (t *Tracker) finishesDownload(contentRange string, r *http.Request) bool {
	start, end, size, ok := parseContentRange(contentRange)
	if !ok || end != size-1 {
		return false
	}
	if start == 0 {
		return true
	}
	key := cutKey(r)
	t.mu.Lock()
	_, resumed := t.cut[key]
	t.mu.Unlock()
	return resumed
}

// cutKey names a download for resumes: the client's address and the path.
func cutKey(r *http.Request) string {
	return clientIP(r.RemoteAddr) + " " + r.URL.Path
}

// count adds one counted download unless the limit was reached already, so
// parallel requests never count past it.
func (t *Tracker) count() bool {
	for {
		c := t.counted.Load()
		if t.limit > 0 && c >= t.limit {
			return false
		}
		if t.counted.CompareAndSwap(c, c+1) {
			if t.limit > 0 && c+1 == t.limit {
				t.once.Do(func() { close(t.done) })
			}
			return true
		}
	}
}

// record adds a finished transfer to the recent ones; t.mu is held.
func (t *Tracker) record(tr *Transfer, now time.Time, outcome string, sent int64) {
	f := Finished{Time: now, Client: tr.Client, Path: tr.Path, Size: tr.Size, Sent: sent, Outcome: outcome, Kind: tr.Kind}
	f.Duration = f.Time.Sub(tr.Start)
	t.recent[t.next] = f
	t.next = (t.next + 1) % recentMax
	t.nrecent = min(t.nrecent+1, recentMax)
}

type ctxKey struct{}

// WithTransfer returns a context carrying tr, for handlers to describe what they send.
// A transfer made by Tracker.Start carries that context in its own
// allocation, the first time.
func WithTransfer(ctx context.Context, tr *Transfer) context.Context {
	if c := tr.ctx; c != nil && c.Context == nil {
		c.Context = ctx
		return c
	}
	return context.WithValue(ctx, ctxKey{}, tr)
}

// trCtx is context.WithValue(ctx, ctxKey{}, tr) allocated with tr by
// Tracker.Start: one allocation fewer per request. It hides nothing of the
// parent (Done, Err and every other value pass through), so net/http's
// cancellation reaches contexts derived from it without a goroutine.
type trCtx struct {
	context.Context
	tr *Transfer
}

func (c *trCtx) Value(key any) any {
	if key == (ctxKey{}) {
		return c.tr
	}
	return c.Context.Value(key)
}

// FromContext returns the request's Transfer, or a throwaway one when the
// handler runs without the middleware (tests, embedding without logging).
func FromContext(ctx context.Context) *Transfer {
	if tr, ok := ctx.Value(ctxKey{}).(*Transfer); ok {
		return tr
	}
	return &Transfer{Size: -1}
}

// Snapshot copies the figures.
func (t *Tracker) Snapshot() Snapshot {
	now := time.Now()
	s := Snapshot{
		Start:         t.start,
		Requests:      t.requests.Load(),
		BytesSent:     t.bytesSent.Load(),
		BytesReceived: t.bytesReceived.Load(),
		Completed:     t.completed.Load(),
		CutShort:      t.cutShort.Load(),

		UploadsCompleted: t.uploadsCompleted.Load(),
		UploadsCutShort:  t.uploadsCut.Load(),
	}
	t.mu.Lock()
	flying := make([]*Transfer, 0, len(t.inflight))
	for _, tr := range t.inflight {
		flying = append(flying, tr)
	}
	// Oldest first: the ring's older part starts at next once it is full.
	oldest := (t.next - t.nrecent + recentMax) % recentMax
	for i := range t.nrecent {
		s.Recent = append(s.Recent, t.recent[(oldest+i)%recentMax])
	}
	s.Moved = append([]Moved(nil), t.moved...)
	s.MovedMore = t.movedMore
	t.mu.Unlock()
	// Done may ask the kernel: not while holding the lock every request takes.
	for _, tr := range flying {
		s.InFlight = append(s.InFlight, TransferView{
			Client: tr.Client, Method: tr.Method, Path: tr.Path, Kind: tr.Kind,
			Size: tr.Size, Done: tr.Done(), Elapsed: now.Sub(tr.Start), Offset: tr.Offset,
		})
	}
	return s
}

// Counted is the number of downloads counted towards the limit.
func (t *Tracker) Counted() int64 { return t.counted.Load() }

func clientIP(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}

// parseContentRange reads "bytes START-END/SIZE".
func parseContentRange(v string) (start, end, size int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, sz, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	s, e, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	start, err1 = strconv.ParseInt(s, 10, 64)
	end, err2 = strconv.ParseInt(e, 10, 64)
	size, err3 = strconv.ParseInt(sz, 10, 64)
	return start, end, size, err1 == nil && err2 == nil && err3 == nil
}
