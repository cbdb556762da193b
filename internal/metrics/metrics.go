// Package metrics exposes a handler's figures in the Prometheus text format
// (/.ferry/metrics). Each Metrics has a registry of its own, never the
// client library's global one, so two handlers in one process (or two
// tests) keep apart.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Figures are the counters the handler already keeps (the transfer
// tracker): read at each scrape rather than counted twice.
type Figures struct {
	BytesSent, BytesReceived int64
	// Downloads and uploads by outcome.
	DownloadsComplete, DownloadsCutShort int64
	UploadsComplete, UploadsCutShort     int64
	InFlight                             int
}

// Metrics is one handler's set of metrics.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	refused  *prometheus.CounterVec
	handler  http.Handler
}

// Refusal reasons, the values of ferry_refusals_total's reason label.
const (
	RefusedRateLimit   = "rate_limit"  // 429: too many failed logins or unfinished uploads
	RefusedOverload    = "overload"    // 503: the server is out of room for more work
	RefusedConnections = "connections" // a connection closed unread: beyond --max-conns-per-ip, or at capacity with every one busy
	RefusedStorage     = "storage"     // 503: the store behind the tree cannot be reached (httperr.CauseStorage)
	RefusedStopping    = "stopping"    // 503: the server is shutting down (httperr.CauseStopping)
)

// New makes the metrics; figures is called once per scrape.
func New(figures func() Figures) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ferry_http_requests_total",
		Help: "Requests answered, by method and status class (2xx, 4xx, ...).",
	}, []string{"method", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ferry_http_request_duration_seconds",
		Help: "Time from a request's arrival until its handler returned (a download: its last byte handed over).",
		// From a cached small file to a long download.
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800},
	}, []string{"method"})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ferry_refusals_total",
		Help: "Requests or connections refused, by reason: rate_limit (429), overload (503: no room for more work), connections (closed unread), storage (503: the store cannot be reached), stopping (503: shutting down).",
	}, []string{"reason"})
	// The reasons exist from the start, at zero, so that rate() works
	// before the first refusal.
	for _, r := range []string{RefusedRateLimit, RefusedOverload, RefusedConnections, RefusedStorage, RefusedStopping} {
		m.refused.WithLabelValues(r)
	}
	m.reg.MustRegister(m.requests, m.duration, m.refused, figuresCollector(figures),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		// A collector failing must not hide the others.
		ErrorHandling: promhttp.ContinueOnError,
		// One scrape at a time: a scraper gone wild cannot pile up work.
		MaxRequestsInFlight: 1,
	})
	return m
}

// Registry is the registry the metrics live in (for tests and embedders
// that gather them along with their own).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ServeHTTP answers a scrape in the format the scraper asked for (the text
// format by default).
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }

// Refused counts one refusal for reason.
func (m *Metrics) Refused(reason string) { m.refused.WithLabelValues(reason).Inc() }

// statusWriter is what Middleware needs of its ResponseWriter: the access
// log's recorder, which it sits behind, already learns the status, and
// hears why a request was refused (httperr.Note).
type statusWriter interface {
	Status() int
	Cause() string
}

// Middleware counts the requests next answers and times them. It belongs
// right behind the access log (whose recorder tells it the status) so that
// it sees every answer the log does, refusals by the host check and the
// credentials check included.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		status, cause := http.StatusOK, ""
		if sw, ok := w.(statusWriter); ok {
			if sw.Status() != 0 {
				status = sw.Status()
			}
			cause = sw.Cause()
		}
		method := methodLabel(r.Method)
		m.requests.WithLabelValues(method, classLabel(status)).Inc()
		m.duration.WithLabelValues(method).Observe(time.Since(start).Seconds())
		switch status {
		case http.StatusTooManyRequests:
			m.Refused(RefusedRateLimit)
		case http.StatusServiceUnavailable:
			m.Refused(refusal(cause))
		}
	})
}

// refusal is the reason label of a 503 whose cause was noted as cause:
// overload unless the refusing handler said otherwise.
func refusal(cause string) string {
	switch cause {
	case RefusedStorage, RefusedStopping:
		return cause
	}
	return RefusedOverload
}

// methodLabel keeps the label's values bounded: a client may send any
// method name, and each distinct value would be a new time series.
func methodLabel(m string) string {
	switch m {
	case "GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH",
		"MKCOL", "MOVE", "COPY", "PROPFIND", "PROPPATCH", "LOCK", "UNLOCK":
		return m
	}
	return "other"
}

var classes = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

func classLabel(status int) string {
	if i := status/100 - 1; i >= 0 && i < len(classes) {
		return classes[i]
	}
	return "other"
}

// figuresCollector turns Figures into counters and a gauge at scrape time.
type figuresCollector func() Figures

var (
	descSent     = prometheus.NewDesc("ferry_sent_bytes_total", "Response body bytes sent.", nil, nil)
	descReceived = prometheus.NewDesc("ferry_received_bytes_total", "Request body bytes received.", nil, nil)
	descInFlight = prometheus.NewDesc("ferry_transfers_in_flight", "Downloads and uploads under way.", nil, nil)
	descDown     = prometheus.NewDesc("ferry_downloads_total", "Downloads of files and archives that ended, by outcome (complete, cut_short).", []string{"outcome"}, nil)
	descUp       = prometheus.NewDesc("ferry_uploads_total", "Uploads that ended, by outcome (complete, cut_short).", []string{"outcome"}, nil)
)

func (f figuresCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSent, descReceived, descInFlight, descDown, descUp} {
		ch <- d
	}
}

func (f figuresCollector) Collect(ch chan<- prometheus.Metric) {
	v := f()
	counter := func(d *prometheus.Desc, n int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(n), labels...)
	}
	counter(descSent, v.BytesSent)
	counter(descReceived, v.BytesReceived)
	counter(descDown, v.DownloadsComplete, "complete")
	counter(descDown, v.DownloadsCutShort, "cut_short")
	counter(descUp, v.UploadsComplete, "complete")
	counter(descUp, v.UploadsCutShort, "cut_short")
	ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(v.InFlight))
}
