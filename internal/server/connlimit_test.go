package server

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestLimitPerIP(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := LimitPerIP(raw, 2).(*limitListener)
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func(src string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
		c, err := d.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closed reports whether the server closed c without it sending anything.
	closed := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		return err != nil && !isTimeout(err)
	}
	a1, a2 := dial("127.0.0.1"), dial("127.0.0.1")
	s1, s2 := <-accepted, <-accepted
	a3 := dial("127.0.0.1")
	if !closed(a3) {
		t.Fatal("third connection from one address was not closed")
	}
	b1 := dial("127.0.0.2")
	<-accepted
	if closed(b1) || closed(a1) || closed(a2) {
		t.Fatal("a connection within the limit was closed")
	}
	if n := ln.Open(netip.MustParseAddr("127.0.0.1")); n != 2 {
		t.Fatalf("open = %d, want 2", n)
	}
	s1.Close()
	s1.Close() // a second Close must not free a second slot
	if n := ln.Open(netip.MustParseAddr("127.0.0.1")); n != 1 {
		t.Fatalf("open after close = %d, want 1", n)
	}
	a4 := dial("127.0.0.1")
	select {
	case <-accepted:
	case <-time.After(2 * time.Second):
		t.Fatal("a freed slot was not reused")
	}
	_ = a4
	s2.Close()
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestLimitPerIPZeroIsUnlimited(t *testing.T) {
	raw, _ := net.Listen("tcp", "127.0.0.1:0")
	defer raw.Close()
	if LimitPerIP(raw, 0) != raw {
		t.Fatal("limit 0 wrapped the listener")
	}
}
