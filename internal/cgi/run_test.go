package cgi

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/rootfs"
)

// serveScripts serves a tree of executable scripts through the handler.
func serveScripts(t *testing.T, opts Options, scripts map[string]string) *httptest.Server {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	for name, text := range scripts {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	folders, _ := Folders(nil)
	fsys, err := rootfs.Open(dir, rootfs.Policy{Withheld: folders})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	h := New(fsys, opts)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, dir, err := rootfs.ParseURLPath(r.URL.EscapedPath())
		if err != nil || !h.Match(name) {
			http.NotFound(w, r)
			return
		}
		h.Serve(w, r, name, dir)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A script that answers without reading its body ends the exchange, even
// when the client stops sending in the middle of the body: the handler
// must not wait for the rest of it.
func TestStalledBodyDoesNotHoldTheHandler(t *testing.T) {
	srv := serveScripts(t, Options{}, map[string]string{
		"cgi-bin/s.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n",
	})
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(conn, "POST /cgi-bin/s.sh HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || string(b) != "ok\n" {
		t.Fatalf("%d %q %v", resp.StatusCode, b, err)
	}
}

// A script that never reads a large body it was given still gets killed
// with its group and answers.
func TestUnreadBodyAndTimeout(t *testing.T) {
	srv := serveScripts(t, Options{Timeout: time.Second}, map[string]string{
		"cgi-bin/late.sh": "#!/bin/sh\nsleep 30\n",
	})
	resp, err := http.Post(srv.URL+"/cgi-bin/late.sh", "application/octet-stream", strings.NewReader(strings.Repeat("x", 4<<20)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("status %d, want 504", resp.StatusCode)
	}
}

// When the rest of a body goes unread, the connection closes after the
// response: the rest must never be read as the next request.
func TestUnreadBodyClosesConnection(t *testing.T) {
	srv := serveScripts(t, Options{}, map[string]string{
		"cgi-bin/s.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n",
	})
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(conn, "POST /cgi-bin/s.sh HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	// What the client sends next is the body's rest, here shaped like a
	// request; the server must not answer it.
	io.WriteString(conn, "GET /cgi-bin/s.sh HTTP/1.1\r\nHost: x\r\n\r\n")
	if !resp.Close {
		t.Error("the response does not announce Connection: close")
	}
	if rest, _ := io.ReadAll(br); len(rest) != 0 {
		t.Errorf("the server read on after an unread body: %q", rest)
	}
}
