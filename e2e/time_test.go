package e2e

import (
	"bufio"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/timeproto"
)

var timePortRE = regexp.MustCompile(`try: nc \S+ (\d+)`)

// startTime runs ferry time and returns it with its port.
func startTime(t *testing.T, args ...string) (*Proc, string) {
	t.Helper()
	p := StartNoWait(t, t.TempDir(), append([]string{"time", "-p", "0"}, args...)...)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := timePortRE.FindStringSubmatch(p.Stdout()); m != nil {
			return p, m[1]
		}
		if code := p.Wait(20 * time.Millisecond); code != -1 {
			t.Fatalf("ferry time exited %d:\n%s%s", code, p.Stdout(), p.Stderr())
		}
	}
	t.Fatalf("no banner:\n%s", p.Stdout())
	return nil, ""
}

func ipv6Loopback() bool {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// timeConn is one client connection.
type timeConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialTime(t *testing.T, addr string) *timeConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &timeConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (tc *timeConn) ask(line string) string {
	tc.t.Helper()
	tc.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(tc.c, line); err != nil {
		tc.t.Fatalf("write %q: %v", line, err)
	}
	ans, err := tc.br.ReadString('\n')
	if err != nil {
		tc.t.Fatalf("answer to %q: %v (got %q)", line, err, ans)
	}
	return strings.TrimSuffix(ans, "\n")
}

// closed reports whether the server closes the connection within d
// without sending anything more.
func (tc *timeConn) closed(d time.Duration) bool {
	tc.c.SetReadDeadline(time.Now().Add(d))
	_, err := tc.br.ReadByte()
	return err == io.EOF || (err != nil && !isTimeout(err))
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

var (
	asctimeRE = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 123]\d \d\d:\d\d:\d\d \d{4}$`)
	secondsRE = regexp.MustCompile(`^\d+$`)
	rfc822RE  = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$`)
)

func near(t *testing.T, what string, got time.Time) {
	t.Helper()
	if d := time.Since(got); d > 2*time.Second || d < -2*time.Second {
		t.Errorf("%s is %s away from the test's clock", what, d)
	}
}

func checkWords(t *testing.T, tc *timeConn, lines [3]string) {
	t.Helper()
	a := tc.ask(lines[0])
	if !asctimeRE.MatchString(a) {
		t.Errorf("asctime %q", a)
	} else if at, err := time.ParseInLocation(time.ANSIC, a, time.Local); err != nil {
		t.Error(err)
	} else {
		near(t, "asctime", at)
	}
	s := tc.ask(lines[1])
	if !secondsRE.MatchString(s) {
		t.Errorf("seconds %q", s)
	} else {
		n, _ := strconv.ParseInt(s, 10, 64)
		near(t, "seconds", time.Unix(n, 0))
	}
	r := tc.ask(lines[2])
	if !rfc822RE.MatchString(r) {
		t.Errorf("rfc822 %q", r)
	} else if rt, err := time.Parse(time.RFC1123Z, r); err != nil {
		t.Error(err)
	} else {
		near(t, "rfc822", rt)
	}
}

func TestTimeService(t *testing.T) {
	args := []string{"-b", "127.0.0.1", "--idle-timeout", "1s"}
	v6 := ipv6Loopback()
	if v6 {
		args = append(args, "-b", "::1")
	}
	p, port := startTime(t, args...)
	addrs := []string{net.JoinHostPort("127.0.0.1", port)}
	if v6 {
		addrs = append(addrs, net.JoinHostPort("::1", port))
	}

	for i, addr := range addrs {
		t.Run([]string{"ipv4", "ipv6"}[i], func(t *testing.T) {
			tc := dialTime(t, addr)
			checkWords(t, tc, [3]string{"asctime\n", "seconds\n", "rfc822\n"})
			// Same connection: case, CRLF and white space do not matter.
			checkWords(t, tc, [3]string{"  ASCTIME \r\n", "Seconds\r\n", "\trfc822  \n"})
			for _, other := range []string{"\n", "\r\n", "   \n", "time\n", "asctime please\n", "\x00\xff\xfe\n", strings.Repeat("z", 1024) + "\n"} {
				if got := tc.ask(other); got != timeproto.HelpText {
					t.Errorf("%q: answer %q, want the help", other, got)
				}
			}
			for _, w := range []string{"asctime", "seconds", "rfc822"} {
				if !strings.Contains(timeproto.HelpText, w) {
					t.Errorf("help does not name %s", w)
				}
			}
		})
	}
	if !v6 {
		t.Log("IPv6 loopback unavailable: [::1] not tested")
	}

	t.Run("over-long line closes only that connection", func(t *testing.T) {
		other := dialTime(t, addrs[0])
		long := dialTime(t, addrs[0])
		long.c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(long.c, strings.Repeat("a", 1025)+"\nseconds\n")
		if !long.closed(3 * time.Second) {
			t.Error("a 1025-byte line did not close the connection")
		}
		garbage := dialTime(t, addrs[0])
		io.WriteString(garbage.c, strings.Repeat("\x00\xff", 2000))
		if !garbage.closed(3 * time.Second) {
			t.Error("2 KB of binary without a newline did not close the connection")
		}
		if s := other.ask("seconds\n"); !secondsRE.MatchString(s) {
			t.Errorf("another client was affected: %q", s)
		}
	})

	t.Run("idle client is closed", func(t *testing.T) {
		tc := dialTime(t, addrs[0])
		start := time.Now()
		if !tc.closed(4 * time.Second) {
			t.Fatal("silent client still connected after 4s with --idle-timeout 1s")
		}
		if d := time.Since(start); d < 900*time.Millisecond || d > 2500*time.Millisecond {
			t.Errorf("closed after %s, want about 1s", d)
		}
	})

	t.Run("1000 concurrent clients", func(t *testing.T) {
		const n = 1000
		conns := make([]*timeConn, n)
		for i := range conns {
			conns[i] = dialTime(t, addrs[i%len(addrs)])
		}
		// Every connection is open at once before any asks.
		var wg sync.WaitGroup
		var ok atomic.Int64
		start := time.Now()
		for _, tc := range conns {
			wg.Go(func() {
				tc.c.SetDeadline(time.Now().Add(20 * time.Second))
				if _, err := io.WriteString(tc.c, "seconds\n"); err != nil {
					return
				}
				if ans, err := tc.br.ReadString('\n'); err == nil && secondsRE.MatchString(strings.TrimSpace(ans)) {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		if ok.Load() != n {
			t.Fatalf("%d of %d clients answered", ok.Load(), n)
		}
		t.Logf("%d concurrent clients answered in %s", n, time.Since(start).Round(time.Millisecond))
	})

	t.Run("a log line per connection", func(t *testing.T) {
		out := p.Stdout()
		if !regexp.MustCompile(`(?m)^\S+ \S+ time connection client=127\.0\.0\.1:\d+ lines=\d+ .*end=too long`).MatchString(out) {
			t.Errorf("no per-connection log line for the over-long line:\n%.2000s", out)
		}
		if !strings.Contains(out, "end=idle") {
			t.Errorf("no log line for the idle client")
		}
	})

	t.Run("Ctrl-C exits 0", func(t *testing.T) {
		open := dialTime(t, addrs[0])
		p.Signal(syscall.SIGINT)
		if code := p.Wait(5 * time.Second); code != 0 {
			t.Fatalf("exit %d after SIGINT", code)
		}
		if !open.closed(2 * time.Second) {
			t.Error("an open connection outlived the server")
		}
	})
}

func TestTimeCommandLine(t *testing.T) {
	dir := t.TempDir()
	code, out, _ := Run(t, dir, 10*time.Second, "time", "-h")
	if code != 0 || !strings.Contains(out, "nc localhost 8765") || !strings.Contains(out, "asctime") || !strings.Contains(out, "--idle-timeout") {
		t.Errorf("time -h: exit %d\n%s", code, out)
	}
	for _, bad := range [][]string{{"time", "--idle-timeout", "soon"}, {"time", "--idle-timeout", "0s"}, {"time", "-p", "70000"}, {"time", "extra"}} {
		code, _, errOut := Run(t, dir, 10*time.Second, bad...)
		if code != 2 || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", bad, code, errOut)
		}
	}
	// -q keeps connections out of the log.
	p, port := startTime(t, "-b", "127.0.0.1", "-q")
	tc := dialTime(t, net.JoinHostPort("127.0.0.1", port))
	tc.ask("seconds\n")
	tc.c.Close()
	time.Sleep(200 * time.Millisecond)
	if strings.Contains(p.Stdout(), "time connection") {
		t.Errorf("-q still logs connections:\n%s", p.Stdout())
	}
}
