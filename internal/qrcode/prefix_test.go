package qrcode

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// Under a mount prefix the code must carry the prefix: a phone scanning it
// asks for the whole URL.
func TestServeUnderPrefix(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/shared", http.HandlerFunc(new(Links).Serve)))
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

// A page opened on localhost hands the phone the LAN address: the endpoint
// draws it although the request came through another host name.
func TestServeOwnAddress(t *testing.T) {
	var l Links
	l.Set([]string{"http://192.0.2.7:8000/"})
	srv := httptest.NewServer(http.HandlerFunc(l.Serve))
	defer srv.Close()
	for u, status := range map[string]int{
		"http://192.0.2.7:8000/docs/":  200,
		"http://192.0.2.99:8000/docs/": 400,
		"http://evil.example:8000/x/":  400,
		"https://192.0.2.7:8000/docs/": 400,
	} {
		resp, err := http.Get(srv.URL + "/.ferry/qr.svg?u=" + url.QueryEscape(u))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != status {
			t.Errorf("u=%s: status %d, want %d", u, resp.StatusCode, status)
		}
		if status == 200 {
			if want, _ := SVG(u); string(got) != string(want) {
				t.Errorf("u=%s: the SVG does not encode it", u)
			}
		}
	}
}
