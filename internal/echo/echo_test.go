package echo

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func newServer(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewHandler(opts))
	t.Cleanup(srv.Close)
	return srv
}

// do sends req and returns the response with its whole body.
func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// doJSON sends req asking for JSON and decodes the report, failing on
// anything but 200.
func doJSON(t *testing.T, req *http.Request) (Report, []byte) {
	t.Helper()
	req.Header.Set("Accept", "application/json")
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var rep Report
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	return rep, body
}

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestJSONShapeOfPlainGET(t *testing.T) {
	srv := newServer(t, Options{})
	req := newRequest(t, "GET", srv.URL+"/a%20b/c", nil)
	req.Header.Set("X-Two", "1")
	req.Header.Add("X-Two", "2")
	rep, raw := doJSON(t, req)

	if !regexp.MustCompile(`^127\.0\.0\.1:[0-9]+$`).MatchString(rep.Client) {
		t.Errorf("client = %q, want 127.0.0.1:PORT", rep.Client)
	}
	if rep.Method != "GET" || rep.Path != "/a b/c" || rep.Protocol != "HTTP/1.1" {
		t.Errorf("method, path, protocol = %q, %q, %q", rep.Method, rep.Path, rep.Protocol)
	}
	if got := rep.Headers["X-Two"]; !reflect.DeepEqual(got, []string{"1", "2"}) {
		t.Errorf("X-Two = %q", got)
	}
	if _, ok := rep.Headers["Host"]; ok {
		t.Error("headers include Host")
	}
	if rep.Body.Size != 0 {
		t.Errorf("size = %d, want 0", rep.Body.Size)
	}

	// The exact shape: the keys of the spec, and empty collections as {}
	// and [], never null.
	var shape map[string]any
	if err := json.Unmarshal(raw, &shape); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"client", "method", "path", "query", "protocol", "headers", "body"} {
		if _, ok := shape[key]; !ok {
			t.Errorf("no %q in %s", key, raw)
		}
	}
	if q, ok := shape["query"].(map[string]any); !ok || len(q) != 0 {
		t.Errorf("query = %#v, want {}", shape["query"])
	}
	body, _ := shape["body"].(map[string]any)
	if f, ok := body["form"].(map[string]any); !ok || len(f) != 0 {
		t.Errorf("body.form = %#v, want {}", body["form"])
	}
	if f, ok := body["files"].([]any); !ok || len(f) != 0 {
		t.Errorf("body.files = %#v, want []", body["files"])
	}
	if size, ok := body["size"].(float64); !ok || size != 0 {
		t.Errorf("body.size = %#v, want 0", body["size"])
	}
}

func TestQueryDecoding(t *testing.T) {
	srv := newServer(t, Options{})
	rep, _ := doJSON(t, newRequest(t, "GET", srv.URL+"/q?x=1&x=2&y=%C3%A9t%C3%A9&sp=a+b&empty=&flag&semi=a;b&bad=%zz", nil))
	// url.ParseQuery would drop the last two; an inspector shows them.
	want := map[string][]string{
		"x": {"1", "2"}, "y": {"été"}, "sp": {"a b"}, "empty": {""}, "flag": {""},
		"semi": {"a;b"}, "bad": {"%zz"},
	}
	if !reflect.DeepEqual(rep.Query, want) {
		t.Errorf("query = %q, want %q", rep.Query, want)
	}
	if rep.RawQuery != "x=1&x=2&y=%C3%A9t%C3%A9&sp=a+b&empty=&flag&semi=a;b&bad=%zz" {
		t.Errorf("raw_query = %q", rep.RawQuery)
	}
}

func TestChoosingJSON(t *testing.T) {
	srv := newServer(t, Options{})
	tests := []struct {
		name, query, accept string
		json                bool
	}{
		{"default is text", "", "", false},
		{"browser accept", "", "text/html,application/xhtml+xml,*/*;q=0.8", false},
		{"accept json", "", "application/json", true},
		{"json later in the list", "", "text/html, Application/JSON;q=0.5", true},
		{"format parameter", "?format=json", "", true},
		{"other format", "?format=text", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, "GET", srv.URL+"/"+tt.query, nil)
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			resp, body := do(t, req)
			ct := resp.Header.Get("Content-Type")
			isJSON := ct == "application/json" && json.Valid(body)
			if isJSON != tt.json || (!tt.json && ct != "text/plain; charset=utf-8") {
				t.Errorf("Content-Type %q, body %.40q…; want JSON %v", ct, body, tt.json)
			}
		})
	}
}

func TestURLEncodedForm(t *testing.T) {
	srv := newServer(t, Options{})
	const body = "a=1&b=two+words&a=%26%3D&&c&d=caf%C3%A9"
	req := newRequest(t, "POST", srv.URL+"/form", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rep, _ := doJSON(t, req)
	want := map[string][]string{"a": {"1", "&="}, "b": {"two words"}, "c": {""}, "d": {"café"}}
	if !reflect.DeepEqual(rep.Body.Form, want) {
		t.Errorf("form = %q, want %q", rep.Body.Form, want)
	}
	if rep.Body.Size != int64(len(body)) {
		t.Errorf("size = %d, want %d", rep.Body.Size, len(body))
	}
	if len(rep.Body.Files) != 0 {
		t.Errorf("files = %v, want none", rep.Body.Files)
	}
}

func TestURLEncodedBadEscapeShownAsReceived(t *testing.T) {
	srv := newServer(t, Options{})
	req := newRequest(t, "POST", srv.URL+"/", strings.NewReader("ok=1&bad=%zz"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rep, _ := doJSON(t, req)
	want := map[string][]string{"ok": {"1"}, "bad": {"%zz"}}
	if !reflect.DeepEqual(rep.Body.Form, want) {
		t.Errorf("form = %q, want %q", rep.Body.Form, want)
	}
	if len(rep.Body.Notes) != 1 {
		t.Errorf("notes = %q, want one about the escape", rep.Body.Notes)
	}
}

// multipartBody builds a form with one value and two files, and returns it
// with its content type and the files it should be reported to hold.
func multipartBody(t *testing.T) ([]byte, string, []File) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("name", "v"); err != nil {
		t.Fatal(err)
	}
	if err := mw.WriteField("name", "w w"); err != nil {
		t.Fatal(err)
	}
	binary := make([]byte, 100_000)
	rand.Read(binary)
	files := []struct {
		field, filename, ctype string
		data                   []byte
	}{
		{"f", "a.txt", "text/plain", []byte("abc")},
		// A relative name, as a folder upload sends it, is reported whole.
		{"g", "dir/b.bin", "application/octet-stream", binary},
	}
	var want []File
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.field, f.filename))
		h.Set("Content-Type", f.ctype)
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
		sum := sha256.Sum256(f.data)
		want = append(want, File{f.field, f.filename, int64(len(f.data)), f.ctype, hex.EncodeToString(sum[:])})
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType(), want
}

func TestMultipartForm(t *testing.T) {
	srv := newServer(t, Options{})
	body, ctype, wantFiles := multipartBody(t)
	req := newRequest(t, "POST", srv.URL+"/up", bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	rep, _ := doJSON(t, req)
	if rep.Body.Size != int64(len(body)) {
		t.Errorf("size = %d, want %d", rep.Body.Size, len(body))
	}
	if want := map[string][]string{"name": {"v", "w w"}}; !reflect.DeepEqual(rep.Body.Form, want) {
		t.Errorf("form = %q, want %q", rep.Body.Form, want)
	}
	if !reflect.DeepEqual(rep.Body.Files, wantFiles) {
		t.Errorf("files = %+v\nwant %+v", rep.Body.Files, wantFiles)
	}
}

func TestChunkedBodyWithTrailer(t *testing.T) {
	srv := newServer(t, Options{})
	const n = 300_000
	// An io.Reader of unknown length makes the client send chunks.
	body := io.MultiReader(strings.NewReader(strings.Repeat("z", n)))
	req := newRequest(t, "PUT", srv.URL+"/chunks", body)
	req.Trailer = http.Header{"X-Checksum": {"42"}}
	rep, _ := doJSON(t, req)
	if rep.Body.Size != n {
		t.Errorf("size = %d, want %d", rep.Body.Size, n)
	}
	if got := rep.Headers["Transfer-Encoding"]; !reflect.DeepEqual(got, []string{"chunked"}) {
		t.Errorf("Transfer-Encoding = %q, want chunked", got)
	}
	if got := rep.Headers["Trailer"]; !reflect.DeepEqual(got, []string{"X-Checksum"}) {
		t.Errorf("Trailer = %q, want X-Checksum", got)
	}
	if got := rep.Trailers["X-Checksum"]; !reflect.DeepEqual(got, []string{"42"}) {
		t.Errorf("trailer X-Checksum = %q, want 42", got)
	}
}

func TestHandBuiltRequestWithoutBody(t *testing.T) {
	req := &http.Request{Method: "GET", URL: &url.URL{Path: "/"}, Header: http.Header{}, Proto: "HTTP/1.1"}
	rec := httptest.NewRecorder()
	NewHandler(Options{MaxBody: 1}).ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("status %d: %s", rec.Code, rec.Body)
	}
}

func TestAnyMethodAnyPath(t *testing.T) {
	srv := newServer(t, Options{})
	for _, method := range []string{"GET", "POST", "DELETE", "PATCH", "OPTIONS", "FUNC", "PROPFIND"} {
		t.Run(method, func(t *testing.T) {
			rep, _ := doJSON(t, newRequest(t, method, srv.URL+"/any/where/"+method, strings.NewReader("12345")))
			if rep.Method != method || rep.Path != "/any/where/"+method || rep.Body.Size != 5 {
				t.Errorf("method %q path %q size %d", rep.Method, rep.Path, rep.Body.Size)
			}
		})
	}
}

func TestTextReport(t *testing.T) {
	srv := newServer(t, Options{})
	body, ctype, files := multipartBody(t)
	req := newRequest(t, "POST", srv.URL+"/some/path?b=2&a=1", bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("X-Zeta", "last")
	resp, got := do(t, req)
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	text := string(got)
	for _, want := range []string{
		"Request\n", "\nQuery\n", "\nHeaders\n", "\nBody\n", "\nForm\n", "\nFiles\n",
		`(?m)^  method +POST$`,
		`(?m)^  path +/some/path$`,
		`(?m)^  raw query +b=2&a=1$`,
		`\n  a  1\n  b  2\n`,
		fmt.Sprintf(`(?m)^  size +%d bytes$`, len(body)),
		`\n  name  v\n  name  w w\n`,
		`(?m)^  g +dir/b\.bin +100000 +application/octet-stream +` + files[1].SHA256 + `$`,
	} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("report does not match %s:\n%s", want, text)
		}
	}
	// Header names are sorted.
	if i, j := strings.Index(text, "Content-Type"), strings.Index(text, "X-Zeta"); i < 0 || j < i {
		t.Errorf("headers not sorted:\n%s", text)
	}
}

func TestTextEscapesControlCharacters(t *testing.T) {
	srv := newServer(t, Options{})
	// A raw connection, because Go's client refuses to send such headers.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprint(conn, "GET /p%1B%5B2Jx?q=%07%1B]0;title%07 HTTP/1.1\r\n"+
		"Host: x\r\nX-Bytes: \xff\xfe\r\nX-Rtl: a\u202eb\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	for _, b := range got {
		if b < 0x20 && b != '\n' || b == 0x7f {
			t.Fatalf("raw control byte %#x in report:\n%q", b, got)
		}
	}
	for _, want := range []string{`"/p\x1b[2Jx"`, `"\a\x1b]0;title\a"`, `"\xff\xfe"`, `"a\u202eb"`} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("report lacks %s:\n%s", want, got)
		}
	}
}

func TestMaxBody(t *testing.T) {
	srv := newServer(t, Options{MaxBody: 10})
	const reason = "413 Request Entity Too Large: body exceeds 10 bytes\n"
	multi, mtype, _ := multipartBody(t)
	tests := []struct {
		name   string
		body   io.Reader
		ctype  string
		status int
	}{
		{"at the limit", strings.NewReader("0123456789"), "", 200},
		{"declared over the limit", strings.NewReader("0123456789x"), "", 413},
		{"chunked over the limit", io.MultiReader(strings.NewReader("0123456789x")), "", 413},
		{"form over the limit", io.MultiReader(strings.NewReader("a=0123456789x")), "application/x-www-form-urlencoded", 413},
		{"multipart over the limit", io.MultiReader(bytes.NewReader(multi)), mtype, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, "POST", srv.URL+"/", tt.body)
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			resp, body := do(t, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status == 413 {
				if string(body) != reason {
					t.Errorf("body = %q, want %q", body, reason)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
					t.Errorf("Content-Type = %q", ct)
				}
			}
		})
	}
}

func TestMalformedMultipart(t *testing.T) {
	srv := newServer(t, Options{})
	valid, _, _ := multipartBody(t)
	boundary := string(valid[2:bytes.IndexByte(valid, '\r')])
	tests := []struct{ name, ctype, body string }{
		{"no boundary parameter", "multipart/form-data", "--x\r\n\r\n--x--\r\n"},
		{"no boundary in body", "multipart/form-data; boundary=xyz", "just some text"},
		{"empty body", "multipart/form-data; boundary=xyz", ""},
		{"cut short", "multipart/form-data; boundary=" + boundary, string(valid[:len(valid)/2])},
		{"bad part header", "multipart/form-data; boundary=xyz", "--xyz\r\nno colon here\r\n\r\nv\r\n--xyz--\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, "POST", srv.URL+"/?format=json", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ctype)
			resp, body := do(t, req)
			var rep Report
			if err := json.Unmarshal(body, &rep); err != nil {
				t.Fatalf("got %d %q, want a JSON report", resp.StatusCode, body)
			}
			if resp.StatusCode != 200 || rep.Body.Size != int64(len(tt.body)) ||
				len(rep.Body.Notes) == 0 || !strings.Contains(strings.Join(rep.Body.Notes, " "), "multipart") {
				t.Errorf("got %d, size %d of %d, notes %q; want 200, every byte counted, a note on the fault",
					resp.StatusCode, rep.Body.Size, len(tt.body), rep.Body.Notes)
			}
		})
	}
}

func TestLongValuesAreCut(t *testing.T) {
	srv := newServer(t, Options{})
	long := strings.Repeat("é", 60_000) // 120,000 bytes

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("long", long)
	mw.Close()

	tests := []struct{ name, ctype, body string }{
		{"multipart", mw.FormDataContentType(), buf.String()},
		{"urlencoded", "application/x-www-form-urlencoded", "x=1&long=" + strings.Repeat("%C3%A9", 60_000) + "&y=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, "POST", srv.URL+"/", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ctype)
			rep, _ := doJSON(t, req)
			if rep.Body.Size != int64(len(tt.body)) {
				t.Errorf("size = %d, want %d", rep.Body.Size, len(tt.body))
			}
			got := rep.Body.Form["long"]
			if len(got) != 1 || !strings.HasPrefix(long, strings.TrimRight(got[0], "\uFFFD")) || len(got[0]) < MaxValue-3 {
				t.Errorf("long value of %d bytes not cut to about %d", len(got[0]), MaxValue)
			}
			// The body itself is over MaxText too, which has a note of its own.
			if len(rep.Body.Notes) != 2 || !strings.Contains(rep.Body.Notes[0], `"long"`) ||
				!strings.Contains(rep.Body.Notes[1], "body not shown") {
				t.Errorf("notes = %q, want one about long and one about the body", rep.Body.Notes)
			}
		})
	}
}

func TestFieldCountIsBounded(t *testing.T) {
	srv := newServer(t, Options{})
	var b strings.Builder
	for i := range MaxFields + 500 {
		fmt.Fprintf(&b, "f%d=%d&", i, i)
	}
	req := newRequest(t, "POST", srv.URL+"/", strings.NewReader(b.String()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rep, _ := doJSON(t, req)
	if len(rep.Body.Form) != MaxFields {
		t.Errorf("%d fields kept, want %d", len(rep.Body.Form), MaxFields)
	}
	if want := []string{"500 more form fields not shown"}; !reflect.DeepEqual(rep.Body.Notes, want) {
		t.Errorf("notes = %q, want %q", rep.Body.Notes, want)
	}
}

func TestCurlUpload(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not found; skipping the test with a real third-party client")
	}
	srv := newServer(t, Options{})
	dir := t.TempDir()
	data := []byte("hello from curl\n")
	file := filepath.Join(dir, "greeting.txt")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(curl, "-sS", "--max-time", "30",
		"-H", "Accept: application/json",
		"-F", "name=value",
		"-F", "doc=@"+file+";type=text/plain",
		srv.URL+"/upload?k=v").Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	var rep Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	sum := sha256.Sum256(data)
	wantFiles := []File{{"doc", "greeting.txt", int64(len(data)), "text/plain", hex.EncodeToString(sum[:])}}
	if !reflect.DeepEqual(rep.Body.Files, wantFiles) {
		t.Errorf("files = %+v, want %+v", rep.Body.Files, wantFiles)
	}
	if want := map[string][]string{"name": {"value"}}; !reflect.DeepEqual(rep.Body.Form, want) {
		t.Errorf("form = %q, want %q", rep.Body.Form, want)
	}
	if rep.Method != "POST" || rep.Query["k"][0] != "v" || !strings.HasPrefix(rep.Headers["User-Agent"][0], "curl/") {
		t.Errorf("report: %s", out)
	}
	if rep.Body.Size <= int64(len(data)) {
		t.Errorf("size = %d, want the whole multipart body", rep.Body.Size)
	}
}

func TestLargeUploadUsesFlatMemory(t *testing.T) {
	size := int64(256 << 20)
	if testing.Short() {
		size = 16 << 20
	}
	srv := newServer(t, Options{})

	// The body is generated as it is sent, so that only the server's
	// memory use is being measured.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	hash := sha256.New()
	var bodySize int64
	go func() {
		fw, err := mw.CreateFormFile("big", "big.bin")
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		block := make([]byte, 1<<20)
		for i := int64(0); i < size; i += int64(len(block)) {
			block[0], block[1] = byte(i>>20), byte(i>>28)
			hash.Write(block)
			if _, err := fw.Write(block); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	counted := &countingReader{r: pr}

	var baseline runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&baseline)
	var (
		mu   sync.Mutex
		peak uint64
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				mu.Lock()
				peak = max(peak, m.HeapInuse)
				mu.Unlock()
			}
		}
	}()

	req := newRequest(t, "POST", srv.URL+"/big", counted)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rep, _ := doJSON(t, req)
	close(stop)
	<-done
	bodySize = counted.n

	if rep.Body.Size != bodySize {
		t.Errorf("size = %d, want %d", rep.Body.Size, bodySize)
	}
	want := File{"big", "big.bin", size, "application/octet-stream", hex.EncodeToString(hash.Sum(nil))}
	if len(rep.Body.Files) != 1 || rep.Body.Files[0] != want {
		t.Errorf("files = %+v, want %+v", rep.Body.Files, want)
	}
	mu.Lock()
	defer mu.Unlock()
	grew := int64(peak) - int64(baseline.HeapInuse)
	t.Logf("heap in use grew by at most %d KiB while streaming %d MiB", grew>>10, size>>20)
	if grew > 32<<20 {
		t.Errorf("heap grew by %d MiB while streaming %d MiB", grew>>20, size>>20)
	}
}

// TestBodyItself covers issue 11 item 24: the report carries the body when
// it is text of at most MaxText bytes, otherwise a note; its SHA-256 always.
func TestBodyItself(t *testing.T) {
	srv := newServer(t, Options{})
	binary := []byte("PNG\x00\x01\x02\xff")
	tests := []struct {
		name, ctype string
		body        []byte
		shown       bool
		note        string
	}{
		{"empty", "", nil, true, ""},
		{"json", "application/json", []byte(`{"a": [1, 2], "b": "<é&>"}`), true, ""},
		{"text with escapes and CRLF", "text/plain", []byte("tab\there\r\nesc \x1b[31mred\n"), true, ""},
		{"urlencoded form", "application/x-www-form-urlencoded", []byte("a=1&b=%20"), true, ""},
		{"exactly the limit", "text/plain", bytes.Repeat([]byte("x"), MaxText), true, ""},
		{"one over the limit", "text/plain", bytes.Repeat([]byte("x"), MaxText+1), false, "larger than 65536 bytes"},
		{"binary", "application/octet-stream", binary, false, "binary"},
		{"invalid UTF-8", "text/plain", []byte("caf\xe9"), false, "binary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, "POST", srv.URL+"/", bytes.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			rep, raw := doJSON(t, req)
			sum := sha256.Sum256(tt.body)
			if rep.Body.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("sha256 = %q, want %x", rep.Body.SHA256, sum)
			}
			switch {
			case tt.shown && (rep.Body.Text == nil || *rep.Body.Text != string(tt.body)):
				t.Errorf("text = %v, want the body %q", rep.Body.Text, tt.body)
			case !tt.shown && rep.Body.Text != nil:
				t.Errorf("text shown: %q", *rep.Body.Text)
			case !tt.shown && !strings.Contains(strings.Join(rep.Body.Notes, "\n"), tt.note):
				t.Errorf("notes %q lack %q", rep.Body.Notes, tt.note)
			case tt.shown && len(rep.Body.Notes) > 0:
				t.Errorf("notes %q", rep.Body.Notes)
			}
			if tt.shown && len(tt.body) < 100 && !bytes.Contains(raw, []byte(`"text": `)) {
				t.Errorf("no text key in %s", raw)
			}
		})
	}
}

func TestTextReportShowsTheBody(t *testing.T) {
	srv := newServer(t, Options{})
	body := "first line\n  indented \tby a tab\r\nesc \x1b[2J and \u202e\nlast, no newline"
	req := newRequest(t, "PUT", srv.URL+"/x", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain")
	_, got := do(t, req)
	want := "\nBody text\n" +
		"  first line\n" +
		"    indented \\tby a tab\\r\n" +
		"  esc \\x1b[2J and \\u202e\n" +
		"  last, no newline\n" +
		"  (no newline at end of body)\n"
	if !strings.Contains(string(got), want) {
		t.Errorf("report lacks %q:\n%s", want, got)
	}
	sum := sha256.Sum256([]byte(body))
	if !regexp.MustCompile(`(?m)^  sha256 +` + hex.EncodeToString(sum[:]) + `$`).Match(got) {
		t.Errorf("no sha256 row:\n%s", got)
	}

	req = newRequest(t, "PUT", srv.URL+"/x", bytes.NewReader([]byte{0, 1, 2, 0xff}))
	_, got = do(t, req)
	if bytes.Contains(got, []byte("Body text")) || !bytes.Contains(got, []byte("body not shown: binary")) {
		t.Errorf("binary body:\n%s", got)
	}
}

// TestHeaderValuesAsSent: values keep their order, duplicates, commas and
// quotes; JSON does not HTML-escape them. net/http canonicalises names and
// trims the spaces around a value (RFC 9110 §5.5: they are not part of it).
func TestHeaderValuesAsSent(t *testing.T) {
	srv := newServer(t, Options{})
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprint(conn, "GET /?format=json HTTP/1.1\r\nHost: x\r\n"+
		"X-Multi: second, third\r\nIf-None-Match: \"abc\", W/\"d\"\r\nx-multi: first\r\n"+
		"X-Html: <a href='x'>&amp;</a>\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Headers["X-Multi"], []string{"second, third", "first"}; !reflect.DeepEqual(got, want) {
		t.Errorf("X-Multi = %q, want %q", got, want)
	}
	if !bytes.Contains(raw, []byte(`"<a href='x'>&amp;</a>"`)) {
		t.Errorf("JSON escapes the value:\n%s", raw)
	}

	req := newRequest(t, "GET", srv.URL+"/", nil)
	req.Header.Set("If-None-Match", `"abc", W/"d"`)
	_, got := do(t, req)
	if !regexp.MustCompile(`(?m)^  If-None-Match +"abc", W/"d"$`).Match(got) {
		t.Errorf("text report does not show the ETag as sent:\n%s", got)
	}
}
