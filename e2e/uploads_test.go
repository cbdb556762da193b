package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// upBodyCut sends method path with a body of n announced bytes, writes only
// the first sent of them and hangs up, as a browser tab closed mid-upload.
func upBodyCut(t *testing.T, addr, method, path string, hdr string, n, sent int) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: localhost\r\n%sContent-Length: %d\r\n\r\n", method, path, hdr, n)
	if _, err := conn.Write(make([]byte, sent)); err != nil {
		t.Fatal(err)
	}
}

// upLogLines parses ferry's JSON request lines, waiting until there are n.
func upLogLines(t *testing.T, p *Proc, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var lines []map[string]any
		for l := range strings.SplitSeq(p.Stdout(), "\n") {
			var m map[string]any
			d := json.NewDecoder(strings.NewReader(l))
			d.UseNumber() // sizes up to 2^63-1 exactly
			if d.Decode(&m) == nil && m["method"] != nil {
				lines = append(lines, m)
			}
		}
		if len(lines) >= n || time.Now().After(deadline) {
			if len(lines) < n {
				t.Fatalf("%d request lines, want %d:\n%s", len(lines), n, p.Stdout())
			}
			return lines
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// upScenario uploads in every way ferry takes files, and cuts two uploads
// short: ten requests or more (HEADs poll).
//
//	PUT /docs/a.txt          complete
//	PUT /docs/a.txt          refused (exists)
//	POST /docs/ (2 files)    complete
//	PUT /cut.bin             cut short: 256 KiB of 1 MiB
//	tus: create /docs/t.bin (30 B), PATCH 10 B, PATCH cut after 5 B,
//	HEAD, PATCH the last 15 B, and a creation over --max-upload
func upScenario(t *testing.T, p *Proc) (tusID string) {
	t.Helper()
	if r, _ := Do(t, "PUT", p.URL+"/docs/a.txt", strings.NewReader("hello")); r.StatusCode != 201 {
		t.Fatalf("PUT: %s", r.Status)
	}
	if r, _ := Do(t, "PUT", p.URL+"/docs/a.txt", strings.NewReader("again")); r.StatusCode != 409 {
		t.Fatalf("second PUT: %s", r.Status)
	}
	body, ct := wrMultipart(wrFile("b.txt", []byte("bb")), wrFile("c.txt", []byte("ccc")))
	if r, _ := Do(t, "POST", p.URL+"/docs/", bytes.NewReader(body), "Content-Type", ct); r.StatusCode != 201 {
		t.Fatalf("POST: %s", r.Status)
	}
	upBodyCut(t, hostPort(p), "PUT", "/cut.bin", "", 1<<20, 256<<10)
	if !p.WaitOutput("/cut.bin", 5*time.Second) {
		t.Fatalf("no line for the cut PUT:\n%s", p.Stdout())
	}

	c := newTus(t, p.URL)
	u, status := c.create("/docs/", "t.bin", 30)
	if status != 201 {
		t.Fatalf("tus create: %d", status)
	}
	if r := c.patch(u, 0, []byte("0123456789")); r.StatusCode != 204 {
		t.Fatalf("PATCH: %s", r.Status)
	}
	pu, _ := url.Parse(u)
	upBodyCut(t, hostPort(p), "PATCH", pu.Path,
		"Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 10\r\n", 20, 5)
	deadline := time.Now().Add(5 * time.Second)
	for c.offset(u) != 15 {
		if time.Now().After(deadline) {
			t.Fatalf("offset after the cut PATCH: %d, want 15", c.offset(u))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := c.patch(u, 15, []byte("abcdefghijklmno")); r.StatusCode != 204 {
		t.Fatalf("last PATCH: %s", r.Status)
	}
	if _, status := c.create("/", "huge.bin", 1<<63-1); status != 413 {
		t.Fatalf("tus create over --max-upload: %d", status)
	}
	return pu.Path[strings.LastIndex(pu.Path, "/")+1:]
}

// Every upload is logged with its destination, its bytes and its outcome:
// complete, cut short (bytes of total), refused (and why). A browser that
// hangs up mid-PATCH is cut short, not a 400.
func TestUploadsLoggedAsTransfers(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"docs/keep": "k"})
	p := Start(t, dir, "-p", "0", "--upload", "--max-upload", "10M", "--log", "json")
	id := upScenario(t, p)
	lines := upLogLines(t, p, 10)

	type want struct {
		method, path  string
		status        int
		bytes         int64
		outcome       string
		size, done    int64
		reason, extra string
	}
	wants := []want{
		{"PUT", "/docs/a.txt", 201, 5, "complete", 5, 5, "", ""},
		{"PUT", "/docs/a.txt", 409, 0, "refused", 5, 0, "already exists", ""},
		{"POST", "/docs/", 201, -1, "complete", -1, -1, "", "files"},
		{"PUT", "/cut.bin", 400, 256 << 10, "cut short", 1 << 20, 256 << 10, "", ""},
		{"POST", "/docs/t.bin", 201, 0, "partial", 30, 0, "", "uri"},
		{"PATCH", "/docs/t.bin", 204, 10, "partial", 30, 10, "", "uri"},
		{"PATCH", "/docs/t.bin", 204, 5, "cut short", 30, 15, "", "uri"},
		{"HEAD", "/.ferry/tus/" + id, 200, 0, "", 0, 0, "", ""},
		{"PATCH", "/docs/t.bin", 204, 15, "complete", 30, 30, "", "uri"},
		{"POST", "/huge.bin", 413, 0, "refused", 1<<63 - 1, 0, "upload larger than the limit of 10485760 bytes", ""},
	}
	// Each wanted line is found among the lines (the HEADs that poll the
	// offset may come in any number, and a line's order is that of its
	// request's end).
	num := func(m map[string]any, k string) int64 {
		n, ok := m[k].(json.Number)
		if !ok {
			return -1
		}
		i, _ := n.Int64()
		return i
	}
	used := make([]bool, len(lines))
	for _, w := range wants {
		i := slices.IndexFunc(lines, func(g map[string]any) bool {
			out, _ := g["outcome"].(string)
			return g["method"] == w.method && g["path"] == w.path && num(g, "status") == int64(w.status) && out == w.outcome
		})
		for i >= 0 && used[i] {
			j := slices.IndexFunc(lines[i+1:], func(g map[string]any) bool {
				out, _ := g["outcome"].(string)
				return g["method"] == w.method && g["path"] == w.path && num(g, "status") == int64(w.status) && out == w.outcome
			})
			if j < 0 {
				i = -1
				break
			}
			i += 1 + j
		}
		if i < 0 {
			t.Errorf("no line %s %s %d %q in:\n%s", w.method, w.path, w.status, w.outcome, p.Stdout())
			continue
		}
		used[i] = true
		g := lines[i]
		line, _ := json.Marshal(g)
		if w.outcome == "" {
			continue
		}
		if (w.bytes >= 0 && num(g, "bytes") != w.bytes) || (w.size >= 0 && num(g, "size") != w.size) || (w.done >= 0 && num(g, "done") != w.done) {
			t.Errorf("%s\nwant bytes %d, size %d, done %d", line, w.bytes, w.size, w.done)
		}
		if w.reason != "" && g["reason"] != w.reason {
			t.Errorf("%s\nwant reason %q", line, w.reason)
		}
		switch w.extra {
		case "files":
			if num(g, "files") != 2 {
				t.Errorf("%s\nwant files 2", line)
			}
		case "uri":
			if uri, _ := g["uri"].(string); !strings.HasPrefix(uri, "/.ferry/tus/") {
				t.Errorf("%s\nwant the tus URL as uri", line)
			}
		}
	}

	// The status page counts them and lists the finished ones.
	_, b := Do(t, "GET", p.URL+"/.ferry/status?format=json", nil)
	var st struct {
		Completed int64 `json:"uploads_completed"`
		CutShort  int64 `json:"uploads_cut_short"`
		Recent    []struct {
			Kind, Path, Outcome string
			Received            int64
			Size                int64
		}
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, b)
	}
	if st.Completed != 4 || st.CutShort != 2 {
		t.Errorf("status: %d uploads completed, %d cut short; want 4, 2\n%s", st.Completed, st.CutShort, b)
	}
	var listed []string
	for _, r := range st.Recent {
		if r.Kind == "upload" {
			listed = append(listed, fmt.Sprintf("%s %s %d/%d", r.Path, r.Outcome, r.Received, r.Size))
		}
	}
	// Newest first.
	wantListed := "/docs/t.bin complete 30/30, /docs/t.bin cut short 15/30, /cut.bin cut short 262144/1048576, " +
		"/docs/c.txt complete -1/-1, /docs/b.txt complete -1/-1, /docs/a.txt complete 5/5"
	if got := strings.Join(listed, ", "); got != wantListed {
		t.Errorf("recent uploads:\n got %s\nwant %s", got, wantListed)
	}
}

// The text log says the same in words.
func TestUploadsLoggedAsText(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"docs/keep": "k"})
	p := Start(t, dir, "-p", "0", "--upload", "--max-upload", "10M")
	upScenario(t, p)
	if !p.WaitOutput("/huge.bin", 5*time.Second) {
		t.Fatalf("no line for the last request:\n%s", p.Stdout())
	}
	out := p.Stdout()
	for _, re := range []string{
		`PUT /docs/a\.txt 201 5 B \S+ complete\n`,
		`PUT /docs/a\.txt 409 0 B \S+ refused: already exists\n`,
		`POST /docs/ 201 \d+ B \S+ complete \(2 files\)\n`,
		`PUT /cut\.bin 400 256 KiB \S+ cut short: 256 KiB of 1\.0 MiB\n`,
		`POST /docs/t\.bin 201 0 B \S+ partial: 0 B of 30 B\n`,
		`PATCH /docs/t\.bin 204 10 B \S+ partial: 10 B of 30 B\n`,
		`PATCH /docs/t\.bin 204 5 B \S+ cut short: 15 B of 30 B\n`,
		`PATCH /docs/t\.bin 204 15 B \S+ complete\n`,
		`POST /huge\.bin 413 0 B \S+ refused: upload larger than the limit of 10485760 bytes\n`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("no line matching %s in:\n%s", re, out)
		}
	}
	if strings.Contains(out, "PATCH /.ferry/tus/") || strings.Contains(out, " 400 ") && strings.Contains(lineWith(out, " 400 "), "PATCH") {
		t.Errorf("a PATCH is logged by its URL or as a 400:\n%s", out)
	}
}

// The summary counts uploads and names what moved: up to 20 files, then a
// count of the rest.
func TestSummaryNamesWhatMoved(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"docs/keep": "k", "hello.txt": "hello"})
	p := Start(t, dir, "-p", "0", "--upload", "--max-upload", "10M")
	upScenario(t, p)
	Do(t, "GET", p.URL+"/hello.txt", nil)
	Do(t, "GET", p.URL+"/hello.txt", nil)
	p.Signal(syscall.SIGINT)
	if code := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	out := p.Stdout()
	if !regexp.MustCompile(`summary: \d+ requests, .* 2 downloads completed, 0 cut short, 4 uploads completed, 2 cut short, up `).MatchString(out) {
		t.Errorf("summary does not count uploads:\n%s", out)
	}
	_, moved, _ := strings.Cut(out, "\nmoved:\n")
	wantMoved := "  ↑ /docs/a.txt  5 B\n" +
		"  ↑ /docs/b.txt  complete\n" +
		"  ↑ /docs/c.txt  complete\n" +
		"  ↑ /cut.bin  cut short: 256 KiB of 1.0 MiB\n" +
		"  ↑ /docs/t.bin  cut short: 15 B of 30 B\n" +
		"  ↑ /docs/t.bin  30 B\n" +
		"  ↓ /hello.txt  5 B (2 times)\n"
	if moved != wantMoved {
		t.Errorf("moved:\n%s\nwant:\n%s", moved, wantMoved)
	}

	// Beyond 20 files, a count.
	p = Start(t, dir, "-p", "0", "--upload", "-q")
	for i := range 23 {
		if r, _ := Do(t, "PUT", p.URL+"/many/f"+strconv.Itoa(i), strings.NewReader("x")); r.StatusCode != 201 {
			t.Fatalf("PUT %d: %s", i, r.Status)
		}
	}
	p.Signal(syscall.SIGINT)
	if code := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	_, moved, _ = strings.Cut(p.Stdout(), "\nmoved:\n")
	lines := strings.Split(strings.TrimSuffix(moved, "\n"), "\n")
	if len(lines) != 21 || lines[0] != "  ↑ /many/f0  1 B" || lines[19] != "  ↑ /many/f19  1 B" || lines[20] != "  and 3 more" {
		t.Errorf("moved list of 23 uploads:\n%s", moved)
	}
}

// Stopping with transfers in flight says so, and how not to wait; piped,
// with no escape code.
func TestStopSaysItWaits(t *testing.T) {
	dir := t.TempDir()
	writeBig(t, dir, "big.bin", 24<<20)
	p := Start(t, dir, "-p", "0")
	conn, br, rest := slowDownload(t, hostPort(p), "/big.bin")
	p.Signal(syscall.SIGINT)
	if !p.WaitOutput("stopping: waiting for 1 transfer (Ctrl-C again to quit)\n", 5*time.Second) {
		t.Fatalf("no word while waiting:\n%s", p.Stdout())
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := io.CopyN(io.Discard, br, rest); err != nil || n != rest {
		t.Fatalf("download after SIGINT: %d of %d: %v", n, rest, err)
	}
	if code := p.Wait(5 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	out := p.Stdout()
	if !strings.HasSuffix(out, "\nmoved:\n  ↓ /big.bin  24.0 MiB\n") {
		t.Errorf("the summary does not end with what moved:\n%s", out)
	}
	if strings.ContainsRune(out, '\x1b') {
		t.Errorf("escape codes in piped output: %q", out)
	}

	// Nothing in flight: nothing to wait for, nothing said.
	p = Start(t, dir, "-p", "0")
	p.Signal(syscall.SIGINT)
	if code := p.Wait(5 * time.Second); code != 0 || strings.Contains(p.Stdout(), "stopping:") || strings.Contains(p.Stdout(), "moved:") {
		t.Errorf("exit %d:\n%s", code, p.Stdout())
	}
}

// WebDAV clients upload with PUT: logged the same way, a PUT refused by a
// lock included.
func TestUploadsLoggedUnderWebDAV(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "-w", "--webdav")
	if r, _ := Do(t, "PUT", p.URL+"/dav.txt", strings.NewReader("dav")); r.StatusCode != 201 {
		t.Fatalf("PUT: %s", r.Status)
	}
	lock := `<?xml version="1.0" encoding="utf-8"?><lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope><locktype><write/></locktype></lockinfo>`
	if r, b := Do(t, "LOCK", p.URL+"/dav.txt", strings.NewReader(lock), "Content-Type", "application/xml"); r.StatusCode != 200 {
		t.Fatalf("LOCK: %s %s", r.Status, b)
	}
	if r, _ := Do(t, "PUT", p.URL+"/dav.txt", strings.NewReader("other")); r.StatusCode != 423 {
		t.Fatalf("PUT on a locked file: %s", r.Status)
	}
	if !p.WaitOutput("PUT /dav.txt 423", 5*time.Second) {
		t.Fatalf("no line for the refused PUT:\n%s", p.Stdout())
	}
	out := p.Stdout()
	for _, re := range []string{`PUT /dav\.txt 201 3 B \S+ complete\n`, `PUT /dav\.txt 423 0 B \S+ refused: Locked\n`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("no line matching %s in:\n%s", re, out)
		}
	}
}
