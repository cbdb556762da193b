package e2e

import (
	"bytes"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// namesControls are the characters no created name may hold beyond C0 and
// DEL: C1 controls and the bidirectional controls (issue 11 item 13). The
// last one is how "evil<RLO>txt.exe" shows as "evilexe.txt".
var namesControls = []rune{0x85, 0x9b, 0x9f, 0x061c, 0x200e, 0x200f, 0x202a, 0x202c, 0x2066, 0x2069, 0x202e}

// Every way a name is created refuses control characters with 400 and
// writes nothing, and every log format shows them escaped.
func TestNamesRefuseControlCharacters(t *testing.T) {
	for _, format := range []string{"text", "json", "combined"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			WriteFiles(t, dir, map[string]string{"a.txt": "a", "sub/b.txt": "b"})
			p := Start(t, dir, "-p", "0", "-w", "--log", format)
			addr := wrAddr(p)
			for _, r := range namesControls {
				// Each way gets a name of its own, so that one refusal
				// cannot hide behind another's 409.
				name := func(how string) string { return "x" + string(r) + "txt-" + how + ".exe" }
				esc := func(how string) string { return url.PathEscape(name(how)) }
				check := func(how string, status int, body []byte) {
					t.Helper()
					if status != 400 {
						t.Errorf("%U by %s: %d %s", r, how, status, body)
					}
				}
				resp, b := Do(t, "PUT", p.URL+"/"+esc("put"), strings.NewReader("x"))
				check("PUT", resp.StatusCode, b)
				resp, b = Do(t, "PUT", p.URL+"/sub/"+esc("putdir")+"/y.txt", strings.NewReader("x"))
				check("PUT into a new folder", resp.StatusCode, b)
				body, ct := wrMultipart(wrFile(name("post"), []byte("x")))
				resp, b = Do(t, "POST", p.URL+"/", bytes.NewReader(body), "Content-Type", ct)
				check("multipart filename", resp.StatusCode, b)
				body, ct = wrMultipart(wrFile(name("postdir")+"/y.txt", []byte("x")))
				resp, b = Do(t, "POST", p.URL+"/", bytes.NewReader(body), "Content-Type", ct)
				check("multipart folder upload", resp.StatusCode, b)
				resp, b = Do(t, "POST", p.URL+"/", strings.NewReader("mkdir="+url.QueryEscape(name("mkdir"))), "Content-Type", "application/x-www-form-urlencoded")
				check("mkdir form", resp.StatusCode, b)
				resp, b = Do(t, "MKCOL", p.URL+"/"+esc("mkcol")+"/", nil)
				check("MKCOL", resp.StatusCode, b)
				for _, m := range []string{"COPY", "MOVE"} {
					WriteFiles(t, dir, map[string]string{"a.txt": "a"}) // in case a MOVE took it
					resp, b = Do(t, m, p.URL+"/a.txt", nil, "Destination", p.URL+"/"+esc(m))
					check(m+" Destination", resp.StatusCode, b)
				}
				resp, b = newTus(t, p.URL).do("POST", p.URL+"/.ferry/tus/", nil, "Upload-Length", "1",
					"Upload-Metadata", tusMeta("filename", name("tus")))
				check("tus filename", resp.StatusCode, b)
				// Sent raw, not percent-encoded: the path and the request
				// target the logs hold carry the character itself.
				raw := RawRequest(t, addr, "PUT /"+name("raw")+" HTTP/1.1\r\nHost: "+addr+"\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx", 5*time.Second)
				status, _ := strconv.Atoi(statusOf(raw))
				check("raw PUT", status, []byte(wrFirstLine(raw)))
			}
			if got := wrNoTemps(t, dir); !slices.Equal(got, []string{"a.txt", "sub/", "sub/b.txt"}) {
				t.Errorf("folder holds %v after refused writes", got)
			}

			Do(t, "GET", p.URL+"/last-marker", nil)
			if !p.WaitOutput("last-marker", 5*time.Second) {
				t.Fatalf("no line for /last-marker:\n%s", p.Stdout())
			}
			out := p.Stdout()
			for _, c := range out {
				if c >= 0x80 && (unicode.Is(unicode.Cc, c) || unicode.Is(unicode.Bidi_Control, c)) {
					t.Fatalf("raw %U in the %s log:\n%q", c, format, out)
				}
			}
			// The raw PUT's line shows the character as an escape.
			for _, want := range []string{`x\u202etxt-raw.exe`, `x\u0085txt-raw.exe`, `x\u2066txt-raw.exe`} {
				if !strings.Contains(out, want) {
					t.Errorf("%s log has no %s:\n%s", format, want, out)
				}
			}
		})
	}
}

// A PUT names a file: empty and "." components and a trailing slash are
// refused with 400, not dropped, and nothing is written (issue 11 item 16).
// The paths go out as written, through a raw socket and curl --path-as-is.
func TestNamesPutPathSpelling(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"sub/keep.txt": "k"})
	p := Start(t, dir, "-p", "0", "--upload", "--overwrite")
	addr := wrAddr(p)
	refused := []struct{ method, path string }{
		{"PUT", "/a//b.txt"}, {"PUT", "//b.txt"}, {"PUT", "/./x.txt"}, {"PUT", "/sub/./x.txt"},
		{"PUT", "/sub/%2e/x.txt"}, {"PUT", "/sub//x.txt"}, {"PUT", "/sub/x.txt/."}, {"PUT", "/newdir/"},
		{"PUT", "/sub/new/"}, {"PUT", "/sub/keep.txt/"}, {"MKCOL", "/a//b/"}, {"MKCOL", "/./c/"}, {"MKCOL", "/sub/./d/"},
	}
	for _, c := range refused {
		raw := c.method + " " + c.path + " HTTP/1.1\r\nHost: " + addr + "\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"
		if c.method == "MKCOL" {
			raw = c.method + " " + c.path + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n"
		}
		resp := RawRequest(t, addr, raw, 5*time.Second)
		if statusOf(resp) != "400" {
			t.Errorf("%s %s: %q", c.method, c.path, wrFirstLine(resp))
		}
	}
	if got := wrNoTemps(t, dir); !slices.Equal(got, []string{"sub/", "sub/keep.txt"}) {
		t.Errorf("folder holds %v after refused PUTs", got)
	}

	// The same through curl, which would squash "/./" and "//" without
	// --path-as-is.
	curl := NeedCommand(t, "curl")
	for _, path := range []string{"/a//b.txt", "/./x.txt", "/sub/./x.txt", "/newdir/"} {
		out, err := exec.Command(curl, "-sS", "--path-as-is", "-o", "/dev/null", "-w", "%{http_code}",
			"-T", "-", p.URL+path).CombinedOutput()
		if err != nil || string(out) != "400" {
			t.Errorf("curl --path-as-is -T - %s: %s %v", path, out, err)
		}
	}
	if got := wrNoTemps(t, dir); !slices.Equal(got, []string{"sub/", "sub/keep.txt"}) {
		t.Errorf("folder holds %v after refused curl uploads", got)
	}

	// What stays allowed: a plain PUT, and MKCOL with its trailing slash.
	for _, c := range []struct{ method, path, want string }{
		{"PUT", "/sub/x.txt", "201"}, {"PUT", "/sub/x.txt", "204"}, {"MKCOL", "/newdir/", "201"}, {"MKCOL", "/other", "201"},
	} {
		resp, _ := Do(t, c.method, p.URL+c.path, strings.NewReader(""))
		if got := resp.Status[:3]; got != c.want {
			t.Errorf("%s %s = %s, want %s", c.method, c.path, got, c.want)
		}
	}
}
