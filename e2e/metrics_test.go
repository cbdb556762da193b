package e2e

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches /.ferry/metrics from base (with optional user:pass) and
// parses the text format as Prometheus would.
func scrape(t *testing.T, base, userinfo string) map[string]*dto.MetricFamily {
	t.Helper()
	url := base + "/.ferry/metrics"
	if userinfo != "" {
		url = strings.Replace(url, "://", "://"+userinfo+"@", 1)
	}
	resp, body := Do(t, "GET", url, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /.ferry/metrics = %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("metrics Content-Type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the metrics: %v\n%s", err, body)
	}
	return fams
}

// metricValue is the value of the series of family name whose labels
// include want (label=value pairs), summed over the matching series; for a
// histogram, its count. A family not (yet) there counts as 0: a vector
// shows no series before its first one.
func metricValue(t *testing.T, fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	t.Helper()
	var sum float64
	for _, m := range fams[name].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// Known requests move the counters by known amounts between two scrapes.
func TestMetricsScrape(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.txt": strings.Repeat("x", 1000)})
	p := Start(t, dir, "-p", "0", "-q", "--upload")

	before := scrape(t, p.URL, "")

	for range 2 {
		Do(t, "GET", p.URL+"/a.txt", nil)
	}
	Do(t, "GET", p.URL+"/missing", nil)
	Do(t, "PUT", p.URL+"/up.txt", strings.NewReader(strings.Repeat("u", 300)))
	Do(t, "FROB", p.URL+"/a.txt", nil)

	after := scrape(t, p.URL, "")
	for _, name := range []string{"ferry_http_requests_total", "ferry_http_request_duration_seconds",
		"ferry_sent_bytes_total", "ferry_received_bytes_total", "ferry_transfers_in_flight",
		"ferry_downloads_total", "ferry_uploads_total", "ferry_refusals_total", "go_goroutines"} {
		if after[name] == nil {
			t.Errorf("no %s in the scrape", name)
		}
	}
	delta := func(name string, labels ...string) float64 {
		return metricValue(t, after, name, labels...) - metricValue(t, before, name, labels...)
	}
	checks := []struct {
		what      string
		got, want float64
	}{
		// The first scrape itself is a GET 2xx counted before the second.
		{"GET 2xx", delta("ferry_http_requests_total", "method", "GET", "code", "2xx"), 3},
		{"GET 4xx", delta("ferry_http_requests_total", "method", "GET", "code", "4xx"), 1},
		{"PUT 2xx", delta("ferry_http_requests_total", "method", "PUT", "code", "2xx"), 1},
		{"other 5xx", delta("ferry_http_requests_total", "method", "other", "code", "5xx"), 1},
		{"duration count", delta("ferry_http_request_duration_seconds"), 6},
		{"downloads complete", delta("ferry_downloads_total", "outcome", "complete"), 2},
		{"uploads complete", delta("ferry_uploads_total", "outcome", "complete"), 1},
		{"received bytes", delta("ferry_received_bytes_total"), 300},
		{"in flight", metricValue(t, after, "ferry_transfers_in_flight"), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: moved by %v, want %v", c.what, c.got, c.want)
		}
	}
	if d := delta("ferry_sent_bytes_total"); d < 2000 {
		t.Errorf("sent bytes moved by %v, want at least the two downloads' 2000", d)
	}
	if fams := after["ferry_http_requests_total"]; fams != nil {
		for _, m := range fams.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "method" && l.GetValue() == "FROB" {
					t.Error("an unknown method became a label value of its own")
				}
			}
		}
	}
}

// The metrics follow the status page's rule for who sees every client:
// without auth, clients on this machine; with auth, a grant on /.
func TestMetricsAccess(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"docs/a.txt": "a"})
	p := Start(t, dir, "-p", "0", "-q", "--auth", "alice:apw", "--auth", "bob:bpw@/docs:ro")
	if resp, _ := Do(t, "GET", p.URL+"/.ferry/metrics", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("metrics without credentials = %d, want 401", resp.StatusCode)
	}
	resp, body := Do(t, "GET", strings.Replace(p.URL, "://", "://bob:bpw@", 1)+"/.ferry/metrics", nil)
	if resp.StatusCode != http.StatusForbidden || strings.Contains(string(body), "ferry_") {
		t.Errorf("metrics for bob (grant on /docs) = %d, want 403 without figures:\n%s", resp.StatusCode, body)
	}
	scrape(t, p.URL, "alice:apw")

	// Many failed logins: the refusals show as rate_limit.
	for range 11 {
		Do(t, "GET", strings.Replace(p.URL, "://", "://mallory:guess@", 1)+"/docs/a.txt", nil)
	}
	// The block covers the address, alice's right password too; another
	// loopback address scrapes.
	client := &http.Client{Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext,
	}}
	req, _ := http.NewRequest("GET", p.URL+"/.ferry/metrics", nil)
	req.SetBasicAuth("alice", "apw")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if n := metricValue(t, fams, "ferry_refusals_total", "reason", "rate_limit"); n < 1 {
		t.Errorf("rate_limit refusals = %v after a blocked address, want at least 1", n)
	}

	// Without auth: a client from another address gets no metrics.
	lan := lanAddr(t)
	p = Start(t, dir, "-p", "0", "-q")
	scrape(t, p.URL, "")
	remote := "http://" + net.JoinHostPort(lan.String(), p.Port)
	if resp, _ := Do(t, "GET", remote+"/.ferry/metrics", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("metrics for a client at %s = %d, want 403", lan, resp.StatusCode)
	}
}

// A connection beyond --max-conns-per-ip is closed unread, and counted.
func TestMetricsConnectionRefusals(t *testing.T) {
	dir := t.TempDir()
	p := Start(t, dir, "-p", "0", "-q", "--max-conns-per-ip", "1", "-b", "127.0.0.1")
	held, err := net.Dial("tcp", "127.0.0.1:"+p.Port)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	// The server accepts the first one before the second is refused.
	if _, err := held.Write([]byte("GET /.ferry/health HTTP/1.1\r\nHost: localhost\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	if _, err := held.Read(buf); err != nil {
		t.Fatal(err)
	}
	extra, err := net.Dial("tcp", "127.0.0.1:"+p.Port)
	if err != nil {
		t.Fatal(err)
	}
	extra.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, _ := extra.Read(buf); n != 0 {
		t.Errorf("a connection beyond the cap was answered: %q", buf[:n])
	}
	extra.Close()
	// Scrape over the held connection: a second one would be refused too.
	if _, err := held.Write([]byte("GET /.ferry/metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(held), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if n := metricValue(t, fams, "ferry_refusals_total", "reason", "connections"); n != 1 {
		t.Errorf("connections refused = %v, want 1", n)
	}
}

// A 503 because the store cannot be reached counts as a storage refusal,
// not as overload: an operator alerting on overload is not sent to add
// capacity when the store is down.
func TestMetricsStorageRefusals(t *testing.T) {
	var down atomic.Bool
	store := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case down.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Query().Has("list-type"):
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`)
		case r.Method == http.MethodHead && strings.Count(strings.Trim(r.URL.Path, "/"), "/") == 0:
			// HeadBucket: the bucket is there.
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer store.Close()
	for _, v := range []string{"AWS_PROFILE", "AWS_CA_BUNDLE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	t.Setenv("AWS_REGION", "us-east-1")
	p := Start(t, t.TempDir(), "-p", "0", "-b", "127.0.0.1", "-q", "--upload", "--s3-endpoint", store.URL, "s3://b")

	down.Store(true)
	if resp, body := Do(t, "GET", p.URL+"/a.txt", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("GET with the store down = %d, want 503: %s", resp.StatusCode, body)
	}
	if resp, body := Do(t, "PUT", p.URL+"/up.txt", strings.NewReader("up")); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("PUT with the store down = %d, want 503: %s", resp.StatusCode, body)
	}
	fams := scrape(t, p.URL, "")
	if n := metricValue(t, fams, "ferry_refusals_total", "reason", "storage"); n != 2 {
		t.Errorf("storage refusals = %v, want 2 (a GET and a PUT)", n)
	}
	if n := metricValue(t, fams, "ferry_refusals_total", "reason", "overload"); n != 0 {
		t.Errorf("overload refusals = %v with the store down, want 0", n)
	}
	if n := metricValue(t, fams, "ferry_http_requests_total", "code", "5xx"); n != 2 {
		t.Errorf("5xx answers = %v, want 2", n)
	}
}
