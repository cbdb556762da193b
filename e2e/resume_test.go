package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestResumeWithCurlAndWget(t *testing.T) {
	dir := t.TempDir()
	data := writeBig(t, dir, "big.bin", 3<<20+123)
	p := Start(t, dir, "-p", "0")
	clients := []struct {
		tool string
		args func(out string) []string
	}{
		{"curl", func(out string) []string {
			return []string{"-sS", "-f", "-C", "-", "-o", out, p.URL + "/big.bin"}
		}},
		{"wget", func(out string) []string {
			return []string{"-q", "-c", "-O", out, p.URL + "/big.bin"}
		}},
	}
	ran := false
	for _, c := range clients {
		t.Run(c.tool, func(t *testing.T) {
			bin := NeedCommand(t, c.tool)
			ran = true
			for _, cut := range []int{0, 1, 1 << 20, len(data) - 1} {
				out := filepath.Join(t.TempDir(), "out.bin")
				os.WriteFile(out, data[:cut], 0o644)
				cmd := exec.Command(bin, c.args(out)...)
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s from %d: %v\n%s", c.tool, cut, err, b)
				}
				got, _ := os.ReadFile(out)
				if sha(got) != sha(data) {
					t.Errorf("%s resumed from %d: %d bytes, sha256 differs", c.tool, cut, len(got))
				}
			}
		})
	}
	// Each resume reached the server as a Range request answered 206 (when
	// a client was there to send one: without curl and wget both skip).
	if ran && !strings.Contains(p.Stdout(), " 206 ") {
		t.Errorf("no 206 in the log:\n%s", p.Stdout())
	}
}

// cutDownload requests path over a raw socket, reads about n body bytes and
// hangs up.
func cutDownload(t *testing.T, addr, path string, n int, extra string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A bounded receive buffer: the kernel must not take (and acknowledge)
	// the rest of the file on the client's behalf.
	conn.(*net.TCPConn).SetReadBuffer(64 << 10)
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n", path, extra)
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.CopyN(io.Discard, conn, int64(n)); err != nil {
		t.Fatalf("reading: %v", err)
	}
	// A reset rather than a FIN: nothing more is read, as a killed client would.
	conn.(*net.TCPConn).SetLinger(0)
}

func TestDownloadOutcomeLogged(t *testing.T) {
	if testing.Short() {
		t.Skip("20 MiB download")
	}
	dir := t.TempDir()
	data := writeBig(t, dir, "big.bin", 20<<20)
	p := Start(t, dir, "-p", "0")
	cutDownload(t, hostPort(p), "/big.bin", 10<<20, "")
	if !p.WaitOutput("cut short", 5*time.Second) {
		t.Fatalf("no cut short line:\n%s", p.Stdout())
	}
	line := lineWith(p.Stdout(), "cut short")
	if !regexp.MustCompile(`GET /big\.bin 200 .* cut short: [\d.]+ MiB of 20\.0 MiB$`).MatchString(line) {
		t.Errorf("cut line = %q", line)
	}
	resp, body := Do(t, "GET", p.URL+"/big.bin", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("full GET: %d, %d bytes", resp.StatusCode, len(body))
	}
	if !p.WaitOutput("complete", 5*time.Second) {
		t.Fatalf("no complete line:\n%s", p.Stdout())
	}
	if line := lineWith(p.Stdout(), "complete"); !regexp.MustCompile(`GET /big\.bin 200 20\.0 MiB \S+ complete$`).MatchString(line) {
		t.Errorf("complete line = %q", line)
	}
}

func lineWith(out, s string) string {
	for l := range strings.SplitSeq(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func TestLogFormats(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "hello", "sub/b.txt": "b"})
	writeBig(t, dir, "big.bin", 8<<20)

	t.Run("json", func(t *testing.T) {
		p := Start(t, dir, "-p", "0", "--log", "json")
		Do(t, "GET", p.URL+"/a.txt", nil)
		Do(t, "GET", p.URL+"/sub/", nil)
		Do(t, "GET", p.URL+"/nope", nil)
		cutDownload(t, hostPort(p), "/big.bin", 1<<20, "")
		if !p.WaitOutput(`"cut short"`, 5*time.Second) {
			t.Fatalf("no cut short:\n%s", p.Stdout())
		}
		var reqs []map[string]any
		for l := range strings.SplitSeq(p.Stdout(), "\n") {
			if !strings.HasPrefix(l, "{") {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("line is not JSON: %v\n%s", err, l)
			}
			reqs = append(reqs, m)
		}
		if len(reqs) != 4 {
			t.Fatalf("%d JSON lines, want 4:\n%s", len(reqs), p.Stdout())
		}
		for _, m := range reqs {
			for _, k := range []string{"time", "client", "method", "path", "status", "bytes", "duration_ms"} {
				if _, ok := m[k]; !ok {
					t.Errorf("line lacks %q: %v", k, m)
				}
			}
			if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(m["time"])); err != nil {
				t.Errorf("time %v", m["time"])
			}
			if _, ok := m["status"].(float64); !ok {
				t.Errorf("status is %T", m["status"])
			}
		}
		want := []struct {
			path    string
			status  float64
			outcome any
			size    any
		}{{"/a.txt", 200, "complete", 5.0}, {"/sub/", 200, nil, nil}, {"/nope", 404, nil, nil}, {"/big.bin", 200, "cut short", float64(8 << 20)}}
		for i, w := range want {
			m := reqs[i]
			if m["path"] != w.path || m["status"] != w.status || m["outcome"] != w.outcome || m["size"] != w.size {
				t.Errorf("line %d = %v, want %+v", i, m, w)
			}
		}
		if reqs[0]["bytes"] != 5.0 || reqs[0]["method"] != "GET" || !strings.HasPrefix(reqs[0]["client"].(string), "127.0.0.1:") {
			t.Errorf("first line %v", reqs[0])
		}
	})

	t.Run("combined", func(t *testing.T) {
		p := Start(t, dir, "-p", "0", "--log", "combined")
		Do(t, "GET", p.URL+"/a.txt?x=1", nil, "User-Agent", `agent "quoted"`, "Referer", "http://ref.example/")
		Do(t, "HEAD", p.URL+"/nope", nil)
		if !p.WaitOutput(`"HEAD /nope`, 5*time.Second) {
			t.Fatalf("no lines:\n%s", p.Stdout())
		}
		re := regexp.MustCompile(`^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET /a\.txt\?x=1 HTTP/1\.1" 200 5 "http://ref\.example/" "agent \\"quoted\\""$`)
		if l := lineWith(p.Stdout(), "GET /a.txt"); !re.MatchString(l) {
			t.Errorf("combined line = %q", l)
		}
		re = regexp.MustCompile(`^127\.0\.0\.1 - - \[[^]]+\] "HEAD /nope HTTP/1\.1" 404 - "-" "Go-http-client/1\.1"$`)
		if l := lineWith(p.Stdout(), "HEAD /nope"); !re.MatchString(l) {
			t.Errorf("combined line = %q", l)
		}
	})

	t.Run("quiet", func(t *testing.T) {
		p := Start(t, dir, "-p", "0", "-q")
		for range 3 {
			Do(t, "GET", p.URL+"/a.txt", nil)
		}
		Do(t, "GET", p.URL+"/nope", nil)
		time.Sleep(100 * time.Millisecond)
		if out := p.Stdout(); strings.Contains(out, "/a.txt 200") || strings.Contains(out, "/nope") || strings.Contains(out, "GET") {
			t.Errorf("-q printed request lines:\n%s", out)
		}
	})
}

func TestLogEscapesControlCharacters(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "a"})
	paths := []string{"/%1b[31mred%1b[0m", "/x%0aFAKE%20127.0.0.1%20GET%20/forged%20200", "/%0d%0aY", "/%07bell", "/%7f", "/%c2%9b31m", "/%ff%fe"}
	for _, format := range []string{"text", "json", "combined"} {
		t.Run(format, func(t *testing.T) {
			p := Start(t, dir, "-p", "0", "--log", format)
			addr := hostPort(p)
			for _, path := range paths {
				raw := RawRequest(t, addr, "GET "+path+" HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ua\u00a0\u009b\r\nConnection: close\r\n\r\n", 5*time.Second)
				if statusOf(raw) != "404" && statusOf(raw) != "400" {
					t.Errorf("GET %q = %.100q", path, raw)
				}
			}
			// net/http itself refuses control bytes in header values (400,
			// before ferry sees the request); this must stay so.
			raw := RawRequest(t, addr, "GET /a.txt HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ua\x1b[2J\r\nConnection: close\r\n\r\n", 5*time.Second)
			if statusOf(raw) != "400" {
				t.Errorf("ESC in User-Agent: %.100q", raw)
			}
			Do(t, "GET", p.URL+"/last-marker", nil)
			if !p.WaitOutput("last-marker", 5*time.Second) {
				t.Fatalf("no line for /last-marker:\n%s", p.Stdout())
			}
			out := p.Stdout()
			for i, c := range []byte(out) {
				if c < 0x20 && c != '\n' || c == 0x7f {
					t.Fatalf("raw control byte %#x at %d:\n%q", c, i, out)
				}
			}
			if strings.Contains(out, "\xc2\x9b") {
				t.Errorf("raw C1 control in the log")
			}
			if strings.Contains(out, "\nFAKE") || strings.Contains(out, "\nY") {
				t.Errorf("a forged line made it into the log:\n%s", out)
			}
			requestLines := 0
			for l := range strings.SplitSeq(out, "\n") {
				if strings.Contains(l, "GET ") || strings.Contains(l, `"GET"`) {
					requestLines++
				}
			}
			if requestLines != len(paths)+1 {
				t.Errorf("%d request lines, want %d:\n%s", requestLines, len(paths)+1, out)
			}
		})
	}
}
