package ferry_test

import (
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

// WebDAV mounted under a prefix of one's own mux: hrefs, lock roots,
// Destination and If's resource tags all carry the prefix.
func TestWebDAVMounted(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "a b.txt"), []byte("x"), 0o644)
	h, err := ferry.New(dir, ferry.Options{Upload: true, Delete: true, Overwrite: true, Move: true, WebDAV: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if err := h.HandleMethod("PROPFIND", http.NotFoundHandler()); err == nil {
		t.Error("HandleMethod took over PROPFIND with WebDAV on")
	}
	mux := http.NewServeMux()
	mux.Handle("/files/", http.StripPrefix("/files", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	do := func(method, path, body string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := do("PROPFIND", "/files/sub/", "", "Depth", "1")
	if resp.StatusCode != 207 || !strings.Contains(body, "<href>/files/sub/</href>") || !strings.Contains(body, "<href>/files/sub/a%20b.txt</href>") {
		t.Fatalf("PROPFIND = %d %s", resp.StatusCode, body)
	}
	resp, body = do("LOCK", "/files/sub/a%20b.txt", `<lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope><locktype><write/></locktype></lockinfo>`)
	tok := regexp.MustCompile(`<(urn:uuid:[^>]+)>`).FindStringSubmatch(resp.Header.Get("Lock-Token"))
	if resp.StatusCode != 200 || tok == nil || !strings.Contains(body, "<lockroot><href>/files/sub/a%20b.txt</href></lockroot>") {
		t.Fatalf("LOCK = %d %q %s", resp.StatusCode, resp.Header.Get("Lock-Token"), body)
	}
	if resp, _ := do("PUT", "/files/sub/a%20b.txt", "y", "If", "<"+srv.URL+"/files/sub/a%20b.txt> (<"+tok[1]+">)"); resp.StatusCode != 204 {
		t.Errorf("PUT with a tagged If = %d", resp.StatusCode)
	}
	if resp, _ := do("PUT", "/files/sub/a%20b.txt", "z", "If", "</sub/a%20b.txt> (<"+tok[1]+">)"); resp.StatusCode != 412 {
		t.Errorf("PUT with a tag outside the mount = %d", resp.StatusCode)
	}
	do("PROPPATCH", "/files/sub/a%20b.txt", `<propertyupdate xmlns="DAV:"><set><prop><k xmlns="urn:k">v</k></prop></set></propertyupdate>`, "If", "(<"+tok[1]+">)")
	if resp, _ := do("MOVE", "/files/sub/a%20b.txt", "", "Destination", srv.URL+"/files/moved.txt", "If", "(<"+tok[1]+">)"); resp.StatusCode != 201 {
		t.Fatalf("MOVE = %d", resp.StatusCode)
	}
	if _, body := do("PROPFIND", "/files/moved.txt", "", "Depth", "0"); !strings.Contains(body, `<k xmlns="urn:k">v</k>`) || strings.Contains(body, tok[1]) {
		t.Errorf("after MOVE (property kept, lock left behind): %s", body)
	}
}
