package qrcode

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Under a mount prefix the code must carry the prefix: a phone scanning it
// asks for the whole URL.
func TestServeUnderPrefix(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/shared", http.HandlerFunc(Serve)))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/shared/.ferry/qr.svg?u=/docs/")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want, err := SVG(srv.URL + "/shared/docs/")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || string(got) != string(want) {
		t.Fatalf("status %d; the SVG does not encode %s/shared/docs/", resp.StatusCode, srv.URL)
	}
}
