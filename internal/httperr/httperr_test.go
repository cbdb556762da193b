package httperr

import (
	"net/http/httptest"
	"testing"
)

func TestWantsJSON(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                            false,
		"application/json":            true,
		"application/json, text/html": true,
		"text/html;q=0.9, application/json;q=0.1":                         false,
		"text/html, application/json;q=0.5":                               false,
		"application/json;q=0.9, text/html;q=0.5":                         true,
		"application/json;q=0":                                            false,
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8": false,
		"Application/JSON":                                                true,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		if got := WantsJSON(r); got != want {
			t.Errorf("Accept %q: WantsJSON = %v, want %v", accept, got, want)
		}
	}
}
