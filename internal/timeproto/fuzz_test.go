package timeproto

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func FuzzAnswer(f *testing.F) {
	for _, s := range []string{"asctime", "SECONDS\r", " rfc822 ", "", "\r", "\x00", "\xff\xfe", "asctime\n"} {
		f.Add(s, int64(1136239445), int32(0))
	}
	f.Fuzz(func(t *testing.T, line string, unix int64, offset int32) {
		now := time.Unix(unix, 0)
		loc := time.FixedZone("Z", int(offset%(18*3600)))
		got := Answer(line, now, loc)
		if strings.ContainsAny(got, "\r\n") {
			t.Fatalf("Answer(%q) = %q: not a single line", line, got)
		}
		if got == "" {
			t.Fatalf("Answer(%q) is empty", line)
		}
	})
}

// memConn is a net.Conn over fixed input, handing it out in chunks of a
// chosen size so that lines straddle reads in every possible way.
type memConn struct {
	in    []byte
	chunk int
	out   bytes.Buffer
}

func (c *memConn) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.in)
	c.in = c.in[n:]
	return n, nil
}

func (c *memConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// expectedReplies is the protocol written out plainly: each line is
// answered until one is longer than MaxLine, and a final unterminated line
// is answered too.
func expectedReplies(in []byte, now time.Time) string {
	var out strings.Builder
	for len(in) > 0 {
		i := bytes.IndexByte(in, '\n')
		if i < 0 {
			i = len(in)
		}
		if i > MaxLine {
			break
		}
		out.WriteString(Answer(string(in[:i]), now, time.UTC) + "\n")
		in = in[min(i+1, len(in)):]
	}
	return out.String()
}

func FuzzConn(f *testing.F) {
	f.Add([]byte("seconds\nasctime\r\nrfc822"), uint16(1))
	f.Add([]byte("\n\n\n"), uint16(7))
	f.Add([]byte(strings.Repeat("x", MaxLine)+"\nseconds\n"), uint16(100))
	f.Add([]byte(strings.Repeat("x", MaxLine+1)+"\nseconds\n"), uint16(4096))
	f.Add([]byte(strings.Repeat("y", MaxLine+1)), uint16(3))
	f.Add([]byte("\x00\xff\r\x1b\n"), uint16(2))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint16) {
		c := &memConn{in: in, chunk: int(chunk)%(2*MaxLine) + 1}
		serveConn(context.Background(), c, &Options{
			IdleTimeout: time.Minute,
			Now:         func() time.Time { return fixed },
			Location:    time.UTC,
		})
		if got, want := c.out.String(), expectedReplies(in, fixed); got != want {
			t.Fatalf("input %q:\n got %q\nwant %q", in, got, want)
		}
	})
}
