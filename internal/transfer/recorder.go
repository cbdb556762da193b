package transfer

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
)

// sendfileChunk bounds one zero-copy step, so that the figure of bytes sent
// moves while a large file goes out; a few MiB per syscall round keeps the
// cost negligible. (Progress shown to people comes from the socket's count
// of acknowledged bytes where the kernel gives one: see Transfer.Done.)
const sendfileChunk = 4 << 20

// SmallBody is the size up to which a body is copied rather than sent with
// sendfile.
const SmallBody = 8 << 10

var smallBufs = sync.Pool{New: func() any { b := make([]byte, SmallBody); return &b }}

// Recorder wraps a ResponseWriter to learn the status and how many body bytes
// really went out. It passes io.ReaderFrom through so that net/http can still
// use sendfile for files.
type Recorder struct {
	http.ResponseWriter
	status  int
	sent    atomic.Int64
	failed  bool // a write to the client failed: it went away
	onWrite func(int64)
	tracker *Tracker  // counts sent bytes, when made by Tracker.Start
	tr      *Transfer // the request's transfer, when made by Tracker.Start
	cause   string    // why the request was refused, as httperr.Note tells
}

// NewRecorder wraps w. onWrite, when not nil, is told of every chunk sent
// (for progress and rate accounting).
func NewRecorder(w http.ResponseWriter, onWrite func(int64)) *Recorder {
	return &Recorder{ResponseWriter: w, onWrite: onWrite}
}

// Status is the status written, 200 if the handler wrote a body without one,
// 0 if nothing was written.
func (r *Recorder) Status() int { return r.status }

// Sent is the number of body bytes written so far.
func (r *Recorder) Sent() int64 { return r.sent.Load() }

// Failed reports whether a write to the client failed.
func (r *Recorder) Failed() bool { return r.failed }

// Abort records that the handler broke its response off (the store behind
// an archive failed mid-stream): the transfer is cut short, as when the
// client goes away.
func (r *Recorder) Abort() { r.failed = true }

// NoteCause records why the request was refused (httperr.Note), for the
// metrics' refusal reasons.
func (r *Recorder) NoteCause(cause string) { r.cause = cause }

// Cause is the refusal's cause noted, "" when none was.
func (r *Recorder) Cause() string { return r.cause }

func (r *Recorder) WriteHeader(code int) {
	if r.status == 0 || (r.status >= 100 && r.status < 200) {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *Recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.count(int64(n))
	if err != nil {
		r.failed = true
	}
	return n, err
}

// FileSource is a reader over a file that reads without moving the file's
// own offset (pread), such as the one fileserver gives http.ServeContent to
// spare it the lseek calls it makes to learn the size. SendFile hands over the
// file itself, positioned where the reader is, so that a large body still
// leaves by sendfile; after that the reader must not be read again. It returns
// nil when the file's offset cannot be moved (a descriptor shared between
// requests), and the body is then copied through Read.
type FileSource interface {
	io.Reader
	SendFile() *os.File
}

// ReadFrom hands the reader to the underlying writer unchanged, so a file (or
// a LimitedReader over one, as http.ServeContent makes for ranges) still
// reaches sendfile. It steps through the file in chunks, each of which keeps
// the flat LimitedReader-over-file shape that sendfile recognises.
func (r *Recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	rf, ok := r.ResponseWriter.(io.ReaderFrom)
	lr, limited := src.(*io.LimitedReader)
	if !ok {
		if limited && lr.N > 1 && r.tr != nil && r.tr.sock != nil && r.tr.h2 {
			return r.copyHoldingLast(lr)
		}
		return io.Copy(writerOnly{r}, src)
	}
	base, remain := src, int64(-1)
	if limited {
		base, remain = lr.R, lr.N
	}
	if remain >= 0 && remain <= SmallBody {
		// A small body copied through the response's buffer leaves with the
		// headers in one write; sendfile would cost a write and a sendfile.
		bp := smallBufs.Get().(*[]byte)
		n, err := r.copySmall(base, (*bp)[:remain])
		smallBufs.Put(bp)
		lr.N -= n
		return n, err
	}
	if fsrc, ok := base.(FileSource); ok {
		f := fsrc.SendFile()
		if f == nil {
			bp := smallBufs.Get().(*[]byte)
			defer smallBufs.Put(bp)
			return io.CopyBuffer(writerOnly{r}, src, *bp)
		}
		base = f
	}
	if r.tr != nil {
		r.tr.markBase(r)
	}
	var total int64
	for remain != 0 {
		step := int64(sendfileChunk)
		if remain > 0 && remain < step {
			step = remain
		}
		n, err := rf.ReadFrom(&io.LimitedReader{R: base, N: step})
		total += n
		r.count(n)
		if remain > 0 {
			remain -= n
		}
		if err != nil {
			r.failed = true
			if limited {
				lr.N = remain
			}
			return total, err
		}
		if n < step {
			break // end of the source
		}
	}
	if limited {
		lr.N = remain
	}
	return total, nil
}

// copyHoldingLast copies all but the last byte of an HTTP/2 body and
// flushes them, then writes the last byte, which stays buffered until the
// handler returns and then leaves in the frame that ends the stream. A
// client that stops once it has every byte (curl does) then has nothing
// unread when it closes: it closes cleanly, acknowledging everything,
// where an unread end-of-stream frame of its own would make it reset the
// connection and the kernel forget the acknowledgement the reset carries.
func (r *Recorder) copyHoldingLast(lr *io.LimitedReader) (int64, error) {
	last := lr.N - 1
	var n int64
	var err error
	if last > SmallBody {
		bp := frameBufs.Get().(*[]byte)
		n, err = copyFrames(writerOnly{r}, &io.LimitedReader{R: lr.R, N: last}, *bp)
		frameBufs.Put(bp)
	} else {
		n, err = io.Copy(writerOnly{r}, &io.LimitedReader{R: lr.R, N: last})
	}
	lr.N -= n
	if err != nil || n < last {
		return n, err
	}
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	m, err := io.Copy(writerOnly{r}, lr)
	return n + m, err
}

// copySmall reads all of buf from src, or up to its end, and writes it in one
// call: io.Copy's path would allocate for the wrapped writer and read twice
// (the second read only to learn of the end).
func (r *Recorder) copySmall(src io.Reader, buf []byte) (int64, error) {
	n, err := io.ReadFull(src, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil // the source ended early: io.Copy reports no error either
	}
	if n > 0 {
		w, werr := r.Write(buf[:n])
		if werr != nil {
			return int64(w), werr
		}
	}
	return int64(n), err
}

func (r *Recorder) count(n int64) {
	if n <= 0 {
		return
	}
	r.sent.Add(n)
	if r.tracker != nil {
		r.tracker.Sent(n)
	}
	if r.onWrite != nil {
		r.onWrite(n)
	}
}

// Flush passes through so that streamed responses (archives, CGI) flush.
func (r *Recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		if r.status == 0 {
			r.status = http.StatusOK
		}
		f.Flush()
	}
}

// Hijack passes through for handlers that take over the connection.
func (r *Recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the real writer (deadlines, flush).
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// writerOnly hides ReadFrom so io.Copy does not recurse into it.
type writerOnly struct{ io.Writer }

// frameWrite is the size of each write of a large HTTP/2 body. Go's server
// cuts what a handler writes into DATA frames of the client's largest
// frame size, 16 KiB unless the client asks for more (browsers, curl and
// h2load do not), and a 16 KiB frame with its 9-byte header fills one
// 16 KiB TLS record (RFC 8446, section 5.1) and 9 bytes of a second: two
// records, two write calls per frame. A write of 16 KiB less 9 bytes goes
// out as one frame in one record and one write call. Measured (issue 16,
// bench/run (k), one 1 GiB download to h2load): 80,831 system calls per GiB
// against 169,601 with io.Copy's 32 KiB (strace -c: writes 131,252 to
// 65,809, preads 32,776 to 8,204), and a median of 1.50 s of server CPU per
// GiB against 1.58 s over six alternating downloads each, within that
// session's spread (1.35-1.76 s; load average 17-23).
const frameWrite = 16<<10 - 9

// frameBufs hold eight frames: one pread for eight writes.
var frameBufs = sync.Pool{New: func() any { b := make([]byte, 8*frameWrite); return &b }}

// copyFrames copies src to w through buf, writing frameWrite bytes at a time.
func copyFrames(w io.Writer, src io.Reader, buf []byte) (int64, error) {
	var total int64
	for {
		nr, rerr := src.Read(buf)
		for p := buf[:nr]; len(p) > 0; {
			k := min(len(p), frameWrite)
			nw, err := w.Write(p[:k])
			total += int64(nw)
			if err != nil {
				return total, err
			}
			p = p[k:]
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// Transfer is the request's transfer when the tracker made the recorder
// (Tracker.Start), nil otherwise.
func (r *Recorder) Transfer() *Transfer { return r.tr }
