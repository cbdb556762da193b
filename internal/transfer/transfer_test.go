package transfer

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// serve runs one simulated request through the tracker: status, the body
// bytes actually written, and the Content-Length/Content-Range announced.
func serve(t *Tracker, remote, method, path string, status int, size, wrote int64, contentRange string) (string, bool) {
	r := httptest.NewRequest(method, path, nil)
	r.RemoteAddr = remote
	w := httptest.NewRecorder()
	rec := NewRecorder(w, t.Sent)
	tr := t.Begin(r, rec)
	if method == http.MethodGet || method == http.MethodHead {
		tr.Describe(KindFile, size)
	}
	length := size
	if contentRange != "" {
		start, end, _, _ := parseContentRange(contentRange)
		length = end - start + 1
		w.Header().Set("Content-Range", contentRange)
	}
	w.Header().Set("Content-Length", strconv.FormatInt(length, 10))
	rec.WriteHeader(status)
	if method != http.MethodHead && status != http.StatusNotModified {
		rec.Write(make([]byte, wrote))
	}
	return t.End(tr, r, rec, w.Header())
}

func TestWhatCounts(t *testing.T) {
	const size = 1000
	cases := []struct {
		name    string
		remote  string
		method  string
		status  int
		wrote   int64
		cr      string
		outcome string
		counted bool
	}{
		{"full GET", "10.0.0.1:1", "GET", 200, size, "", Complete, true},
		{"HEAD", "10.0.0.1:1", "HEAD", 200, 0, "", "", false},
		{"304", "10.0.0.1:1", "GET", 304, 0, "", "", false},
		{"middle range", "10.0.0.1:1", "GET", 206, 5, "bytes 5-9/1000", Complete, false},
		{"range from zero", "10.0.0.1:1", "GET", 206, size, "bytes 0-999/1000", Complete, true},
		{"cut short", "10.0.0.2:1", "GET", 200, 400, "", CutShort, false},
		{"resume by another client", "10.0.0.3:1", "GET", 206, 600, "bytes 400-999/1000", Complete, false},
		{"resume by the same client, new port", "10.0.0.2:2", "GET", 206, 600, "bytes 400-999/1000", Complete, true},
		{"second resume does not count again", "10.0.0.2:3", "GET", 206, 600, "bytes 400-999/1000", Complete, false},
		{"404", "10.0.0.1:1", "GET", 404, 10, "", "", false},
	}
	tr := NewTracker(0)
	want := Snapshot{}
	for _, tc := range cases {
		outcome, counted := serve(tr, tc.remote, tc.method, "/f", tc.status, size, tc.wrote, tc.cr)
		if outcome != tc.outcome || counted != tc.counted {
			t.Errorf("%s: %q, %v; want %q, %v", tc.name, outcome, counted, tc.outcome, tc.counted)
		}
		if tc.counted {
			want.Completed++
		}
		if tc.outcome == CutShort {
			want.CutShort++
		}
	}
	s := tr.Snapshot()
	if s.Completed != want.Completed || s.CutShort != want.CutShort || s.Requests != int64(len(cases)) {
		t.Errorf("snapshot %d completed, %d cut, %d requests; want %d, %d, %d",
			s.Completed, s.CutShort, s.Requests, want.Completed, want.CutShort, len(cases))
	}
	if len(s.InFlight) != 0 {
		t.Errorf("%d transfers still in flight", len(s.InFlight))
	}
}

func TestParallelCountsAtomically(t *testing.T) {
	for _, limit := range []int64{1, 3} {
		tr := NewTracker(limit)
		var wg sync.WaitGroup
		var mu sync.Mutex
		counted := int64(0)
		for i := range 200 {
			wg.Go(func() {
				_, c := serve(tr, "10.0.0."+strconv.Itoa(i%250)+":1", "GET", "/f", 200, 10, 10, "")
				if c {
					mu.Lock()
					counted++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if counted != limit || tr.Counted() != limit {
			t.Errorf("limit %d: %d counted (tracker says %d)", limit, counted, tr.Counted())
		}
		select {
		case <-tr.Done():
		default:
			t.Errorf("limit %d: Done not closed", limit)
		}
	}
}

func TestIdle(t *testing.T) {
	tr := NewTracker(0)
	r := httptest.NewRequest("GET", "/", nil)
	rec := NewRecorder(httptest.NewRecorder(), nil)
	x := tr.Begin(r, rec)
	if tr.Idle(time.Now().Add(time.Hour)) != 0 {
		t.Errorf("idle while a request is in flight")
	}
	tr.End(x, r, rec, http.Header{})
	if d := tr.Idle(time.Now().Add(time.Minute)); d < 59*time.Second {
		t.Errorf("idle %s", d)
	}
}

func TestParseContentRange(t *testing.T) {
	for in, ok := range map[string]bool{"bytes 0-9/10": true, "bytes */10": false, "bytes 0-9": false, "items 0-9/10": false, "bytes a-9/10": false} {
		if _, _, _, got := parseContentRange(in); got != ok {
			t.Errorf("parseContentRange(%q) ok=%v", in, got)
		}
	}
}

// TestRecorderKeepsReaderFrom checks the wrapper counts a ranged file body
// sent through ReadFrom exactly, in chunks, and leaves the LimitedReader as
// io.Copy expects.
func TestRecorderKeepsReaderFrom(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	data := make([]byte, 3*sendfileChunk+17)
	for i := range data {
		data[i] = byte(i)
	}
	os.WriteFile(p, data, 0o644)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, _ := os.Open(p)
		defer f.Close()
		rec := NewRecorder(w, nil)
		http.ServeContent(rec, r, "f", time.Time{}, f)
		if want := r.Header.Get("X-Want"); want != strconv.FormatInt(rec.Sent(), 10) {
			t.Errorf("Sent %d, want %s", rec.Sent(), want)
		}
	}))
	defer srv.Close()
	for _, rng := range []string{"", "bytes=1-" + strconv.Itoa(sendfileChunk+5), "bytes=-3"} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		want := len(data)
		if rng != "" {
			req.Header.Set("Range", rng)
			want = map[string]int{"bytes=-3": 3}[rng]
			if want == 0 {
				want = sendfileChunk + 5
			}
		}
		req.Header.Set("X-Want", strconv.Itoa(want))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(b) != want {
			t.Errorf("%q: %d bytes, want %d", rng, len(b), want)
		}
	}
}

// BenchmarkServeFile sends a 256 MiB file over a real loopback socket with
// and without the Recorder: equal figures mean sendfile survives the wrapper.
func BenchmarkServeFile(b *testing.B) {
	const size = 256 << 20
	p := filepath.Join(b.TempDir(), "big")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	for range size / len(chunk) {
		f.Write(chunk)
	}
	f.Close()

	for _, wrapped := range []bool{false, true} {
		name := "direct"
		if wrapped {
			name = "recorder"
		}
		b.Run(name, func(b *testing.B) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				f, err := os.Open(p)
				if err != nil {
					http.Error(w, "open", 500)
					return
				}
				defer f.Close()
				if wrapped {
					w = NewRecorder(w, nil)
				}
				http.ServeContent(w, r, "big", time.Time{}, f)
			})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{Handler: h}
			go srv.Serve(ln)
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
			url := "http://" + ln.Addr().String() + "/big"
			buf := make([]byte, 1<<20)
			b.SetBytes(size)
			b.ResetTimer()
			for range b.N {
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.CopyBuffer(io.Discard, struct{ io.Reader }{resp.Body}, buf)
				resp.Body.Close()
				if n != size {
					b.Fatalf("%d bytes", n)
				}
			}
		})
	}
}

// readerFromSpy records what reaches the real writer's ReadFrom: net/http
// only uses sendfile when it is an *os.File, bare or under an
// *io.LimitedReader.
type readerFromSpy struct {
	http.ResponseWriter
	sources []io.Reader
}

func (s *readerFromSpy) ReadFrom(src io.Reader) (int64, error) {
	s.sources = append(s.sources, src)
	return io.Copy(io.Discard, src)
}

func TestRecorderHandsFileToReadFrom(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, make([]byte, 2*sendfileChunk+1), 0o644)
	f, _ := os.Open(p)
	defer f.Close()
	spy := &readerFromSpy{ResponseWriter: httptest.NewRecorder()}
	rec := NewRecorder(spy, nil)
	lr := &io.LimitedReader{R: f, N: 2*sendfileChunk + 1}
	n, err := rec.ReadFrom(lr)
	if err != nil || n != 2*sendfileChunk+1 || rec.Sent() != n || lr.N != 0 {
		t.Fatalf("ReadFrom = %d, %v; Sent %d; N left %d", n, err, rec.Sent(), lr.N)
	}
	if len(spy.sources) != 3 {
		t.Errorf("%d ReadFrom calls, want 3 chunks", len(spy.sources))
	}
	for i, src := range spy.sources {
		l, ok := src.(*io.LimitedReader)
		if !ok {
			t.Fatalf("chunk %d: %T reaches ReadFrom", i, src)
		}
		if _, ok := l.R.(*os.File); !ok {
			t.Errorf("chunk %d: LimitedReader over %T, not *os.File: no sendfile", i, l.R)
		}
	}
}

func TestCompleteDespiteHangUpAfterLastByte(t *testing.T) {
	tr := NewTracker(1)
	for _, tc := range []struct {
		length  string
		wrote   int
		outcome string
	}{{"10", 10, Complete}, {"", 10, CutShort}, {"10", 4, CutShort}} {
		ctx, cancel := context.WithCancel(context.Background())
		r := httptest.NewRequest("GET", "/f", nil).WithContext(ctx)
		w := httptest.NewRecorder()
		rec := NewRecorder(w, nil)
		x := tr.Begin(r, rec)
		x.Describe(KindArchive, -1)
		if tc.length != "" {
			w.Header().Set("Content-Length", tc.length)
		}
		rec.Write(make([]byte, tc.wrote))
		cancel() // the client hung up after reading what was written
		if outcome, _ := tr.End(x, r, rec, w.Header()); outcome != tc.outcome {
			t.Errorf("Content-Length %q, wrote %d: %q, want %q", tc.length, tc.wrote, outcome, tc.outcome)
		}
	}
}

// fileSource stands for fileserver's reader: pread-like reads, and the file
// itself when it may be handed over.
type fileSource struct {
	f      *os.File
	shared bool
	handed int
}

func (s *fileSource) Read(p []byte) (int, error) { return s.f.Read(p) }

func (s *fileSource) SendFile() *os.File {
	s.handed++
	if s.shared {
		return nil
	}
	return s.f
}

func TestRecorderUnwrapsFileSource(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	data := make([]byte, SmallBody+100)
	for i := range data {
		data[i] = byte(i)
	}
	os.WriteFile(p, data, 0o644)
	for _, shared := range []bool{false, true} {
		f, _ := os.Open(p)
		spy := &readerFromSpy{ResponseWriter: httptest.NewRecorder()}
		rec := NewRecorder(spy, nil)
		src := &fileSource{f: f, shared: shared}
		n, err := rec.ReadFrom(&io.LimitedReader{R: src, N: int64(len(data))})
		f.Close()
		if err != nil || n != int64(len(data)) || rec.Sent() != n || src.handed != 1 {
			t.Fatalf("shared %v: ReadFrom = %d, %v; Sent %d; handed %d", shared, n, err, rec.Sent(), src.handed)
		}
		if shared {
			// Copied through Write: nothing reaches ReadFrom.
			if len(spy.sources) != 0 || spy.ResponseWriter.(*httptest.ResponseRecorder).Body.Len() != len(data) {
				t.Errorf("shared: %d ReadFrom calls, %d bytes written", len(spy.sources), spy.ResponseWriter.(*httptest.ResponseRecorder).Body.Len())
			}
			continue
		}
		for i, s := range spy.sources {
			if l, ok := s.(*io.LimitedReader); !ok {
				t.Errorf("chunk %d: %T reaches ReadFrom", i, s)
			} else if _, ok := l.R.(*os.File); !ok {
				t.Errorf("chunk %d: LimitedReader over %T, not *os.File: no sendfile", i, l.R)
			}
		}
	}
}

func TestRecorderCopiesSmallBodyInOneWrite(t *testing.T) {
	for _, tc := range []struct{ size, limit int }{{1000, 1000}, {500, 1000}, {0, 0}} {
		w := &countingWriter{ResponseWriter: httptest.NewRecorder()}
		rec := NewRecorder(w, nil)
		lr := &io.LimitedReader{R: bytes.NewReader(make([]byte, tc.size)), N: int64(tc.limit)}
		n, err := rec.ReadFrom(lr)
		if err != nil || n != int64(tc.size) || w.writes > 1 || lr.N != int64(tc.limit-tc.size) {
			t.Errorf("%d of %d: ReadFrom = %d, %v in %d writes, N left %d", tc.size, tc.limit, n, err, w.writes, lr.N)
		}
	}
}

type countingWriter struct {
	http.ResponseWriter
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.ResponseWriter.Write(p)
}

func (w *countingWriter) ReadFrom(src io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{w}, src)
}

func TestRecentKeepsTheLastInOrder(t *testing.T) {
	tk := NewTracker(0)
	for i := range recentMax + 12 {
		serve(tk, "10.0.0.1:1", "GET", "/f"+strconv.Itoa(i), 200, 10, 10, "")
	}
	rec := tk.Snapshot().Recent
	if len(rec) != recentMax {
		t.Fatalf("%d recent downloads, want %d", len(rec), recentMax)
	}
	for i, f := range rec {
		if want := "/f" + strconv.Itoa(i+12); f.Path != want {
			t.Fatalf("recent[%d] = %s, want %s", i, f.Path, want)
		}
	}
}

type observerSpy struct{ events []string }

func (o *observerSpy) Started(tr *Transfer) { o.events = append(o.events, "started "+tr.Path) }
func (o *observerSpy) Ended(tr *Transfer)   { o.events = append(o.events, "ended "+tr.Path) }

// TestStartShowsAndObserves checks what the access-log middleware relies on:
// a described transfer is in flight and observed, an undescribed one is
// neither, and the Recorder counts sent bytes in the tracker.
func TestStartShowsAndObserves(t *testing.T) {
	tk := NewTracker(0)
	obs := &observerSpy{}
	for _, describe := range []bool{true, false} {
		r := httptest.NewRequest("GET", "/f", nil)
		w := httptest.NewRecorder()
		tr, rec := tk.Start(w, r, obs)
		if describe {
			tr.Describe(KindFile, 5)
			if n := len(tk.Snapshot().InFlight); n != 1 {
				t.Errorf("%d in flight, want 1", n)
			}
		}
		w.Header().Set("Content-Length", "5")
		rec.Write([]byte("hello"))
		tk.End(tr, r, rec, w.Header())
	}
	if got := strings.Join(obs.events, ", "); got != "started /f, ended /f" {
		t.Errorf("observer heard %q", got)
	}
	s := tk.Snapshot()
	if s.BytesSent != 10 || len(s.InFlight) != 0 || s.Requests != 2 {
		t.Errorf("sent %d, in flight %d, requests %d; want 10, 0, 2", s.BytesSent, len(s.InFlight), s.Requests)
	}
}

// putThrough runs one upload request through the tracker; act is what the
// handler tells the transfer.
func putThrough(tk *Tracker, path string, status int, received int64, act func(*Transfer)) (*Transfer, string) {
	r := httptest.NewRequest("PUT", path, nil)
	r.RemoteAddr = "10.0.0.9:1"
	w := httptest.NewRecorder()
	tr, rec := tk.Start(w, r, nil)
	act(tr)
	tk.Received(tr, received)
	rec.WriteHeader(status)
	outcome, counted := tk.End(tr, r, rec, w.Header())
	if counted {
		panic("an upload counted as a download")
	}
	return tr, outcome
}

func TestUploadOutcomes(t *testing.T) {
	tk := NewTracker(0)
	cases := []struct {
		name    string
		status  int
		recv    int64
		act     func(*Transfer)
		outcome string
		done    int64
	}{
		{"stored", 201, 5, func(tr *Transfer) { tr.Upload("/a.txt", 0, 5); tr.Describe(KindUpload, 5); tr.Stored("/a.txt") }, Complete, 5},
		{"refused before the body", 409, 0, func(tr *Transfer) { tr.Refuse("already exists") }, Refused, 0},
		{"cut", 400, 3, func(tr *Transfer) { tr.Upload("/c.bin", 0, 10); tr.Describe(KindUpload, 10); tr.Cut() }, CutShort, 3},
		{"resumed piece", 204, 4, func(tr *Transfer) { tr.Upload("/t.bin", 6, 20); tr.Describe(KindUpload, 20); tr.Piece() }, Partial, 10},
		{"resumed and cut", 204, 4, func(tr *Transfer) { tr.Upload("/t.bin", 10, 20); tr.Describe(KindUpload, 20); tr.Cut() }, CutShort, 14},
		{"failure not described", 507, 2, func(tr *Transfer) { tr.Upload("/d.bin", 0, 9); tr.Describe(KindUpload, 9) }, Refused, 2},
		{"folders only", 201, 0, func(tr *Transfer) { tr.Upload("/", 0, 9) }, "", 0},
		{"two files", 201, 9, func(tr *Transfer) {
			tr.Upload("/x", 0, 9)
			tr.Describe(KindUpload, 9)
			tr.Stored("/x")
			tr.Stored("/y")
		}, Complete, 9},
	}
	for _, c := range cases {
		tr, outcome := putThrough(tk, "/put", c.status, c.recv, c.act)
		if outcome != c.outcome || tr.Done() != c.done {
			t.Errorf("%s: %q, done %d; want %q, %d", c.name, outcome, tr.Done(), c.outcome, c.done)
		}
	}
	if _, o := putThrough(tk, "/put", 413, 0, func(tr *Transfer) { tr.Refuse("too large") }); o != Refused {
		t.Fatal(o)
	}
	s := tk.Snapshot()
	if s.UploadsCompleted != 3 || s.UploadsCutShort != 2 || s.Completed != 0 || len(s.InFlight) != 0 {
		t.Errorf("uploads completed %d, cut %d, downloads %d, in flight %d; want 3, 2, 0, 0",
			s.UploadsCompleted, s.UploadsCutShort, s.Completed, len(s.InFlight))
	}
	var moved []string
	for _, m := range s.Moved {
		moved = append(moved, m.Path+" "+m.Outcome+" "+strconv.FormatInt(m.Done, 10)+"/"+strconv.FormatInt(m.Size, 10)+" ×"+strconv.Itoa(m.Count))
	}
	want := "/a.txt complete 5/5 ×1, /c.bin cut short 3/10 ×1, /t.bin cut short 14/20 ×1, /x complete -1/-1 ×1, /y complete -1/-1 ×1"
	if got := strings.Join(moved, ", "); got != want {
		t.Errorf("moved:\n got %s\nwant %s", got, want)
	}
}

// The list of what moved keeps the first files and counts the rest;
// repeats are one entry.
func TestMovedIsBounded(t *testing.T) {
	tk := NewTracker(0)
	for i := range maxMoved + 5 {
		serve(tk, "10.0.0.1:1", "GET", "/f"+strconv.Itoa(i), 200, 10, 10, "")
		serve(tk, "10.0.0.1:1", "GET", "/f0", 200, 10, 10, "")
	}
	s := tk.Snapshot()
	if len(s.Moved) != maxMoved || s.MovedMore != 5 || s.Moved[0].Count != maxMoved+6 || s.Moved[maxMoved-1].Path != "/f19" {
		t.Errorf("moved %d (first %+v, last %+v), more %d", len(s.Moved), s.Moved[0], s.Moved[len(s.Moved)-1], s.MovedMore)
	}
}

// A large HTTP/2 body leaves in writes of at most frameWrite bytes, so that
// each DATA frame with its header fits one TLS record; every byte arrives
// in order.
func TestCopyFramesWritesRecordSizedFrames(t *testing.T) {
	body := make([]byte, 300_000)
	for i := range body {
		body[i] = byte(i * 7)
	}
	var got bytes.Buffer
	w := &sizesWriter{w: &got}
	n, err := copyFrames(w, &io.LimitedReader{R: bytes.NewReader(body), N: int64(len(body))}, make([]byte, 8*frameWrite))
	if err != nil || n != int64(len(body)) || !bytes.Equal(got.Bytes(), body) {
		t.Fatalf("copyFrames = %d, %v; body intact: %v", n, err, bytes.Equal(got.Bytes(), body))
	}
	for i, s := range w.sizes {
		if s > frameWrite || (s < frameWrite && i != len(w.sizes)-1 && (i+1)%8 != 0) {
			t.Fatalf("write %d of %d bytes (sizes %v)", i, s, w.sizes)
		}
	}
}

type sizesWriter struct {
	w     io.Writer
	sizes []int
}

func (s *sizesWriter) Write(p []byte) (int, error) {
	s.sizes = append(s.sizes, len(p))
	return s.w.Write(p)
}
