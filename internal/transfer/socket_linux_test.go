package transfer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// socketServer serves body at every path through a Tracker, over sockets
// made by Listen, and reports every finished transfer on the channel;
// served, when not nil, sees each response's socket before it finishes.
func socketServer(t *testing.T, body []byte, served func(*Socket)) (*Tracker, string, chan *Transfer) {
	t.Helper()
	tk := NewTracker(0)
	ended := make(chan *Transfer, 100)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr, rec := tk.Start(w, r, nil)
		tr.Describe(KindFile, int64(len(body)))
		http.ServeContent(rec, r, "f.bin", time.Time{}, bytes.NewReader(body))
		if served != nil {
			served(socketFrom(r.Context()))
		}
		tk.Finish(tr, r, rec, w.Header(), func(tr *Transfer) { ended <- tr })
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ConnContext: ConnContext}
	go srv.Serve(Listen(ln))
	t.Cleanup(func() { srv.Close() })
	return tk, ln.Addr().String(), ended
}

// cutThenWhole has one client read 780 bytes and hang up, then n responses
// read in full on one keep-alive connection, and checks the first ends cut
// short and the others complete.
func cutThenWhole(t *testing.T, addr string, ended chan *Transfer, body []byte, n int) {
	t.Helper()
	c := dialSmall(t, addr)
	fmt.Fprintf(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
	io.ReadFull(c, make([]byte, 780))
	time.Sleep(100 * time.Millisecond) // the handler has returned, most likely
	c.Close()
	if tr := next(t, ended); tr.Outcome() != CutShort || tr.Delivered() >= int64(len(body))/2 {
		t.Errorf("hung up after 780 bytes: %s with %d of %d delivered", tr.Outcome(), tr.Delivered(), len(body))
	}
	client := &http.Client{}
	for range n {
		r, err := client.Get("http://" + addr + "/b")
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := io.Copy(io.Discard, r.Body); got != int64(len(body)) {
			t.Fatalf("read %d bytes", got)
		}
		r.Body.Close()
	}
	client.CloseIdleConnections()
	for range n {
		if tr := next(t, ended); tr.Outcome() != Complete || tr.Delivered() != int64(len(body)) {
			t.Errorf("read in full: %s with %d delivered", tr.Outcome(), tr.Delivered())
		}
	}
}

func dialSmall(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func next(t *testing.T, ended chan *Transfer) *Transfer {
	t.Helper()
	select {
	case tr := <-ended:
		return tr
	case <-time.After(20 * time.Second):
		t.Fatal("no transfer ended")
		return nil
	}
}

func TestSocketCompleteMeansAcknowledged(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 772<<10/16)
	tk, addr, ended := socketServer(t, body, nil)

	// A client that reads the first bytes and hangs up; then keep-alive:
	// every response of a connection read in full is complete.
	cutThenWhole(t, addr, ended, body, 20)

	// A client that stops reading: Settle, once its context ends, decides
	// it as it stands.
	held := dialSmall(t, addr)
	defer held.Close()
	fmt.Fprintf(held, "GET /c HTTP/1.1\r\nHost: x\r\n\r\n")
	io.ReadFull(held, make([]byte, 780))
	deadline := time.Now().Add(10 * time.Second)
	for tk.unsettled.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s := tk.Snapshot(); len(s.InFlight) != 1 || s.InFlight[0].Done >= int64(len(body))/2 {
		t.Errorf("in flight while waiting: %+v", s.InFlight)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	tk.Settle(ctx)
	if tr := next(t, ended); tr.Outcome() != CutShort {
		t.Errorf("stopped reading: %s", tr.Outcome())
	}
	s := tk.Snapshot()
	if s.Completed != 20 || s.CutShort != 2 || len(s.InFlight) != 0 {
		t.Errorf("figures: %d complete, %d cut short, %d in flight", s.Completed, s.CutShort, len(s.InFlight))
	}
	if want := int64(20 * len(body)); s.BytesSent < want || s.BytesSent > want+int64(len(body)) {
		t.Errorf("bytes sent %d: want the 20 whole bodies and what the others acknowledged", s.BytesSent)
	}
}

// Connections that are not TCP (a Unix socket) pass through untouched.
func TestListenLeavesOtherConnections(t *testing.T) {
	ln, err := net.Listen("unix", t.TempDir()+"/s")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := net.Dial("unix", ln.Addr().String())
		if err == nil {
			c.Close()
		}
	}()
	c, err := Listen(ln).Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*Socket); ok || !strings.HasPrefix(fmt.Sprintf("%T", c), "*net.Unix") {
		t.Errorf("a Unix connection came back as %T", c)
	}
}

// A connection whose client delays its acknowledgements skips the look at
// the queue as a response ends (Socket.lag): its downloads are still
// complete only once acknowledged, decided by the next request's look, at
// the close, or by the tick.
func TestSkippedLookStillWaitsForAcknowledgement(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 772<<10/16)
	_, addr, ended := socketServer(t, body, func(s *Socket) {
		s.mu.Lock()
		s.lag = lagSkips // as if a small response had been found unacknowledged
		s.mu.Unlock()
	})
	cutThenWhole(t, addr, ended, body, 5)
}
