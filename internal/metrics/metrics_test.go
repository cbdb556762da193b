package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type statusRecorder struct {
	*httptest.ResponseRecorder
}

func (s statusRecorder) Status() int { return s.Code }

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
