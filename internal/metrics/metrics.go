// Package metrics exposes a handler's figures in the Prometheus text format
// (/.ferry/metrics). Each Metrics has a registry of its own, never the
// client library's global one, so two handlers in one process (or two
// tests) keep apart.
package metrics

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/ferry-sh/ferry/internal/transfer"

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

	// The children of requests and duration for each method label (and
	// status class), looked up once: WithLabelValues hashes its values and
	// searches a map under a lock on every call. Made on first use, so
	// that only the series that occurred are exposed.
	byMethod [len(methods) + 1]methodSeries
	// The child of refused for rate_limit; the reasons exist from the start.
	rateLimited prometheus.Counter
}

type methodSeries struct {
	class    [len(classes) + 1]atomic.Pointer[counter]
	duration atomic.Pointer[observer]
}

type (
	counter  struct{ prometheus.Counter }
	observer struct{ prometheus.Observer }
)

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
	m.rateLimited = m.refused.WithLabelValues(RefusedRateLimit)
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

// timedWriter is the access log's recorder too: its transfer knows when the
// request began, and reads the clock once as the handler returns for every
// figure that needs it.
type timedWriter interface{ Transfer() *transfer.Transfer }

// Middleware counts the requests next answers and times them. It belongs
// right behind the access log (whose recorder tells it the status) so that
// it sees every answer the log does, refusals by the host check and the
// credentials check included.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var tr *transfer.Transfer
		if tw, ok := w.(timedWriter); ok {
			tr = tw.Transfer()
		}
		var start time.Time
		if tr == nil {
			start = time.Now()
		}
		next.ServeHTTP(w, r)
		status, cause := http.StatusOK, ""
		if sw, ok := w.(statusWriter); ok {
			if sw.Status() != 0 {
				status = sw.Status()
			}
			cause = sw.Cause()
		}
		var took time.Duration
		if tr != nil {
			took = tr.Returned().Sub(tr.Start)
		} else {
			took = time.Since(start)
		}
		mi := methodIndex(r.Method)
		ci := classIndex(status)
		ms := &m.byMethod[mi]
		c := ms.class[ci].Load()
		if c == nil {
			c = &counter{m.requests.WithLabelValues(methodName(mi), className(ci))}
			ms.class[ci].Store(c)
		}
		c.Inc()
		d := ms.duration.Load()
		if d == nil {
			d = &observer{m.duration.WithLabelValues(methodName(mi))}
			ms.duration.Store(d)
		}
		d.Observe(took.Seconds())
		switch status {
		case http.StatusTooManyRequests:
			m.rateLimited.Inc()
		case http.StatusServiceUnavailable:
			m.Refused(refusal(cause)) // rare: the map lookup is no matter
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

// methods are the method label's values, "other" aside: a client may send
// any method name, and each distinct value would be a new time series.
var methods = [...]string{"GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH",
	"MKCOL", "MOVE", "COPY", "PROPFIND", "PROPPATCH", "LOCK", "UNLOCK"}

// methodIndex is m's index in methods, or len(methods) for "other".
func methodIndex(m string) int {
	switch m {
	case "GET":
		return 0 // most requests: no search
	case "HEAD":
		return 1
	}
	for i, v := range methods {
		if v == m {
			return i
		}
	}
	return len(methods)
}

func methodName(i int) string {
	if i < len(methods) {
		return methods[i]
	}
	return "other"
}

// methodLabel is the label value of method m.
func methodLabel(m string) string { return methodName(methodIndex(m)) }

var classes = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// classIndex is status's class in classes, or len(classes) for "other".
func classIndex(status int) int {
	if i := status/100 - 1; i >= 0 && i < len(classes) {
		return i
	}
	return len(classes)
}

func className(i int) string {
	if i < len(classes) {
		return classes[i]
	}
	return "other"
}

func classLabel(status int) string { return className(classIndex(status)) }

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
