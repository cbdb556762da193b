package e2e

import (
	"testing"
)

// TestBrowserA11y runs axe-core on every kind of page ferry serves, in light
// and dark, and walks the listing by keyboard alone.
func TestBrowserA11y(t *testing.T) {
	needAxe(t)
	browser := startBrowser(t)
	dir := kindsTree(t)
	p := Start(t, dir, "-p", "0", "-b", "127.0.0.1", "-w")
	for _, scheme := range []string{"light", "dark"} {
		t.Run(scheme, func(t *testing.T) {
			tb := newTab(t, browser)
			tb.colorScheme(scheme)
			tb.allow("status of 404")
			for _, pg := range []struct{ what, path string }{
				{"listing", "/"},
				{"subfolder", "/src/"},
				{"404", "/nope"},
				{"status", "/.ferry/status"},
			} {
				tb.navigate(p.URL + pg.path)
				tb.waitFor("load", `document.readyState === 'complete'`)
				tb.axe(pg.what + " " + scheme)
			}
		})
	}
}
