package metrics

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/transfer"
)

type statusRecorder struct {
	*httptest.ResponseRecorder
}

func (s statusRecorder) Status() int   { return s.Code }
func (s statusRecorder) Cause() string { return "" }

// Two sets of metrics in one process keep apart: each has its registry.
func TestTwoHandlersKeepApart(t *testing.T) {
	a := New(func() Figures { return Figures{BytesSent: 7} })
	b := New(func() Figures { return Figures{BytesSent: 9} })
	h := a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	h.ServeHTTP(statusRecorder{httptest.NewRecorder()}, httptest.NewRequest("BREW", "/", nil))

	get := func(m *Metrics) string {
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, httptest.NewRequest("GET", "/.ferry/metrics", nil))
		return rec.Body.String()
	}
	textA, textB := get(a), get(b)
	for _, want := range []string{
		`ferry_http_requests_total{code="4xx",method="other"} 1`,
		`ferry_refusals_total{reason="rate_limit"} 1`,
		`ferry_sent_bytes_total 7`,
	} {
		if !strings.Contains(textA, want) {
			t.Errorf("a lacks %s:\n%s", want, textA)
		}
	}
	if strings.Contains(textB, "ferry_http_requests_total{") || !strings.Contains(textB, "ferry_sent_bytes_total 9") {
		t.Errorf("b shows a's requests or not its own figures:\n%s", textB)
	}
}

func TestLabels(t *testing.T) {
	for status, want := range map[int]string{100: "1xx", 200: "2xx", 206: "2xx", 304: "3xx", 421: "4xx", 503: "5xx", 0: "other", 999: "other"} {
		if got := classLabel(status); got != want {
			t.Errorf("classLabel(%d) = %s, want %s", status, got, want)
		}
	}
	for m, want := range map[string]string{"GET": "GET", "PROPFIND": "PROPFIND", "get": "other", "FUNC": "other"} {
		if got := methodLabel(m); got != want {
			t.Errorf("methodLabel(%s) = %s, want %s", m, got, want)
		}
	}
}

// A 503 counts under the reason its handler noted through httperr (the
// store down, the server stopping), and as overload only when none was
// noted: "storage unreachable" is no overload.
func TestRefusalReasons(t *testing.T) {
	m := New(func() Figures { return Figures{} })
	wrapped := func(w http.ResponseWriter) http.ResponseWriter { return unwrapper{w} }
	for _, c := range []struct {
		name   string
		handle func(w http.ResponseWriter, r *http.Request)
	}{
		{"unavailable", func(w http.ResponseWriter, r *http.Request) { httperr.Unavailable(w, r) }},
		{"storage error", func(w http.ResponseWriter, r *http.Request) {
			err := fmt.Errorf("s3 get: %w", storage.ErrUnavailable)
			httperr.NoteErr(wrapped(w), err)
			httperr.Write(w, r, http.StatusServiceUnavailable, "the store is not answering")
		}},
		{"other error", func(w http.ResponseWriter, r *http.Request) {
			httperr.NoteErr(w, errors.New("disk on fire"))
			httperr.Write(w, r, http.StatusServiceUnavailable, "")
		}},
		{"stopping", func(w http.ResponseWriter, r *http.Request) {
			httperr.Note(w, httperr.CauseStopping)
			httperr.Write(w, r, http.StatusServiceUnavailable, "server is stopping")
		}},
		{"busy", func(w http.ResponseWriter, r *http.Request) {
			httperr.Write(w, r, http.StatusServiceUnavailable, "busy with other archives")
		}},
		{"rate limit", func(w http.ResponseWriter, r *http.Request) {
			httperr.Write(w, r, http.StatusTooManyRequests, "")
		}},
	} {
		h := m.Middleware(http.HandlerFunc(c.handle))
		h.ServeHTTP(transfer.NewRecorder(httptest.NewRecorder(), nil), httptest.NewRequest("GET", "/"+strings.ReplaceAll(c.name, " ", "-"), nil))
	}
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/.ferry/metrics", nil))
	for _, want := range []string{
		`ferry_refusals_total{reason="storage"} 2`,
		`ferry_refusals_total{reason="overload"} 2`,
		`ferry_refusals_total{reason="stopping"} 1`,
		`ferry_refusals_total{reason="rate_limit"} 1`,
		`ferry_refusals_total{reason="connections"} 0`,
		`ferry_http_requests_total{code="5xx",method="GET"} 5`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("no %s:\n%s", want, rec.Body)
		}
	}
}

// unwrapper stands for a middleware's ResponseWriter between the handler
// and the access recorder (compression, headers), as Unwrap exposes it.
type unwrapper struct{ http.ResponseWriter }

func (u unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }
