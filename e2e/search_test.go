package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

type searchPage struct {
	Path    string
	Query   string
	Limit   string
	Entries []struct {
		Name, Path, Type string
		Size             int64
	}
}

func searchJSON(t *testing.T, base, folder, q string, hdr ...string) (int, searchPage) {
	t.Helper()
	resp, body := Do(t, "GET", base+folder+"?format=json&q="+url.QueryEscape(q), nil, hdr...)
	var p searchPage
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("search %q: %v\n%s", q, err, body)
		}
	}
	return resp.StatusCode, p
}

func paths(p searchPage) string {
	var out []string
	for _, e := range p.Entries {
		out = append(out, e.Path)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestSearch(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"Report 2024.pdf":             "r",
		"docs/Résumé Final.txt":       "cv",
		"docs/old/resume-draft.md":    "d",
		"docs/old/notes.txt":          "n",
		"photos/Été/beach resume.jpg": "j",
		".hidden/resume.txt":          "secret",
		"docs/.resume.txt":            "secret",
		"cgi-bin/resume.sh":           "#!/bin/sh\necho\n",
		"pub/resume-public.txt":       "p",
	})
	WriteFiles(t, outside, map[string]string{"resume-outside.txt": "o"})
	if err := os.Symlink(filepath.Join(outside, "resume-outside.txt"), filepath.Join(dir, "docs", "resume-link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "resume-dir-link")); err != nil {
		t.Fatal(err)
	}
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--cgi")

	// Case and accents do not matter; every word must match.
	code, res := searchJSON(t, p.URL, "/", "RESUME")
	if code != 200 || res.Query != "RESUME" || res.Limit != "" || res.Path != "/" {
		t.Fatalf("search: %d %+v", code, res)
	}
	if got := paths(res); got != "/docs/Résumé Final.txt /docs/old/resume-draft.md /photos/Été/beach resume.jpg /pub/resume-public.txt" {
		t.Fatalf("resume: %s", got)
	}
	for _, e := range res.Entries {
		if e.Type != "file" || e.Name != filepath.Base(e.Path) {
			t.Errorf("entry %+v", e)
		}
	}
	if _, res = searchJSON(t, p.URL, "/", "draft RESUME"); paths(res) != "/docs/old/resume-draft.md" {
		t.Fatalf("two words: %s", paths(res))
	}
	if _, res = searchJSON(t, p.URL, "/", "ete"); paths(res) != "/photos/Été" || res.Entries[0].Type != "dir" {
		t.Fatalf("folder by accentless name: %+v", res)
	}
	// A subfolder's search stays below it.
	if _, res = searchJSON(t, p.URL, "/docs/", "résumé"); paths(res) != "/docs/Résumé Final.txt /docs/old/resume-draft.md" || res.Path != "/docs/" {
		t.Fatalf("in /docs/: %+v", res)
	}
	if _, res = searchJSON(t, p.URL, "/", "nothing-like-this"); len(res.Entries) != 0 {
		t.Fatalf("no match: %+v", res)
	}
	// Bad queries.
	for _, q := range []string{"", "   ", strings.Repeat("a", 300)} {
		if code, _ := searchJSON(t, p.URL, "/", q); code != 400 {
			t.Errorf("q=%.10q: %d", q, code)
		}
	}

	// The HTML page: a search box, the results with their paths, what was
	// found.
	resp, body := Do(t, "GET", p.URL+"/?q=resume", nil, "Accept", "text/html")
	html := string(body)
	if resp.StatusCode != 200 || !strings.Contains(html, `name="q" value="resume"`) ||
		!strings.Contains(html, `href="docs/old/resume-draft.md">docs/old/resume-draft.md</a>`) ||
		!strings.Contains(html, "4 names match") || strings.Contains(html, "secret") {
		t.Fatalf("HTML results: %d\n%s", resp.StatusCode, html)
	}
	// Every listing has the box.
	if _, body := Do(t, "GET", p.URL+"/docs/", nil); !strings.Contains(string(body), `role="search"`) {
		t.Fatal("no search box on the listing")
	}
	// A folder with an index page keeps its own ?q=.
	WriteFiles(t, dir, map[string]string{"site/index.html": "site", "site/resume.html": "x"})
	if _, body := Do(t, "GET", p.URL+"/site/?q=resume", nil); string(body) != "site" {
		t.Fatalf("site with index: %q", body)
	}
}

// TestSearchHidingRules: a search never shows what the rules hide, and a
// user only what their grants let them read.
func TestSearchGrants(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{
		"pub/plan-a.txt":     "a",
		"pub/sub/plan-b.txt": "b",
		"private/plan-c.txt": "c",
	})
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "--auth", "alice:pw@/pub:ro", "--auth", "root:pw")
	alice := []string{"Authorization", "Basic YWxpY2U6cHc="} // alice:pw
	if code, _ := searchJSON(t, p.URL, "/", "plan", alice...); code != 403 {
		t.Fatalf("alice searching /: %d", code)
	}
	code, res := searchJSON(t, p.URL, "/pub/", "plan", alice...)
	if code != 200 || paths(res) != "/pub/plan-a.txt /pub/sub/plan-b.txt" {
		t.Fatalf("alice in /pub/: %d %s", code, paths(res))
	}
	code, res = searchJSON(t, p.URL, "/", "plan", "Authorization", "Basic cm9vdDpwdw==") // root:pw
	if code != 200 || len(res.Entries) != 3 {
		t.Fatalf("root: %d %s", code, paths(res))
	}
	if code, _ := searchJSON(t, p.URL, "/pub/", "plan"); code != 401 {
		t.Fatalf("no credentials: %d", code)
	}
}

// TestSearchBounds: at most 1,000 results, said in the JSON and on the page.
func TestSearchBounds(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 1100 {
		files[fmt.Sprintf("d%02d/match-%04d.txt", i%20, i)] = ""
	}
	WriteFiles(t, dir, files)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1")
	code, res := searchJSON(t, p.URL, "/", "match")
	if code != 200 || len(res.Entries) != 1000 || res.Limit != "results" {
		t.Fatalf("bound: %d, %d entries, limit %q", code, len(res.Entries), res.Limit)
	}
	_, body := Do(t, "GET", p.URL+"/?q=match", nil, "Accept", "text/html")
	if !strings.Contains(string(body), "the first 1000 shown") {
		t.Fatal("the page does not say the results were cut")
	}
	if _, res = searchJSON(t, p.URL, "/", "match-0999"); len(res.Entries) != 1 || res.Limit != "" {
		t.Fatalf("narrowed: %+v", res)
	}
}
