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
