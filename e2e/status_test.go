package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestStatusAndHealth(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": strings.Repeat("x", 1000), ".ferry/x": "not served"})
	p := Start(t, dir, "-p", "0", "-q")

	resp, body := Do(t, "GET", p.URL+"/.ferry/health", nil)
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("health: %d %q", resp.StatusCode, body)
	}
	for range 2 {
		Do(t, "GET", p.URL+"/a.txt", nil)
	}
	Do(t, "HEAD", p.URL+"/a.txt", nil)
	Do(t, "GET", p.URL+"/a.txt", nil, "Range", "bytes=0-9")

	resp, body = Do(t, "GET", p.URL+"/.ferry/status?format=json", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var rep struct {
		Requests  int64 `json:"requests"`
		BytesSent int64 `json:"bytes_sent"`
		Completed int64 `json:"downloads_completed"`
		InFlight  []any `json:"in_flight"`
		Recent    []struct {
			Path, Outcome string
			Sent          int64
		} `json:"recent"`
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, body)
	}
	// health + 2 GETs + HEAD + range = 5 requests before this one.
	if rep.Requests != 6 || rep.Completed != 2 || rep.BytesSent < 2010 {
		t.Errorf("figures: %+v", rep)
	}
	if len(rep.Recent) != 3 || rep.Recent[0].Path != "/a.txt" || rep.Recent[0].Outcome != "complete" {
		t.Errorf("recent: %+v", rep.Recent)
	}
	if rep.InFlight == nil {
		t.Error("in_flight is null, want []")
	}

	resp, body = Do(t, "GET", p.URL+"/.ferry/status", nil, "Accept", "text/html")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Downloads completed") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("status page: %d %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	// /.ferry/ never serves files from the folder.
	if resp, _ := Do(t, "GET", p.URL+"/.ferry/x", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/.ferry/x: %d, want 404", resp.StatusCode)
	}
}
