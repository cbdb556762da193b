package e2e

import (
	"strings"
	"testing"
)

func TestSPA(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"index.html":      "<!doctype html><title>app</title>",
		"about.html":      "<p>about</p>",
		"docs/guide.html": "<p>guide</p>",
		"docs/api/x.txt":  "x",
		"app.js":          "js",
		".secret.html":    "secret",
	})
	html := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--spa")
	for _, c := range []struct {
		path, accept string
		status       int
		body         string
	}{
		{"/dashboard/settings", html, 200, "<!doctype html><title>app</title>"},
		{"/users/42/", html, 200, "<!doctype html><title>app</title>"},
		{"/about", html, 200, "<p>about</p>"},          // pretty URL before the app
		{"/docs/guide", "*/*", 200, "<p>guide</p>"},    // pretty URLs want no HTML Accept
		{"/missing.json", "application/json", 404, ""}, // a script's fetch gets its 404
		{"/missing", "", 404, ""},
		{"/app.js", html, 200, "js"},
		{"/docs/api/", html, 200, ""}, // a folder lists as ever
	} {
		resp, body := Do(t, "GET", p.URL+c.path, nil, "Accept", c.accept)
		if resp.StatusCode != c.status || c.body != "" && string(body) != c.body {
			t.Errorf("GET %s (Accept %q): %d %.40q", c.path, c.accept, resp.StatusCode, body)
		}
		if c.status == 200 && strings.HasSuffix(c.body, "</title>") && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: type %q", c.path, resp.Header.Get("Content-Type"))
		}
	}
	// Hidden files stay hidden: /.secret is not .secret.html.
	if resp, body := Do(t, "GET", p.URL+"/.secret", nil, "Accept", "*/*"); resp.StatusCode != 404 || strings.Contains(string(body), "secret") {
		t.Errorf("/.secret: %d %q", resp.StatusCode, body)
	}
	if resp, _ := Do(t, "HEAD", p.URL+"/some/route", nil, "Accept", html); resp.StatusCode != 200 {
		t.Errorf("HEAD of a route: %d", resp.StatusCode)
	}

	// Without --spa: pretty URLs still, routes are 404.
	p2 := Start(t, dir, "-p", "0", "-b", "127.0.0.1")
	if resp, body := Do(t, "GET", p2.URL+"/about", nil, "Accept", html); resp.StatusCode != 200 || string(body) != "<p>about</p>" {
		t.Errorf("pretty URL without --spa: %d %q", resp.StatusCode, body)
	}
	if resp, _ := Do(t, "GET", p2.URL+"/dashboard", nil, "Accept", html); resp.StatusCode != 404 {
		t.Errorf("route without --spa: %d", resp.StatusCode)
	}
	// about.html is served under its own name too; /about/ is a folder's
	// name and stays 404.
	if resp, _ := Do(t, "GET", p2.URL+"/about/", nil, "Accept", html); resp.StatusCode != 404 {
		t.Errorf("/about/: %d", resp.StatusCode)
	}
}
