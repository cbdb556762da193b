package e2e

import (
	"strings"
	"testing"
	"time"
)

// Regression tests for gaps found by re-reading SPEC.md statement by
// statement against the built binary (/work/notes/spec-audit.md).

// TestSpecReservedAnyCase: /.ferry/ "never serves files from DIR", and on a
// case-insensitive disk (macOS, Windows) .FERRY is that very folder, where
// share records, locks and dead properties live; partial uploads likewise.
// So every spelling of the reserved name and of the partial-upload prefix is
// refused for writes and absent for reads, even with --hidden.
func TestSpecReservedAnyCase(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		".FERRY/secret.txt":    "LEAK",
		".Ferry-Part-X":        "LEAK",
		".visible/ok.txt":      "ok",
		"sub/.FERRY/below.txt": "below",
	})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-q", "--hidden", "-w")
	for _, c := range []struct {
		method, path string
		want         int
		hdr          []string
	}{
		{"GET", "/.visible/ok.txt", 200, nil},
		{"GET", "/.FERRY/secret.txt", 404, nil},
		{"GET", "/.FERRY/", 404, nil},
		{"GET", "/.Ferry-Part-X", 404, nil},
		{"DELETE", "/.FERRY/secret.txt", 404, nil},
		// Under another spelling of /.ferry/ a write finds nothing, as
		// under "/%2eferry/" (TestAuditFerryPrefixAliases).
		{"PUT", "/.FERRY/new.txt", 404, nil},
		{"PUT", "/.Ferry/x.txt", 404, nil},
		{"MKCOL", "/.fErRy/", 404, nil},
		{"PUT", "/.FERRY-PART-Y", 400, nil},
		{"MOVE", "/.visible/ok.txt", 400, []string{"Destination", p.URL + "/.FERRY/moved.txt"}},
		// Only the top-level name is reserved: deeper folders are the user's.
		{"GET", "/sub/.FERRY/below.txt", 200, nil},
	} {
		resp, body := Do(t, c.method, p.URL+c.path, nil, c.hdr...)
		if resp.StatusCode != c.want || strings.Contains(string(body), "LEAK") {
			t.Errorf("%s %s: %d %.60q, want %d", c.method, c.path, resp.StatusCode, body, c.want)
		}
	}
	_, listing := Do(t, "GET", p.URL+"/?format=json", nil)
	if strings.Contains(strings.ToLower(string(listing)), `".ferry`) {
		t.Errorf("listing shows a reserved spelling: %s", listing)
	}
	if !strings.Contains(string(listing), `".visible"`) {
		t.Errorf("listing lost a dotfolder: %s", listing)
	}
}

// TestSpecErrorReasonOnce: an error body is "CODE Reason" with a detail only
// when there is something to add; a MOVE or COPY of a missing source said
// "404 Not Found: Not Found".
func TestSpecErrorReasonOnce(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-q", "-w")
	for _, m := range []string{"MOVE", "COPY", "DELETE"} {
		resp, body := Do(t, m, p.URL+"/missing.txt", nil, "Destination", p.URL+"/b.txt")
		if resp.StatusCode != 404 || string(body) != "404 Not Found\n" {
			t.Errorf("%s of a missing file: %d %q, want 404 %q", m, resp.StatusCode, body, "404 Not Found\n")
		}
	}
}

// TestSpecEmptyFileRanges: an empty file has no byte a range could select;
// a suffix range ("bytes=-5", what a resuming client may send) got 206 with
// the unparseable "Content-Range: bytes 0--1/0". Every range of an empty file
// is ignored: 200, empty body, no Content-Range (RFC 9110 §14.2 lets a
// server ignore Range).
func TestSpecEmptyFileRanges(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"empty.txt": ""})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-q")
	for _, rg := range []string{"bytes=-5", "bytes=-1,-2", "bytes=0-", "bytes=0-0", "bytes=-0"} {
		for _, m := range []string{"GET", "HEAD"} {
			for round := range 2 { // the second time from the cache of open files
				resp, body := Do(t, m, p.URL+"/empty.txt", nil, "Range", rg)
				if resp.StatusCode != 200 || resp.Header.Get("Content-Range") != "" || len(body) != 0 {
					t.Errorf("%s %q round %d: %d Content-Range %q, %d bytes; want 200, none, 0",
						m, rg, round, resp.StatusCode, resp.Header.Get("Content-Range"), len(body))
				}
			}
		}
	}
}

// TestSpecHostWildcardNeedsDomain: "--host '*.'" is no "*.DOMAIN" (it names
// no domain), yet it accepted every Host, turning the DNS-rebinding guard
// off without a word. It is a usage error, as other malformed names are.
func TestSpecHostWildcardNeedsDomain(t *testing.T) {
	dir := t.TempDir()
	for _, bad := range []string{"*.", "a..b"} {
		code, _, errOut := Run(t, dir, 10*time.Second, "-p", "0", "-b", "127.0.0.1", "--host", bad)
		if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "--host") {
			t.Errorf("--host %q: exit %d, stderr %q; want 2 and one line naming --host", bad, code, errOut)
		}
	}
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-q", "--host", "*.example.com")
	addr := strings.TrimPrefix(p.URL, "http://")
	for host, want := range map[string]string{"files.example.com": "200", "evil.example": "421"} {
		resp := RawRequest(t, addr, "GET / HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n", 5*time.Second)
		if !strings.HasPrefix(resp, "HTTP/1.1 "+want+" ") {
			t.Errorf("Host %s: %q, want %s", host, firstLine(resp), want)
		}
	}
}

// TestSpecCGIScriptNameCarriesBasePath: SCRIPT_NAME is the script's URL path
// as the client reaches it (RFC 3875 §4.1.13). Under --base-path /p it said
// /cgi-bin/env.sh, so a script that links or posts to itself sent the
// browser outside the prefix the reverse proxy serves.
func TestSpecCGIScriptNameCarriesBasePath(t *testing.T) {
	NeedCommand(t, "sh")
	dir := t.TempDir()
	writeScripts(t, dir, map[string]string{"cgi-bin/env.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n" +
		"echo \"SCRIPT_NAME=$SCRIPT_NAME\"\necho \"PATH_INFO=$PATH_INFO\"\n"})
	for _, c := range []struct{ base, want string }{
		{"", "/cgi-bin/env.sh"},
		{"/p", "/p/cgi-bin/env.sh"},
	} {
		args := []string{"-p", "0", "-b", "127.0.0.1", "-q", "--cgi"}
		if c.base != "" {
			args = append(args, "--base-path", c.base)
		}
		p := Start(t, dir, args...)
		resp, body := Do(t, "GET", p.URL+c.base+"/cgi-bin/env.sh/x%20y", nil)
		if want := "SCRIPT_NAME=" + c.want + "\nPATH_INFO=/x y\n"; resp.StatusCode != 200 || string(body) != want {
			t.Errorf("--base-path %q: %d %q, want %q", c.base, resp.StatusCode, body, want)
		}
	}
}
