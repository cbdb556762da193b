package timeproto

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	asctimeRE = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [0-9]{4}$`)
	secondsRE = regexp.MustCompile(`^-?[0-9]+$`)
	rfc822RE  = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] \+0000$`)
)

// fixed is a clock reading with a one-digit day, to show asctime's padding.
var fixed = time.Date(2006, time.January, 2, 22, 4, 5, 999_000_000, time.UTC)

func TestAnswer(t *testing.T) {
	east := time.FixedZone("EAST", 3*3600)
	tests := []struct {
		name, line string
		loc        *time.Location
		want       string
	}{
		{"asctime in UTC", "asctime", time.UTC, "Mon Jan  2 22:04:05 2006"},
		{"asctime in the given zone", "asctime", east, "Tue Jan  3 01:04:05 2006"},
		{"seconds", "seconds", east, "1136239445"},
		{"rfc822 is always UTC", "rfc822", east, "Mon, 02 Jan 2006 22:04:05 +0000"},
		{"upper case", "SECONDS", time.UTC, "1136239445"},
		{"mixed case with CR", "RfC822\r", time.UTC, "Mon, 02 Jan 2006 22:04:05 +0000"},
		{"surrounding white space", " \t asctime \t\r", time.UTC, "Mon Jan  2 22:04:05 2006"},
		{"blank line", "", time.UTC, HelpText},
		{"only CR", "\r", time.UTC, HelpText},
		{"unknown word", "time", time.UTC, HelpText},
		{"word inside a word", "asctimes", time.UTC, HelpText},
		{"two words", "asc time", time.UTC, HelpText},
		{"NUL is not white space", "seconds\x00", time.UTC, HelpText},
		{"binary garbage", "\xff\xfe\x00\x1b[2J", time.UTC, HelpText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Answer(tt.line, fixed, tt.loc); got != tt.want {
				t.Errorf("Answer(%q) = %q, want %q", tt.line, got, tt.want)
			}
		})
	}
}

func TestAnswerNilLocationIsLocal(t *testing.T) {
	if got, want := Answer("asctime", fixed, nil), fixed.In(time.Local).Format(time.ANSIC); got != want {
		t.Errorf("Answer(asctime, nil location) = %q, want %q", got, want)
	}
}

func TestHelpText(t *testing.T) {
	if strings.ContainsAny(HelpText, "\r\n") {
		t.Errorf("HelpText is not one line: %q", HelpText)
	}
	for _, word := range []string{"asctime", "seconds", "rfc822"} {
		if !strings.Contains(HelpText, word) {
			t.Errorf("HelpText does not name %q: %q", word, HelpText)
		}
	}
}

// server is a running Serve on a loopback listener.
type server struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
}

// start runs Serve on network ("tcp4" or "tcp6") loopback, skipping the test
// when that network is unavailable. Serve is stopped when the test ends.
func start(t *testing.T, network string, opts Options) *server {
	t.Helper()
	host := "127.0.0.1"
	if network == "tcp6" {
		host = "[::1]"
	}
	ln, err := net.Listen(network, host+":0")
	if err != nil {
		if network == "tcp6" {
			t.Skipf("IPv6 loopback unavailable: %v", err)
		}
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{addr: ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- Serve(ctx, ln, opts) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return s
}

// client is one connection to the server with a deadline on everything.
type client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

func (cl *client) send(s string) {
	cl.t.Helper()
	if _, err := io.WriteString(cl.c, s); err != nil {
		cl.t.Fatalf("write %q: %v", s, err)
	}
}

// recv reads one reply line and checks that it ends in exactly "\n".
func (cl *client) recv() string {
	cl.t.Helper()
	line, err := cl.br.ReadString('\n')
	if err != nil {
		cl.t.Fatalf("read reply: %q, %v", line, err)
	}
	line = strings.TrimSuffix(line, "\n")
	if strings.Contains(line, "\r") {
		cl.t.Errorf("reply %q contains CR", line)
	}
	return line
}

// expectClosed checks that the server closes the connection without sending
// anything more. A reset counts as closed: the server may close with our
// unread bytes still in its receive buffer.
func (cl *client) expectClosed() {
	cl.t.Helper()
	rest, err := io.ReadAll(cl.br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		cl.t.Fatalf("connection still open after %q", rest)
	}
	if len(rest) > 0 {
		cl.t.Errorf("got %q before close, want nothing", rest)
	}
}

var networks = []string{"tcp4", "tcp6"}

func TestServeFormats(t *testing.T) {
	for _, network := range networks {
		t.Run(network, func(t *testing.T) {
			s := start(t, network, Options{Location: time.UTC})
			cl := dial(t, s.addr)

			cl.send("asctime\n")
			got := cl.recv()
			if !asctimeRE.MatchString(got) {
				t.Fatalf("asctime reply %q does not match %v", got, asctimeRE)
			}
			at, err := time.ParseInLocation(time.ANSIC, got, time.UTC)
			checkNear(t, "asctime", at, err)

			cl.send("seconds\n")
			got = cl.recv()
			if !secondsRE.MatchString(got) {
				t.Fatalf("seconds reply %q does not match %v", got, secondsRE)
			}
			n, err := strconv.ParseInt(got, 10, 64)
			checkNear(t, "seconds", time.Unix(n, 0), err)

			cl.send("rfc822\n")
			got = cl.recv()
			if !rfc822RE.MatchString(got) {
				t.Fatalf("rfc822 reply %q does not match %v", got, rfc822RE)
			}
			at, err = time.Parse(time.RFC1123Z, got)
			checkNear(t, "rfc822", at, err)

			cl.send("what\n")
			if got := cl.recv(); got != HelpText {
				t.Errorf("help reply = %q, want %q", got, HelpText)
			}
		})
	}
}

func checkNear(t *testing.T, what string, at time.Time, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if d := time.Since(at); d < -2*time.Second || d > 2*time.Second {
		t.Errorf("%s reply %v is %v from now", what, at, d)
	}
}

func TestServeManyLinesPerConnection(t *testing.T) {
	clock := func() time.Time { return fixed }
	s := start(t, "tcp4", Options{Now: clock, Location: time.UTC})
	cl := dial(t, s.addr)

	// Sent in one write, so the replies must come from lines buffered
	// together, and in order.
	cl.send("seconds\r\n  ASCTIME \r\n\r\n\tRfc822\t\nbogus\n\n")
	for _, want := range []string{
		"1136239445",
		"Mon Jan  2 22:04:05 2006",
		HelpText,
		"Mon, 02 Jan 2006 22:04:05 +0000",
		HelpText,
		HelpText,
	} {
		if got := cl.recv(); got != want {
			t.Errorf("reply = %q, want %q", got, want)
		}
	}
	// The connection stays usable after all that.
	cl.send("seconds\n")
	if got := cl.recv(); got != "1136239445" {
		t.Errorf("reply = %q, want seconds", got)
	}
}

func TestServeFinalLineWithoutNewline(t *testing.T) {
	s := start(t, "tcp4", Options{Now: func() time.Time { return fixed }})
	cl := dial(t, s.addr)
	cl.send("seconds\nSeconds")
	if err := cl.c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got := cl.recv(); got != "1136239445" {
			t.Errorf("reply = %q, want seconds", got)
		}
	}
	cl.expectClosed()
}

func TestServeLineLength(t *testing.T) {
	s := start(t, "tcp4", Options{Now: func() time.Time { return fixed }})

	t.Run("1024 bytes is answered", func(t *testing.T) {
		cl := dial(t, s.addr)
		cl.send(strings.Repeat("x", MaxLine) + "\n")
		if got := cl.recv(); got != HelpText {
			t.Errorf("reply = %q, want help", got)
		}
		// The CR counts towards the limit: it comes before the newline.
		cl.send("seconds" + strings.Repeat(" ", MaxLine-8) + "\r\n")
		if got := cl.recv(); got != "1136239445" {
			t.Errorf("reply = %q, want seconds", got)
		}
	})
	t.Run("1025 bytes closes", func(t *testing.T) {
		cl := dial(t, s.addr)
		cl.send("seconds\n")
		if got := cl.recv(); got != "1136239445" {
			t.Errorf("reply = %q, want seconds", got)
		}
		cl.send(strings.Repeat("x", MaxLine+1) + "\nseconds\n")
		cl.expectClosed()
	})
	t.Run("endless line closes before its end", func(t *testing.T) {
		cl := dial(t, s.addr)
		// No newline ever: the server must not wait for one.
		cl.send(strings.Repeat("seconds ", 1000))
		cl.expectClosed()
	})
	t.Run("other connections are unaffected", func(t *testing.T) {
		cl := dial(t, s.addr)
		cl.send("\x00\xff\x1b[2J\n")
		if got := cl.recv(); got != HelpText {
			t.Errorf("reply = %q, want help", got)
		}
		cl.send("seconds\n")
		if got := cl.recv(); got != "1136239445" {
			t.Errorf("reply = %q, want seconds", got)
		}
	})
}

func TestServeIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	s := start(t, "tcp4", Options{IdleTimeout: idle})

	t.Run("silent client", func(t *testing.T) {
		cl := dial(t, s.addr)
		begin := time.Now()
		cl.expectClosed()
		if d := time.Since(begin); d < idle-50*time.Millisecond || d > 5*time.Second {
			t.Errorf("closed after %v, want about %v", d, idle)
		}
	})
	t.Run("incomplete line is not answered", func(t *testing.T) {
		cl := dial(t, s.addr)
		cl.send("seconds")
		cl.expectClosed()
	})
	t.Run("each line restarts the timer", func(t *testing.T) {
		cl := dial(t, s.addr)
		for range 5 {
			time.Sleep(idle / 3)
			cl.send("seconds\n")
			if got := cl.recv(); !secondsRE.MatchString(got) {
				t.Fatalf("reply = %q, want seconds", got)
			}
		}
	})
}

func TestServeConcurrentClients(t *testing.T) {
	const clients = 1000
	for _, network := range networks {
		t.Run(network, func(t *testing.T) {
			s := start(t, network, Options{})
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			for i := range clients {
				wg.Go(func() {
					word := []string{"asctime", "seconds", "rfc822"}[i%3]
					re := []*regexp.Regexp{asctimeRE, secondsRE, rfc822RE}[i%3]
					if err := askOnce(s.addr, word, re); err != nil {
						errs <- fmt.Errorf("client %d: %w", i, err)
					}
				})
			}
			wg.Wait()
			close(errs)
			var n int
			for err := range errs {
				if n++; n <= 5 {
					t.Error(err)
				}
			}
			if n > 0 {
				t.Errorf("%d of %d clients failed", n, clients)
			}
		})
	}
}

// askOnce connects, asks for word and checks the reply against re, all
// within a deadline.
func askOnce(addr, word string, re *regexp.Regexp) error {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, word+"\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if got := strings.TrimSuffix(line, "\n"); !re.MatchString(got) {
		return fmt.Errorf("%s: reply %q does not match %v", word, got, re)
	}
	return nil
}

func TestServeStopsOnCancel(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, Options{}) }()

	// An idle connection must not hold Serve up for the idle timeout.
	cl := dial(t, ln.Addr().String())
	cl.send("seconds\n")
	cl.recv()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	cl.expectClosed()
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("listener still accepts after Serve returned")
	}
}

// failingListener returns temporary errors a few times, then a permanent one.
type failingListener struct {
	net.Listener
	temporary int
}

type tempError struct{}

func (tempError) Error() string   { return "temporarily out of luck" }
func (tempError) Timeout() bool   { return false }
func (tempError) Temporary() bool { return true }

var errBroken = errors.New("listener broken")

func (l *failingListener) Accept() (net.Conn, error) {
	if l.temporary > 0 {
		l.temporary--
		return nil, tempError{}
	}
	return nil, errBroken
}

func TestServeListenerFailure(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = Serve(context.Background(), &failingListener{Listener: ln, temporary: 3}, Options{})
	if !errors.Is(err, errBroken) {
		t.Errorf("Serve = %v, want %v", err, errBroken)
	}
}

// syncBuffer is a log destination that connection goroutines share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeLogsOneLinePerConnection(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	s := start(t, "tcp4", Options{Logger: logger, IdleTimeout: 200 * time.Millisecond})

	cl := dial(t, s.addr)
	cl.send("seconds\nasctime\n")
	cl.recv()
	cl.recv()
	cl.c.Close()

	cl = dial(t, s.addr)
	cl.send(strings.Repeat("x", 2000))
	cl.expectClosed()

	cl = dial(t, s.addr)
	cl.expectClosed()

	want := []string{`lines=2 duration=`, `end=eof`, `end="too long"`, `end=idle`}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := logs.String()
		missing := ""
		for _, w := range want {
			if !strings.Contains(got, w) {
				missing = w
			}
		}
		if missing == "" {
			if n := strings.Count(got, "\n"); n != 3 {
				t.Errorf("got %d log lines, want 3:\n%s", n, got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q:\n%s", missing, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
