package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// servers in table order; nginx is the reference.
var servers = []string{"nginx", "lighttpd", "caddy", "gofs", "python", "ferry"}

// columns are every server of the table, in order: the local six and the
// peers of the object-storage and WebDAV parts. A column nothing was
// measured on in a run (those parts are skipped in --quick) is left out of
// its Markdown table.
var columns = []string{"nginx", "lighttpd", "caddy", "gofs", "python", "apache", "rclone", "rclone-nc", "weed", "ferry"}

var columnTitle = map[string]string{"apache": "Apache", "rclone-nc": "rclone, no dir cache", "weed": "SeaweedFS"}

// A group is a part of the run: its figures share the servers they apply to,
// and the table says so in a heading row (the chart in a heading).
type group struct {
	prefix  string // of the metric IDs in the group
	name    string
	about   string   // which servers apply, for the table
	servers []string // the servers measured; the others' cells are n/a
	ceiling string   // a server shown for reference, never the best peer
}

var groups = []group{
	{"i_", "Compression", "the listing as a browser asks for it, every server as configured (nginx: `gzip on`, Debian's default; the others do not compress listings)", servers, ""},
	{"s3_", "Object storage", "`bench/s3` on one `weed mini`: ferry on `s3://`, `rclone serve http` on the same bucket (as installed, and with `--dir-cache-time 0s`; uploads: `rclone serve webdav`), SeaweedFS's S3 gateway read directly (the ceiling, not counted as a peer); median of the rounds [range]; nothing pinned", []string{"rclone", "rclone-nc", "weed", "ferry"}, "weed"},
	{"w_", "WebDAV", "`bench/webdav`: ferry `--webdav -w`, Apache httpd mod_dav_fs, `rclone serve webdav`, SeaweedFS `weed webdav`; litmus, then PROPFIND Depth 1 of a 10,000-entry folder (median of 7)", []string{"apache", "rclone", "weed", "ferry"}, ""},
}

var localGroup = group{"", "Serving a folder", "nginx, lighttpd, caddy, gofs, python and ferry on the same folder, server on core 0, load on core 1", servers, ""}

func groupOf(id string) group {
	for _, g := range groups {
		if strings.HasPrefix(id, g.prefix) {
			return g
		}
	}
	return localGroup
}

type metricDef struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	Unit   string `json:"unit"`
	Better string `json:"better"` // "higher", "lower" or "" (no direction)
}

// peerMetrics are measured on every server; ferryMetrics on ferry alone.
var peerMetrics = []metricDef{
	{"load1", "machine load average (1 min) as the server's pass began", "", ""},
	{"a_rps", "(a) 1 KiB GET, keep-alive, 64 conns", "req/s", "higher"},
	{"a_p50", "(a) p50 latency", "ms", "lower"},
	{"a_p99", "(a) p99 latency", "ms", "lower"},
	{"a_gencpu", "(a) CPU of wrk (the load generator, one thread) during the load", "% of a core", ""},
	{"a_srvcpu", "(a) CPU of the server during the load", "% of a core", ""},
	{"b_rps", "(b) 1 KiB GET, new connection each, 64 conns", "req/s", "higher"},
	{"b_p50", "(b) p50 latency", "ms", "lower"},
	{"b_p99", "(b) p99 latency", "ms", "lower"},
	{"b_gencpu", "(b) CPU of wrk during the load", "% of a core", ""},
	{"b_srvcpu", "(b) CPU of the server during the load", "% of a core", ""},
	{"c1_mbps", "(c) 1 GiB download, 1 stream", "MB/s", "higher"},
	{"c1_gencpu", "(c) 1 stream: CPU of loadtool (the client)", "% of a core", ""},
	{"c1_srvcpu", "(c) 1 stream: CPU of the server", "% of a core", ""},
	{"c8_mbps", "(c) 1 GiB download, 8 streams", "MB/s", "higher"},
	{"c8_gencpu", "(c) 8 streams: CPU of loadtool", "% of a core", ""},
	{"c8_srvcpu", "(c) 8 streams: CPU of the server", "% of a core", ""},
	{"d_rps", "(d) listing of 10,000 entries", "req/s", "higher"},
	{"d_bytes", "(d) listing page size", "bytes", ""},
	{"d_bytes_entry", "(d) … per entry", "bytes", ""},
	{"d_bytes_gzip", "(d) … on the wire with Accept-Encoding: gzip", "bytes", ""},
	{"d_bytes_zstd", "(d) … on the wire with Accept-Encoding: zstd", "bytes", ""},
	{"d_gencpu", "(d) CPU of wrk during the load", "% of a core", ""},
	{"d_srvcpu", "(d) CPU of the server during the load", "% of a core", ""},
	{"e_rps", "(e) 1,000-byte Range, 64 conns", "req/s", "higher"},
	{"e_gencpu", "(e) CPU of wrk during the load", "% of a core", ""},
	{"e_srvcpu", "(e) CPU of the server during the load", "% of a core", ""},
	{"f_rss_start", "(f) RSS at start", "KiB", "lower"},
	{"f_rss_held", "(f) RSS holding the idle conns (10,000; 1,000 with --quick)", "KiB", "lower"},
	{"f_per_conn", "(f) RSS per idle conn", "KiB", "lower"},
	{"f_held", "(f) idle conns still open after 2 s", "conns", ""},
	{"f_p50", "(f) new request while held, p50", "ms", "lower"},
	{"f_p99", "(f) new request while held, p99", "ms", "lower"},
	{"g_p50", "(g) small GET during 1 MB/s download, p50", "ms", "lower"},
	{"g_p99", "(g) small GET during 1 MB/s download, p99", "ms", "lower"},
	{"ja_rps", "(j) 1 KiB GET as (a), server capped at half a core", "req/s", "higher"},
	{"ja_gencpu", "(j) CPU of wrk during that load", "% of a core", ""},
	{"ja_srvcpu", "(j) CPU of the server during that load", "% of a core", ""},
	{"ja_percore", "(j) 1 KiB GET per core of server CPU (req/s ÷ its CPU share)", "req/s", "higher"},
	{"je_rps", "(j) Range as (e), server capped at half a core", "req/s", "higher"},
	{"je_gencpu", "(j) CPU of wrk during that load", "% of a core", ""},
	{"je_srvcpu", "(j) CPU of the server during that load", "% of a core", ""},
	{"je_percore", "(j) Range per core of server CPU (req/s ÷ its CPU share)", "req/s", "higher"},
	{"k_rps", "(k) HTTP/2 over TLS: 1 KiB GET, 10 conns × 10 streams", "req/s", "higher"},
	{"k_gencpu", "(k) CPU of h2load (one thread) during the load", "% of a core", ""},
	{"k_srvcpu", "(k) CPU of the server during the load", "% of a core", ""},
	{"k_cpu_us", "(k) server CPU time per request", "µs", "lower"},
	{"k_mbps", "(k) HTTP/2 over TLS: 1 GiB download, 1 stream", "MB/s", "higher"},
	{"k_dl_gencpu", "(k) CPU of h2load during the download", "% of a core", ""},
	{"k_dl_srvcpu", "(k) CPU of the server during the download", "% of a core", ""},
	{"k_dl_cpu_s", "(k) server CPU time for the 1 GiB", "s", "lower"},
}

// partMetrics follow peerMetrics in the table: compression (measured in
// bench/run's first pass), then the object-storage and WebDAV parts.
var partMetrics = []metricDef{
	{"i_wire", "(i) 10,000-entry listing to a browser, bytes on the wire", "bytes", "lower"},
	{"i_rps", "(i) the same listing with that Accept-Encoding, 8 conns", "req/s", "higher"},
	{"i_gencpu", "(i) CPU of wrk during the load", "% of a core", ""},
	{"i_srvcpu", "(i) CPU of the server during the load", "% of a core", ""},
	{"s3_dl", "(s) 1 GiB download from S3, 1 stream", "MB/s", "higher"},
	{"s3_dl_srvcpu", "(s) download: CPU of the server (the ceiling: the store)", "% of a core", ""},
	{"s3_dl_storecpu", "(s) download: CPU of the store behind the server", "% of a core", ""},
	{"s3_dl_gencpu", "(s) download: CPU of the client (loadtool)", "% of a core", ""},
	{"s3_get", "(s) 1 KiB GET from S3, 32 conns", "req/s", "higher"},
	{"s3_get_srvcpu", "(s) 1 KiB GET: CPU of the server", "% of a core", ""},
	{"s3_get_storecpu", "(s) 1 KiB GET: CPU of the store", "% of a core", ""},
	{"s3_get_gencpu", "(s) 1 KiB GET: CPU of wrk", "% of a core", ""},
	{"s3_range", "(s) 1,000-byte Range from S3, 32 conns", "req/s", "higher"},
	{"s3_range_srvcpu", "(s) Range: CPU of the server", "% of a core", ""},
	{"s3_range_storecpu", "(s) Range: CPU of the store", "% of a core", ""},
	{"s3_range_gencpu", "(s) Range: CPU of wrk", "% of a core", ""},
	{"s3_list", "(s) listing of a 10,000-object folder", "s", "lower"},
	{"s3_list_srvcpu", "(s) listing: CPU of the server", "% of a core", ""},
	{"s3_list_storecpu", "(s) listing: CPU of the store", "% of a core", ""},
	{"s3_list_gencpu", "(s) listing: CPU of the client (curl; s3tool for the ceiling)", "% of a core", ""},
	{"s3_up", "(s) 1 GiB upload to S3 by PUT", "MB/s", "higher"},
	{"s3_up_srvcpu", "(s) upload: CPU of the server", "% of a core", ""},
	{"s3_up_storecpu", "(s) upload: CPU of the store", "% of a core", ""},
	{"s3_up_gencpu", "(s) upload: CPU of the client (loadtool)", "% of a core", ""},
	{"w_passed", "(w) litmus tests passed", "tests", "higher"},
	{"w_propfind", "(w) PROPFIND Depth 1 of 10,000 entries", "ms", "lower"},
	{"w_size", "(w) PROPFIND answer size", "KiB", ""},
	{"w_srvcpu", "(w) PROPFIND: CPU of the server", "% of a core", ""},
	{"w_gencpu", "(w) PROPFIND: CPU of curl", "% of a core", ""},
}

var ferryMetrics = []metricDef{
	{"h_put_mbps", "(h) upload 1 GiB by PUT, curl -T", "MB/s", "higher"},
	{"h_put_hwm", "(h) … peak RSS (VmHWM)", "MiB", "lower"},
	{"h_put_go_mbps", "(h) upload 1 GiB by PUT, Go client (1 MiB buffers)", "MB/s", "higher"},
	{"h_put_go_hwm", "(h) … peak RSS (VmHWM)", "MiB", "lower"},
	{"h_post_mbps", "(h) upload 1 GiB by multipart POST, curl -F", "MB/s", "higher"},
	{"h_post_hwm", "(h) … peak RSS (VmHWM)", "MiB", "lower"},
	{"h_post_go_mbps", "(h) upload 1 GiB by multipart POST, Go client", "MB/s", "higher"},
	{"h_post_go_hwm", "(h) … peak RSS (VmHWM)", "MiB", "lower"},
	{"sink_put_curl", "client ceiling: curl -T into a discarding Go server", "MB/s", "higher"},
	{"sink_put_go", "client ceiling: Go PUT into a discarding Go server", "MB/s", "higher"},
	{"sink_post_curl", "client ceiling: curl -F into a discarding Go server", "MB/s", "higher"},
	{"sink_post_go", "client ceiling: Go POST into a discarding Go server", "MB/s", "higher"},
	{"sink_disk", "disk ceiling: dd of the 1 GiB file with fsync, after the same pre-fault", "MB/s", "higher"},
	{"sink_disk_nofault", "disk ceiling without the pre-fault (the VM provides fresh memory)", "MB/s", "higher"},
	{"h_zip_mbps", "(h) ?zip of the 10,000-file folder, warm page cache", "MB/s", "higher"},
	{"h_zip_cold_mbps", "(h) ?zip of the 10,000-file folder, cold (its data pages evicted first)", "MB/s", "higher"},
	{"h_zip_bytes", "(h) ?zip archive size", "bytes", ""},
	{"h_zip_hwm", "(h) ?zip peak RSS (VmHWM)", "MiB", "lower"},
	{"s_1k_ms", "(h) listing 1,000 entries, one client", "ms", "lower"},
	{"s_10k_ms", "(h) listing 10,000 entries, one client", "ms", "lower"},
	{"s_100k_ms", "(h) listing 100,000 entries, one client", "ms", "lower"},
	{"s_1k_us", "(h) per entry at 1,000", "µs", "lower"},
	{"s_100k_us", "(h) per entry at 100,000", "µs", "lower"},
	{"s_growth", "(h) growth 1k→100k ÷ 100 (1.0 = linear)", "×", "lower"},
	{"h_many_s", "(h) 10,000 clients at once, each downloading 1 MiB on a keep-alive connection of its own: wall time", "s", "lower"},
	{"h_many_hwm", "(h) … peak RSS (VmHWM)", "MiB", "lower"},
	{"h_many_per_kib", "(h) … peak RSS per download, above ferry's at start", "KiB", "lower"},
	{"s3_rss", "(s) peak RSS (VmHWM) across ferry's uploads to S3", "KiB", "lower"},
}

// jsonMetric is a metric as results.json describes it: with its group, the
// servers it applies to and the ceiling, if any.
type jsonMetric struct {
	metricDef
	Group   string   `json:"group"`
	Servers []string `json:"servers"`
	Ceiling string   `json:"ceiling,omitempty"`
}

type sample struct {
	Value float64
	Note  string
	ok    bool
}

type key struct{ metric, server, run string }

type result struct {
	Metric   string   `json:"metric"`
	Server   string   `json:"server"`
	Run      int      `json:"run"`
	Value    *float64 `json:"value"`
	Unit     string   `json:"unit"`
	Better   string   `json:"better,omitempty"`
	Note     string   `json:"note,omitempty"`
	VsNginx  *float64 `json:"vs_nginx,omitempty"`
	VsBest   *float64 `json:"vs_best_peer,omitempty"`
	BestPeer string   `json:"best_peer,omitempty"`
	// VsCeiling is the value over the group's ceiling (the store read
	// directly), turned like the other ratios.
	VsCeiling *float64 `json:"vs_ceiling,omitempty"`
}

// report reads the lines bench/run wrote ("server metric run value note",
// tab-separated) and writes the JSON file and the Markdown tables.
func report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	in := fs.String("in", "", "results TSV")
	metaIn := fs.String("meta", "", "key<TAB>value lines describing the run")
	jsonOut := fs.String("json", "", "results.json to write")
	mdOut := fs.String("md", "", "Markdown to write (also printed)")
	fs.Parse(args)
	if *in == "" {
		return errors.New("report: -in is required")
	}
	data := map[key]sample{}
	runsOf := map[string]map[string]bool{}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) < 4 {
			continue
		}
		s := sample{Note: strings.Join(fields[4:], " ")}
		if v, err := strconv.ParseFloat(fields[3], 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
			s.Value, s.ok = v, true
		}
		data[key{fields[1], fields[0], fields[2]}] = s
		if runsOf[fields[1]] == nil {
			runsOf[fields[1]] = map[string]bool{}
		}
		runsOf[fields[1]][fields[2]] = true
	}
	f.Close()

	meta := map[string]string{}
	if *metaIn != "" {
		if b, err := os.ReadFile(*metaIn); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				k, v, ok := strings.Cut(line, "\t")
				if ok {
					meta[k] = v
				}
			}
		}
	}

	// Columns: the servers with at least one figure in this run.
	measured := map[string]bool{}
	for k := range data {
		measured[k.server] = true
	}
	var cols []string
	for _, c := range columns {
		if measured[c] {
			cols = append(cols, c)
		}
	}
	titles := make([]string, len(cols))
	for i, c := range cols {
		titles[i] = c
		if t := columnTitle[c]; t != "" {
			titles[i] = t
		}
	}

	var md strings.Builder
	var results []result
	fmt.Fprintf(&md, "Cells: value (÷ nginx, ÷ best other server). ↑ higher is better, ↓ lower is better. n/a: not measured, or the figure does not apply to that server (each part's heading row says which apply). MB = 10⁶ bytes.\n\n")
	fmt.Fprintf(&md, "| metric | unit | | %s |\n", strings.Join(titles, " | "))
	fmt.Fprintf(&md, "|---|---|---|%s\n", strings.Repeat("---:|", len(cols)))
	cur := ""
	for _, m := range append(append([]metricDef{}, peerMetrics...), partMetrics...) {
		g := groupOf(m.ID)
		for _, run := range []string{"1", "2"} {
			if !runsOf[m.ID][run] {
				continue
			}
			if g.name != cur {
				cur = g.name
				fmt.Fprintf(&md, "| **%s**: %s |  |  |%s\n", g.name, g.about, strings.Repeat("  |", len(cols)))
			}
			label := m.Label
			if runsOf[m.ID]["2"] {
				label += " — run " + run
			}
			arrow := arrows[m.Better]
			cells := make([]string, len(cols))
			for i, srv := range cols {
				if !slices.Contains(g.servers, srv) {
					cells[i] = "n/a"
					continue
				}
				r := compute(data, m, srv, run, g)
				results = append(results, r)
				cells[i] = cell(r, m)
			}
			fmt.Fprintf(&md, "| %s | %s | %s | %s |\n", label, m.Unit, arrow, strings.Join(cells, " | "))
		}
	}

	fmt.Fprintf(&md, "\nferry only (with the clients' ceiling for context):\n\n| metric | unit | | ferry |\n|---|---|---|---:|\n")
	for _, m := range ferryMetrics {
		s, ok := data[key{m.ID, "ferry", "1"}]
		if !ok {
			continue
		}
		r := result{Metric: m.ID, Server: "ferry", Run: 1, Unit: m.Unit, Better: m.Better, Note: s.Note}
		if s.ok {
			v := s.Value
			r.Value = &v
		}
		results = append(results, r)
		fmt.Fprintf(&md, "| %s | %s | %s | %s |\n", m.Label, m.Unit, arrows[m.Better], cell(r, m))
	}

	if *jsonOut != "" {
		var metrics []jsonMetric
		for _, m := range append(append(append([]metricDef{}, peerMetrics...), partMetrics...), ferryMetrics...) {
			g := groupOf(m.ID)
			jm := jsonMetric{metricDef: m, Group: g.name, Servers: g.servers, Ceiling: g.ceiling}
			if slices.Contains(ferryMetrics, m) {
				jm.Servers = []string{"ferry"}
			}
			metrics = append(metrics, jm)
		}
		out := map[string]any{
			"meta":    meta,
			"servers": cols,
			"titles":  columnTitle,
			"metrics": metrics,
			"results": results,
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if *mdOut != "" {
		if err := os.WriteFile(*mdOut, []byte(md.String()), 0o644); err != nil {
			return err
		}
	}
	fmt.Print(md.String())
	return nil
}

var arrows = map[string]string{"higher": "↑", "lower": "↓"}

// compute is one cell: the value and its ratios to nginx (where nginx
// applies) and to the best of the group's other servers, its ceiling aside.
func compute(data map[key]sample, m metricDef, srv, run string, g group) result {
	s := data[key{m.ID, srv, run}]
	r := result{Metric: m.ID, Server: srv, Unit: m.Unit, Better: m.Better, Note: s.Note}
	r.Run, _ = strconv.Atoi(run)
	if !s.ok {
		return r
	}
	v := s.Value
	r.Value = &v
	if m.Better == "" {
		return r
	}
	if n, ok := data[key{m.ID, "nginx", run}]; ok && n.ok && n.Value != 0 {
		q := v / n.Value
		r.VsNginx = &q
	}
	best, bestName := 0.0, ""
	for _, p := range g.servers {
		ps := data[key{m.ID, p, run}]
		if p == srv || p == g.ceiling || !ps.ok {
			continue
		}
		if bestName == "" || (m.Better == "higher" && ps.Value > best) || (m.Better == "lower" && ps.Value < best) {
			best, bestName = ps.Value, p
		}
	}
	if bestName != "" && best != 0 {
		q := v / best
		r.VsBest, r.BestPeer = &q, bestName
	}
	if c := data[key{m.ID, g.ceiling, run}]; g.ceiling != "" && srv != g.ceiling && c.ok && c.Value != 0 {
		q := v / c.Value
		r.VsCeiling = &q
	}
	return r
}

func cell(r result, m metricDef) string {
	if r.Value == nil {
		if r.Note != "" {
			return "n/a (" + r.Note + ")"
		}
		return "n/a"
	}
	s := num(*r.Value)
	if r.Note != "" {
		s += " [" + r.Note + "]"
	}
	if r.VsNginx == nil && r.VsBest == nil {
		return s
	}
	ratio := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.2f", *p)
	}
	if r.VsCeiling != nil {
		return fmt.Sprintf("%s (%s, %s; ÷ ceiling %s)", s, ratio(r.VsNginx), ratio(r.VsBest), ratio(r.VsCeiling))
	}
	return fmt.Sprintf("%s (%s, %s)", s, ratio(r.VsNginx), ratio(r.VsBest))
}

// num prints with thousands separators above 100 and three significant
// digits below.
func num(v float64) string {
	if math.Abs(v) >= 100 {
		s := strconv.FormatInt(int64(math.Round(v)), 10)
		var b strings.Builder
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		if neg {
			return "-" + b.String()
		}
		return b.String()
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
