package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

type echoReport struct {
	Client   string              `json:"client"`
	Method   string              `json:"method"`
	Path     string              `json:"path"`
	Query    map[string][]string `json:"query"`
	Protocol string              `json:"protocol"`
	Headers  map[string][]string `json:"headers"`
	Body     struct {
		Size   int64               `json:"size"`
		SHA256 string              `json:"sha256"`
		Text   *string             `json:"text"`
		Form   map[string][]string `json:"form"`
		Files  []echoFile          `json:"files"`
		Notes  []string            `json:"notes"`
	} `json:"body"`
}

type echoFile struct {
	Field       string `json:"field"`
	Filename    string `json:"filename"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"`
}

func echoSHA(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestEchoWithCurl(t *testing.T) {
	curl := NeedCommand(t, "curl")
	dir := t.TempDir()
	fileA := []byte("hello from a\n")
	fileB := make([]byte, 70_000)
	for i := range fileB {
		fileB[i] = byte(i * 7)
	}
	chunked := []byte(strings.Repeat("streamed body ", 1000))
	for name, data := range map[string][]byte{"a.txt": fileA, "b.bin": fileB, "chunked.txt": chunked} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := Start(t, dir, "echo", "-p", "0", "-b", "127.0.0.1")

	type want struct {
		method   string
		path     string
		query    map[string][]string
		headers  map[string][]string // must be present with these values
		noHeader []string
		size     int64 // -1: equal to Content-Length
		form     map[string][]string
		files    []echoFile
	}
	cases := []struct {
		name string
		args []string
		url  string
		want want
	}{
		{"multipart with two files", []string{"-F", "f=@a.txt", "-F", "g=@b.bin;type=application/octet-stream", "-F", "name=v"},
			"/x?a=1&a=2&b=%20c", want{method: "POST", path: "/x", query: map[string][]string{"a": {"1", "2"}, "b": {" c"}},
				size: -1, form: map[string][]string{"name": {"v"}},
				files: []echoFile{
					{"f", "a.txt", int64(len(fileA)), "text/plain", echoSHA(fileA)},
					{"g", "b.bin", int64(len(fileB)), "application/octet-stream", echoSHA(fileB)},
				}}},
		{"urlencoded", []string{"-d", "name=ferry&x=1&x=2"}, "/form", want{method: "POST", path: "/form", query: map[string][]string{},
			headers: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}},
			size:    18, form: map[string][]string{"name": {"ferry"}, "x": {"1", "2"}}, files: []echoFile{}}},
		{"custom headers", []string{"-H", "X-Custom: one", "-H", "X-Other: two"}, "/h/%C3%A9",
			want{method: "GET", path: "/h/é", query: map[string][]string{},
				headers: map[string][]string{"X-Custom": {"one"}, "X-Other": {"two"}}, noHeader: []string{"Host"},
				form: map[string][]string{}, files: []echoFile{}}},
		{"chunked", []string{"-H", "Transfer-Encoding: chunked", "-H", "Content-Type: text/plain", "--data-binary", "@chunked.txt"}, "/c",
			want{method: "POST", path: "/c", query: map[string][]string{},
				headers: map[string][]string{"Transfer-Encoding": {"chunked"}}, noHeader: []string{"Content-Length"},
				size: int64(len(chunked)), form: map[string][]string{}, files: []echoFile{}}},
		{"custom method", []string{"-X", "FUNC"}, "/f?q", want{method: "FUNC", path: "/f", query: map[string][]string{"q": {""}},
			form: map[string][]string{}, files: []echoFile{}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, format := range []string{"json-query", "json-accept", "text"} {
				args := append([]string{"-sS", "--fail-with-body"}, c.args...)
				u := p.URL + c.url
				switch format {
				case "json-query":
					if strings.Contains(u, "?") {
						u += "&format=json"
					} else {
						u += "?format=json"
					}
				case "json-accept":
					args = append(args, "-H", "Accept: text/html;q=0.5, application/json")
				}
				cmd := exec.Command(curl, append(args, u)...)
				cmd.Dir = dir
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("%s: curl: %v\n%s", format, err, out)
				}
				if format == "text" {
					checkEchoText(t, string(out), c.want.method, c.want.files)
					continue
				}
				var rep echoReport
				if err := json.Unmarshal(out, &rep); err != nil {
					t.Fatalf("%s: not JSON: %v\n%s", format, err, out)
				}
				w := c.want
				host, port, err := net.SplitHostPort(rep.Client)
				if n, _ := strconv.Atoi(port); err != nil || host != "127.0.0.1" || n <= 0 {
					t.Errorf("%s: client %q", format, rep.Client)
				}
				if rep.Method != w.method || rep.Path != w.path || rep.Protocol != "HTTP/1.1" {
					t.Errorf("%s: method/path/protocol %q %q %q", format, rep.Method, rep.Path, rep.Protocol)
				}
				delete(rep.Query, "format")
				if !reflect.DeepEqual(rep.Query, w.query) {
					t.Errorf("%s: query %v, want %v", format, rep.Query, w.query)
				}
				if ua := rep.Headers["User-Agent"]; len(ua) != 1 || !strings.HasPrefix(ua[0], "curl/") {
					t.Errorf("%s: User-Agent %v", format, ua)
				}
				for k, v := range w.headers {
					if !reflect.DeepEqual(rep.Headers[k], v) {
						t.Errorf("%s: header %s = %v, want %v", format, k, rep.Headers[k], v)
					}
				}
				for _, k := range append([]string{"Host"}, w.noHeader...) {
					if _, ok := rep.Headers[k]; ok {
						t.Errorf("%s: header %s reported", format, k)
					}
				}
				size := w.size
				if size == -1 {
					size, _ = strconv.ParseInt(rep.Headers["Content-Length"][0], 10, 64)
				}
				if rep.Body.Size != size {
					t.Errorf("%s: body size %d, want %d", format, rep.Body.Size, size)
				}
				if !reflect.DeepEqual(rep.Body.Form, w.form) {
					t.Errorf("%s: form %v, want %v", format, rep.Body.Form, w.form)
				}
				if !reflect.DeepEqual(rep.Body.Files, w.files) {
					t.Errorf("%s: files %+v, want %+v", format, rep.Body.Files, w.files)
				}
			}
		})
	}
	// The raw JSON says [] and {} for nothing, never null.
	out, err := exec.Command(curl, "-sS", p.URL+"/?format=json").Output()
	if err != nil || !strings.Contains(string(out), `"files": []`) || !strings.Contains(string(out), `"form": {}`) {
		t.Errorf("empty form/files: %v\n%s", err, out)
	}
}

// checkEchoText looks for the report's rows in the plain-text format.
func checkEchoText(t *testing.T, out, method string, files []echoFile) {
	t.Helper()
	rows := []string{`client\s+127\.0\.0\.1:\d+`, `method\s+` + method, `protocol\s+HTTP/1\.1`, `size\s+\d+ bytes`, `User-Agent\s+curl/\S+`}
	for _, f := range files {
		rows = append(rows, regexp.QuoteMeta(f.Field)+`\s+`+regexp.QuoteMeta(f.Filename)+`\s+`+strconv.FormatInt(f.Size, 10)+
			`\s+`+regexp.QuoteMeta(f.ContentType)+`\s+`+f.SHA256)
	}
	for _, r := range rows {
		if !regexp.MustCompile(`(?m)^  ` + r + `$`).MatchString(out) {
			t.Errorf("text report lacks a row matching %q:\n%s", r, out)
		}
	}
	if strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Errorf("text report is JSON")
	}
}

func TestEchoMaxBody(t *testing.T) {
	curl := NeedCommand(t, "curl")
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"big.txt": strings.Repeat("x", 3000), "small.txt": "ok"})
	p := Start(t, dir, "echo", "-p", "0", "-b", "127.0.0.1", "--max-body", "1K")
	for _, c := range []struct {
		name string
		args []string
		code string
	}{
		{"declared length over", []string{"--data-binary", "@big.txt"}, "413"},
		{"chunked over", []string{"-H", "Transfer-Encoding: chunked", "--data-binary", "@big.txt"}, "413"},
		{"multipart over", []string{"-F", "f=@big.txt"}, "413"},
		{"under", []string{"--data-binary", "@small.txt"}, "200"},
	} {
		cmd := exec.Command(curl, append([]string{"-s", "-o", "/dev/null", "-w", "%{http_code}"}, append(c.args, p.URL+"/")...)...)
		cmd.Dir = dir
		out, _ := cmd.Output()
		if string(out) != c.code {
			t.Errorf("%s: status %s, want %s", c.name, out, c.code)
		}
	}
}

func TestEchoCommandLine(t *testing.T) {
	dir := t.TempDir()
	code, out, _ := Run(t, dir, 10*time.Second, "echo", "-h")
	if code != 0 || !strings.Contains(out, "curl -F f=@a.txt http://localhost:8000/x?a=1") || !strings.Contains(out, "--max-body") {
		t.Errorf("echo -h: exit %d\n%s", code, out)
	}
	code, _, errOut := Run(t, dir, 10*time.Second, "echo", "--max-body", "lots")
	if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "--max-body") {
		t.Errorf("bad --max-body: exit %d, stderr %q", code, errOut)
	}
	code, out, _ = Run(t, dir, 10*time.Second, "-h")
	if code != 0 || !strings.Contains(out, "ferry echo") || !strings.Contains(out, "ferry time") || !strings.Contains(out, "--cgi") {
		t.Errorf("ferry -h: exit %d\n%s", code, out)
	}

	// Logs, and a clean exit on Ctrl-C.
	p := Start(t, dir, "echo", "-p", "0", "-b", "127.0.0.1", "--log", "json")
	Do(t, "PATCH", p.URL+"/logged", nil)
	if !p.WaitOutput(`"method":"PATCH"`, 5*time.Second) {
		t.Errorf("no JSON log line:\n%s", p.Stdout())
	}
	p.Signal(syscall.SIGINT)
	if code := p.Wait(5 * time.Second); code != 0 {
		t.Errorf("exit %d after SIGINT", code)
	}
	if !strings.Contains(p.Stdout(), "stopped") {
		t.Errorf("no stop message:\n%s", p.Stdout())
	}
}

// TestEchoShowsTheBody covers issue 11 item 24 through curl: a text body is
// in both reports, a binary or large one is a note and a SHA-256, and
// header values are shown as sent.
func TestEchoShowsTheBody(t *testing.T) {
	curl := NeedCommand(t, "curl")
	dir := t.TempDir()
	text := "{\"name\": \"ferry\", \"tags\": [\"<b>\", \"a&b\"]}\nsecond line\n"
	binary := make([]byte, 5000)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	large := strings.Repeat("0123456789abcdef\n", 70_000/17)
	WriteFiles(t, dir, map[string]string{"text.json": text, "bin.dat": string(binary), "large.txt": large})
	p := Start(t, dir, "echo", "-p", "0", "-b", "127.0.0.1")

	curlOut := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(curl, append([]string{"-sS", "--fail-with-body"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, out)
		}
		return out
	}
	for _, c := range []struct {
		name  string
		args  []string
		body  string
		shown bool
		note  string
	}{
		{"text", []string{"-H", "Content-Type: application/json", "--data-binary", "@text.json"}, text, true, ""},
		{"chunked text", []string{"-H", "Transfer-Encoding: chunked", "-H", "Content-Type: application/json", "--data-binary", "@text.json"}, text, true, ""},
		{"binary", []string{"-H", "Content-Type: application/octet-stream", "--data-binary", "@bin.dat"}, string(binary), false, "binary"},
		{"large", []string{"-H", "Content-Type: text/plain", "--data-binary", "@large.txt"}, large, false, "larger than 65536 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var rep echoReport
			out := curlOut(append(c.args, p.URL+"/b?format=json")...)
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			if rep.Body.Size != int64(len(c.body)) || rep.Body.SHA256 != echoSHA([]byte(c.body)) {
				t.Errorf("size %d sha256 %s, want %d %s", rep.Body.Size, rep.Body.SHA256, len(c.body), echoSHA([]byte(c.body)))
			}
			notes := strings.Join(rep.Body.Notes, "\n")
			if c.shown && (rep.Body.Text == nil || *rep.Body.Text != c.body) {
				t.Errorf("body.text = %v, want %q", rep.Body.Text, c.body)
			}
			if !c.shown && (rep.Body.Text != nil || !strings.Contains(notes, c.note)) {
				t.Errorf("body.text %v, notes %q; want no text and a note %q", rep.Body.Text, notes, c.note)
			}
			if c.shown && !strings.Contains(string(out), `\"<b>\", \"a&b\"`) {
				t.Errorf("JSON escapes the text:\n%s", out)
			}

			report := string(curlOut(append(c.args, p.URL+"/b")...))
			if !regexp.MustCompile(`(?m)^  sha256 +` + echoSHA([]byte(c.body)) + `$`).MatchString(report) {
				t.Errorf("text report lacks the sha256:\n%s", report)
			}
			wantText := "\nBody text\n  {\"name\": \"ferry\", \"tags\": [\"<b>\", \"a&b\"]}\n  second line\n"
			if c.shown != strings.Contains(report, wantText) || !c.shown && !strings.Contains(report, c.note) {
				t.Errorf("text report (body shown: %v):\n%s", c.shown, report)
			}
		})
	}

	t.Run("header values as sent", func(t *testing.T) {
		args := []string{"-H", `If-None-Match: "v1", W/"v0"`, "-H", "X-Dup: b, c", "-H", "X-Dup: a", "-H", "X-Html: <a&b>"}
		out := curlOut(append(args, p.URL+"/h?format=json")...)
		var rep echoReport
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatal(err)
		}
		if got := rep.Headers["X-Dup"]; !reflect.DeepEqual(got, []string{"b, c", "a"}) {
			t.Errorf("X-Dup = %q, want in the order sent", got)
		}
		if !strings.Contains(string(out), `"<a&b>"`) {
			t.Errorf("JSON does not show X-Html as sent:\n%s", out)
		}
		report := string(curlOut(append(args, p.URL+"/h")...))
		for _, row := range []string{`If-None-Match +"v1", W/"v0"`, `X-Dup +b, c\n  X-Dup +a`, `X-Html +<a&b>`} {
			if !regexp.MustCompile(`(?m)^  ` + row + `$`).MatchString(report) {
				t.Errorf("text report lacks %s:\n%s", row, report)
			}
		}
	})
}
