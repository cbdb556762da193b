package e2e

import (
	"net/http"
	"testing"
)

func TestSmokeServesAFile(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": "hello\n"})
	p := Start(t, dir, "-p", "0")
	resp, body := Do(t, http.MethodGet, p.URL+"/a.txt", nil)
	if resp.StatusCode != 200 || string(body) != "hello\n" {
		t.Fatalf("GET /a.txt = %d %q", resp.StatusCode, body)
	}
}
