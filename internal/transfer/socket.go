package transfer

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Socket is an accepted TCP connection that can be asked how much of what
// was written to it the client has acknowledged. Handing the last byte to
// the kernel says nothing about delivery: up to several MiB may still sit in
// the send queue when a handler returns, and a client that hangs up then has
// not received them. A download is complete only once the queue holding its
// bytes has drained.
//
// Only Linux answers (TCP_INFO and SIOCOUTQ); elsewhere Listen leaves
// connections alone and a download counts as complete once its last byte
// was handed to the kernel, as before.
//
// The descriptor is read directly rather than through syscall.RawConn, which
// would cost an allocation per question on the path of every download; that
// is safe because Close, which every owner of the connection goes through,
// marks the socket closed under mu before the descriptor is released.
type Socket struct {
	net.Conn

	// written counts the bytes handed to the connection (Write and
	// ReadFrom): where an HTTP/1 response ends in the socket's byte count,
	// known without asking the kernel.
	written atomic.Int64

	mu      sync.Mutex
	fd      int  // the live descriptor, or a duplicate kept after Close while downloads settle; -1 when gone
	dup     bool // fd is such a duplicate, to be closed by the last download to settle
	pending []*Transfer
	lag     int // HTTP/1 responses left to end without a look at the queue (see hold)
}

// Listen wraps ln so that requests can learn, through ConnContext, the Socket
// they came in on. Where the kernel cannot tell how much was acknowledged it
// returns ln unchanged.
func Listen(ln net.Listener) net.Listener {
	if !socketInfo {
		return ln
	}
	return socketListener{ln}
}

type socketListener struct{ net.Listener }

func (l socketListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	fd := tcpFD(c)
	if fd < 0 {
		return c, nil // a Unix socket, say: nothing to ask
	}
	return &Socket{Conn: c, fd: fd}, nil
}

// tcpFD finds the descriptor of the TCP connection beneath c's wrappers, or -1.
func tcpFD(c net.Conn) int {
	for {
		if tc, ok := c.(*net.TCPConn); ok {
			rc, err := tc.SyscallConn()
			if err != nil {
				return -1
			}
			fd := -1
			rc.Control(func(f uintptr) { fd = int(f) })
			return fd
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return -1
		}
		c = u.NetConn()
	}
}

type socketKey struct{}

// ConnContext is for http.Server.ConnContext: it puts the connection's
// Socket, when Listen made one, in the context of its requests (HTTP/2
// streams and TLS included).
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	for {
		if s, ok := c.(*Socket); ok {
			return context.WithValue(ctx, socketKey{}, s)
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return ctx
		}
		c = u.NetConn()
	}
}

func socketFrom(ctx context.Context) *Socket {
	s, _ := ctx.Value(socketKey{}).(*Socket)
	return s
}

// NetConn returns the wrapped connection.
func (s *Socket) NetConn() net.Conn { return s.Conn }

// Write passes through, counting.
func (s *Socket) Write(b []byte) (int, error) {
	n, err := s.Conn.Write(b)
	s.written.Add(int64(n))
	return n, err
}

// ReadFrom keeps sendfile(2): net/http hands file bodies to the connection's
// ReadFrom when it has one.
func (s *Socket) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	var err error
	if rf, ok := s.Conn.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{s.Conn}, r)
	}
	s.written.Add(n)
	return n, err
}

// CloseWrite passes through: net/http half-closes before closing so that
// the client reads the last response rather than a reset.
func (s *Socket) CloseWrite() error {
	if cw, ok := s.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close settles the downloads still waiting for acknowledgement while the
// kernel can still be asked. Those whose client is still reading keep a
// duplicate of the descriptor, so the socket lives on (closing a
// descriptor only drops a reference; the kernel keeps delivering either
// way) until they are decided.
func (s *Socket) Close() error {
	s.mu.Lock()
	var decided []settled
	var now time.Time
	if s.fd >= 0 && !s.dup { // the live descriptor, closed for the first time
		if len(s.pending) > 0 {
			now = time.Now()
			decided = s.checkLocked(now, false, true)
		}
		live := s.fd
		s.fd = -1
		if len(s.pending) > 0 {
			if fd, err := dupFD(live); err == nil {
				s.fd, s.dup = fd, true
			}
		}
	}
	s.mu.Unlock()
	settleAll(decided, now)
	return s.Conn.Close()
}

// wire is what the kernel says about a socket.
type wire struct {
	acked  int64 // bytes the client acknowledged since the connection opened
	queued int64 // bytes written and not yet acknowledged
	closed bool  // the connection was reset or is fully closed: nothing more will be acknowledged
}

// queued returns the bytes written and not yet acknowledged; s.mu is held.
func (s *Socket) queuedLocked() (int64, bool) {
	if s.fd < 0 {
		return 0, false
	}
	n, err := outq(s.fd)
	return n, err == nil
}

// probeLocked asks the kernel everything; s.mu is held.
func (s *Socket) probeLocked() (wire, bool) {
	if s.fd < 0 {
		return wire{}, false
	}
	w, err := probeFD(s.fd)
	return w, err == nil
}

// probe asks the kernel, for progress figures.
func (s *Socket) probe() (wire, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.probeLocked()
}

// settleStall is how long a download whose last bytes are not yet
// acknowledged may go without the client acknowledging anything before it
// is called cut short. A client still reading, however slowly, is waited
// for; one that stopped reading is not.
const settleStall = 5 * time.Second

// settleTick is how soon, and then how often, downloads waiting for
// acknowledgement are looked at. HTTP/2 waits at least this long after the
// handler returned, so that frames the connection's writer still buffered
// have reached the socket. A download waiting longer is looked at less and
// less often, down to every settleSlowest: a thousand slow clients then
// cost a few thousand questions to the kernel a second.
const (
	settleTick    = 5 * time.Millisecond
	settleSlowest = 250 * time.Millisecond
)

// lagSkips is how many HTTP/1 responses hold leaves to the next request's
// look once a small response was found unacknowledged as it ended. A
// small response leaves in one write, and a client that has not
// acknowledged it at once delays its acknowledgements (Linux does, once a
// connection goes back and forth) to send them with its next request: the
// look at the end is then one question too many, where begin asks again.
// Skipping it leaves every decision to the kernel's word all the same,
// only later: at the next request, at the connection's close, or a tick
// after. Every lagSkips+1-th response looks again, so a client that stops
// delaying is soon decided at once again. Measured (strace of ferry -q
// under h2load --h1 -c 64, 1 KiB GETs): SIOCOUTQ 1.11-1.33 per request
// before, 1.03-1.06 with this.
const lagSkips = 15

// h2EndFrame is the least an HTTP/2 stream writes after its handler
// returned: a frame header and the body's last byte, in a TLS record
// (ferry speaks HTTP/2 only over TLS) with its header and tag.
const h2EndFrame = 9 + 1 + 5 + 16

// pend is the state of a download waiting for acknowledgement.
type pend struct {
	h2    bool
	ended time.Time // when the handler returned
	// HTTP/1: Socket.written at the end of the response; every byte of it
	// is acknowledged once written minus the kernel's queue reaches it.
	// HTTP/2: how far the socket had been written when the handler
	// returned, before the frame that ends the stream.
	target   int64
	mark     int64         // HTTP/2: the socket's write position at the end of the stream, -1 until known
	acked    int64         // last wire.acked seen, for stalls
	progress time.Time     // when acked last moved
	every    time.Duration // how often to look
	due      atomic.Int64  // when to look next, Unix nanoseconds (read by the tracker without mu)
}

type settled struct {
	tr        *Transfer
	complete  bool
	delivered int64
}

// settleAll records the outcomes decided at now.
func settleAll(list []settled, now time.Time) {
	for _, d := range list {
		o := CutShort
		if d.complete {
			o = Complete
		}
		d.tr.tracker.decide(d.tr, o, d.delivered, now)
	}
}

// hold decides at once, when it can, whether the client acknowledged every
// byte of tr's response (the handler returned and the response was
// flushed). Otherwise it keeps tr pending on s and returns ok false: the
// tracker settles it later. known is false when the kernel cannot be asked.
func (s *Socket) hold(tr *Transfer, now time.Time) (ok, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h2 := tr.req.ProtoMajor >= 2
	if !h2 {
		if s.lag > 0 && s.fd >= 0 && !s.dup {
			// This client delays its acknowledgements: a look now would
			// most likely find the response unacknowledged, and the next
			// request's look (begin) settles it anyway.
			s.lag--
		} else {
			q, known := s.queuedLocked()
			if !known {
				return true, false
			}
			if q == 0 {
				return true, true
			}
			if tr.rec.Sent() <= SmallBody {
				s.lag = lagSkips
			}
		}
	}
	p := &pend{h2: h2, ended: now, target: -1, mark: -1, acked: -1, progress: now, every: settleTick}
	p.due.Store(now.Add(settleTick).UnixNano())
	if h2 {
		w, ok := s.probeLocked()
		if !ok {
			return true, false
		}
		p.target = w.acked + w.queued
	} else {
		// Every byte of the response went through s (it was flushed).
		p.target = s.written.Load()
	}
	tr.pend = p
	s.pending = append(s.pending, tr)
	return false, true
}

// begin is called as a request starts on s. An HTTP/1 connection carries
// one response at a time and the client usually asks for the next only
// once it has the last: a download still waiting here is most often
// acknowledged by now (the request carried the acknowledgement), and one
// look at the queue settles it.
// now is when the request began.
func (s *Socket) begin(now time.Time) {
	s.mu.Lock()
	if len(s.pending) == 0 {
		s.mu.Unlock()
		return
	}
	var decided []settled
	if q, ok := s.queuedLocked(); ok && q == 0 {
		keep := s.pending[:0]
		for _, tr := range s.pending {
			if tr.pend.h2 {
				keep = append(keep, tr)
				continue
			}
			decided = append(decided, settled{tr, true, tr.rec.Sent()})
		}
		clear(s.pending[len(keep):])
		s.pending = keep
	}
	s.mu.Unlock()
	settleAll(decided, now)
}

// checkLocked decides the pending downloads it can; force decides them all
// (the server is stopping); closing says the connection's owner is closing
// it, so nothing more will be written to it. s.mu is held.
func (s *Socket) checkLocked(now time.Time, force, closing bool) []settled {
	// Read before the kernel is asked: a write in between then makes the
	// bytes acknowledged look fewer, never more.
	written := s.written.Load()
	w, ok := s.probeLocked()
	var decided []settled
	keep := s.pending[:0]
	for _, tr := range s.pending {
		p := tr.pend
		sent := tr.rec.Sent()
		if !ok {
			// The kernel cannot be asked any more: nothing confirms delivery.
			decided = append(decided, settled{tr, false, 0})
			continue
		}
		var unacked int64
		if p.h2 {
			unacked = p.h2Unacked(w, now, force, closing)
		} else {
			unacked = max(p.target-(written-w.queued), 0)
		}
		if w.acked != p.acked {
			p.acked, p.progress = w.acked, now
		}
		switch {
		case unacked == 0:
			// Every byte written was acknowledged, even if the client
			// hung up (or reset) since.
			decided = append(decided, settled{tr, true, sent})
		case w.closed || force || now.Sub(p.progress) >= settleStall:
			// TLS records and HTTP/2 frames add to the queue: the bytes
			// delivered are at least this many.
			decided = append(decided, settled{tr, false, min(max(sent-unacked, 0), sent)})
		default:
			p.every = min(2*p.every, settleSlowest)
			p.due.Store(now.Add(p.every).UnixNano())
			keep = append(keep, tr)
		}
	}
	clear(s.pending[len(keep):])
	s.pending = keep
	if len(s.pending) == 0 && s.dup {
		closeFD(s.fd)
		s.fd, s.dup = -1, false
	}
	return decided
}

// h2Unacked is how many bytes written up to the end of an HTTP/2 stream are
// not yet acknowledged, or at least 1 while that end is not known. The
// socket is shared by every stream, so the end is the socket's write
// position once the frame that ends the stream has surely been written: a
// tick after the handler returned, once the position moved by at least
// that frame. On a connection closing or reset nothing more is written
// (a TLS close_notify aside): the end is that frame right after what was
// written when the handler returned.
func (p *pend) h2Unacked(w wire, now time.Time, force, closing bool) int64 {
	written := w.acked + w.queued
	if p.mark < 0 {
		switch {
		case closing || w.closed:
			p.mark = p.target + h2EndFrame
		case written >= p.target+h2EndFrame && (force || now.Sub(p.ended) >= settleTick):
			p.mark = written
		}
	}
	if p.mark < 0 {
		return max(w.queued, 1)
	}
	return max(p.mark-w.acked, 0)
}

// check decides what it can of tr's socket's pending downloads.
func (s *Socket) check(now time.Time, force bool) []settled {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return nil
	}
	return s.checkLocked(now, force, false)
}

// delivered is how many of sent bytes the client acknowledged, for a
// download that failed or was cancelled while its handler ran, or sent when
// the kernel cannot tell.
func (s *Socket) delivered(sent int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queuedLocked()
	if !ok {
		return sent
	}
	return min(max(sent-q, 0), sent)
}
