package ferry_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ferry-sh/ferry"
)

// Two ferry handlers under /a/ and /b/ of one mux must each behave as if
// they owned the root: links, redirects, ranges, uploads and assets.
func TestMountedUnderPrefixes(t *testing.T) {
	mux := http.NewServeMux()
	dirs := map[string]string{}
	for _, prefix := range []string{"a", "b"} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
		os.WriteFile(filepath.Join(dir, "sub", "file.txt"), []byte("0123456789 from "+prefix), 0o644)
		h, err := ferry.New(dir, ferry.Options{Upload: true, Delete: true, Move: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		mux.Handle("/"+prefix+"/", http.StripPrefix("/"+prefix, h))
		dirs[prefix] = dir
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, url string, body io.Reader, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, body)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	for _, p := range []string{"a", "b"} {
		base := srv.URL + "/" + p
		t.Run(p, func(t *testing.T) {
			// The slash redirect is relative, so it lands under the prefix.
			resp, _ := do("GET", base+"/sub?x=1", nil)
			if resp.StatusCode != 301 {
				t.Fatalf("GET /sub: %d", resp.StatusCode)
			}
			loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
			if err != nil || loc.Path != "/"+p+"/sub/" || loc.RawQuery != "x=1" {
				t.Fatalf("redirect to %q (%v), want /%s/sub/?x=1", loc, err, p)
			}

			// Listing links and asset links resolve under the prefix.
			resp, page := do("GET", base+"/sub/", nil)
			if resp.StatusCode != 200 || !strings.Contains(page, `href="file.txt"`) {
				t.Fatalf("listing: %d, no relative link to file.txt", resp.StatusCode)
			}
			for _, m := range regexp.MustCompile(`(?:href|src)="([^"]*\.ferry/assets/[^"]+)"`).FindAllStringSubmatch(page, -1) {
				u, _ := resp.Request.URL.Parse(m[1])
				if !strings.HasPrefix(u.Path, "/"+p+"/.ferry/assets/") {
					t.Errorf("asset %s resolves to %s, outside /%s/", m[1], u.Path, p)
				}
				ar, _ := do("GET", u.String(), nil)
				if ar.StatusCode != 200 {
					t.Errorf("asset %s: %d", u, ar.StatusCode)
				}
			}

			// JSON listing paths are relative to the mount.
			_, js := do("GET", base+"/sub/?format=json", nil)
			var l struct{ Path string }
			json.Unmarshal([]byte(js), &l)
			if l.Path != "/sub/" {
				t.Errorf("JSON path %q, want /sub/", l.Path)
			}

			// Ranges.
			resp, body := do("GET", base+"/sub/file.txt", nil, "Range", "bytes=2-5")
			if resp.StatusCode != 206 || body != "2345" {
				t.Fatalf("range: %d %q", resp.StatusCode, body)
			}

			// Uploads land in this handler's folder only.
			resp, _ = do("PUT", base+"/sub/new.txt", strings.NewReader("uploaded to "+p))
			if resp.StatusCode != 201 {
				t.Fatalf("PUT: %d", resp.StatusCode)
			}
			got, err := os.ReadFile(filepath.Join(dirs[p], "sub", "new.txt"))
			if err != nil || string(got) != "uploaded to "+p {
				t.Fatalf("uploaded file: %q %v", got, err)
			}
		})
	}
}

// A custom method takes part in Allow and 405/501, and reaches its handler.
func TestCustomMethod(t *testing.T) {
	h, err := ferry.New(t.TempDir(), ferry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.HandleMethod("GET", http.NotFoundHandler()); err == nil {
		t.Error("replacing GET was accepted")
	}
	var got string
	if err := h.HandleMethod("FUNC", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Path
		w.WriteHeader(299)
	})); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, c := range []struct {
		method string
		status int
		allow  string
	}{
		{"FUNC", 299, ""},
		{"OPTIONS", 204, "GET, HEAD, OPTIONS, FUNC"},
		{"PUT", 405, "GET, HEAD, OPTIONS, FUNC"},
		{"BREW", 501, ""},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+"/x/y", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s: %d Allow=%q, want %d %q", c.method, resp.StatusCode, resp.Header.Get("Allow"), c.status, c.allow)
		}
	}
	if got != "/x/y" {
		t.Errorf("FUNC handler saw %q", got)
	}
}

// A MOVE or COPY under a mount prefix: auth and the write handler read the
// Destination the same way, prefix stripped, so a grant on /pub reaches
// exactly /pub (issue 11 item 17).
func TestMountedMoveDestinationUnderGrant(t *testing.T) {
	for _, tc := range []struct {
		name, mount, src, dest string
		want                   int
		moved                  string // where a.txt's content must end up ("" = nowhere new)
	}{
		// The mount and the granted folder share a name: /pub/pub/a.txt is
		// pub/a.txt in the tree, /pub/private/victim.txt is private/victim.txt.
		{"same-name mount, out of the grant", "/pub", "/pub/pub/a.txt", "/pub/private/victim.txt", 403, ""},
		{"same-name mount, within the grant", "/pub", "/pub/pub/a.txt", "/pub/pub/a2.txt", 201, "pub/a2.txt"},
		{"same-name mount, path-only Destination", "/pub", "/pub/pub/a.txt", "/pub/private/victim.txt", 403, ""},
		{"other mount, within the grant", "/files", "/files/pub/a.txt", "/files/pub/a2.txt", 201, "pub/a2.txt"},
		{"other mount, out of the grant", "/files", "/files/pub/a.txt", "/files/private/victim.txt", 403, ""},
		{"other mount, Destination outside the mount", "/files", "/files/pub/a.txt", "/pub/a2.txt", 403, ""},
	} {
		for _, method := range []string{"MOVE", "COPY"} {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				dir := t.TempDir()
				os.MkdirAll(filepath.Join(dir, "pub"), 0o755)
				os.MkdirAll(filepath.Join(dir, "private"), 0o755)
				os.WriteFile(filepath.Join(dir, "pub", "a.txt"), []byte("from pub"), 0o644)
				os.WriteFile(filepath.Join(dir, "private", "victim.txt"), []byte("victim"), 0o644)
				h, err := ferry.New(dir, ferry.Options{Upload: true, Delete: true, Overwrite: true, Move: true,
					Auth: []string{"alice:pw@/pub:rw"}})
				if err != nil {
					t.Fatal(err)
				}
				defer h.Close()
				mux := http.NewServeMux()
				mux.Handle(tc.mount+"/", http.StripPrefix(tc.mount, h))
				srv := httptest.NewServer(mux)
				defer srv.Close()

				dest := tc.dest
				if !strings.Contains(tc.name, "path-only") {
					dest = srv.URL + dest
				}
				req, _ := http.NewRequest(method, srv.URL+tc.src, nil)
				req.SetBasicAuth("alice", "pw")
				req.Header.Set("Destination", dest)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tc.want {
					t.Errorf("%s %s → %s = %d, want %d", method, tc.src, dest, resp.StatusCode, tc.want)
				}
				if b, _ := os.ReadFile(filepath.Join(dir, "private", "victim.txt")); string(b) != "victim" {
					t.Errorf("private/victim.txt = %q: written outside the grant", b)
				}
				if tc.moved != "" {
					if b, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(tc.moved))); string(b) != "from pub" {
						t.Errorf("%s = %q, want the moved file", tc.moved, b)
					}
				}
				_, err = os.Stat(filepath.Join(dir, "pub", "a.txt"))
				if stays := method == "COPY" || tc.moved == ""; stays != (err == nil) {
					t.Errorf("pub/a.txt present = %v, want %v", err == nil, stays)
				}
			})
		}
	}
}

// PUT and MKCOL under a mount prefix refuse names spelled with empty or "."
// components, or a PUT ending in "/", and store nothing (issue 11 item 16).
// Go's client cleans no paths, so they arrive as written.
func TestMountedPutNameSpelling(t *testing.T) {
	dir := t.TempDir()
	h, err := ferry.New(dir, ferry.Options{Upload: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	srv := httptest.NewServer(http.StripPrefix("/files", h))
	defer srv.Close()
	for _, c := range []struct{ method, path string }{
		{"PUT", "/files//b.txt"}, {"PUT", "/files/a//b.txt"}, {"PUT", "/files/./x.txt"},
		{"PUT", "/files/sub/./x.txt"}, {"PUT", "/files/sub/%2e/x.txt"}, {"PUT", "/files/newdir/"},
		{"MKCOL", "/files/a//b/"}, {"MKCOL", "/files/./c/"},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(""))
		if c.method == "PUT" {
			req.Body = io.NopCloser(strings.NewReader("x"))
			req.ContentLength = 1
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s %s = %d, want 400", c.method, c.path, resp.StatusCode)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the folder holds %d entries after refused writes", len(entries))
	}
}
