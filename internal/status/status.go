// Package status renders the server's figures at /.ferry/status: HTML for
// people (kept current in place by status.js, reloaded by a meta refresh
// without script) and JSON for scripts.
package status

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/ferry-sh/ferry/internal/accesslog"
	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/transfer"
)

// Report is the JSON document.
type Report struct {
	Uptime        float64    `json:"uptime_seconds"`
	Started       time.Time  `json:"started"`
	Requests      int64      `json:"requests"`
	BytesSent     int64      `json:"bytes_sent"`
	BytesReceived int64      `json:"bytes_received"`
	Completed     int64      `json:"downloads_completed"`
	CutShort      int64      `json:"downloads_cut_short"`
	UpCompleted   int64      `json:"uploads_completed"`
	UpCutShort    int64      `json:"uploads_cut_short"`
	InFlight      []Flight   `json:"in_flight"`
	Recent        []Finished `json:"recent"`
	// Thumbnails are the grid's figures (made, from the cache, the most
	// made at once), when the server makes them.
	Thumbnails any `json:"thumbnails,omitempty"`
	// Shares are the viewer's own share links, to see and revoke; nil
	// when the server makes none or the viewer is anonymous.
	Shares []Share `json:"shares,omitempty"`
	// Clients says whether client addresses are shown (see Restrict).
	Clients bool `json:"-"`
}

// Share is one of the viewer's share links.
type Share struct {
	ID        string    `json:"id"`
	Path      string    `json:"path"`
	URL       string    `json:"url"`
	Expires   time.Time `json:"expires"`
	Downloads int       `json:"downloads,omitempty"` // allowed; 0 = no limit
	Used      int       `json:"used"`
}

// Viewer is what the client asking for the page may see.
type Viewer struct {
	Clients bool                   // other clients' addresses
	Reads   func(path string) bool // transfers on this URL path; nil: every one
}

// Restrict drops what v may not see: transfers on paths it may not read
// and, unless v may see them, every client address.
func (r *Report) Restrict(v Viewer) {
	r.Clients = v.Clients
	keep := func(p string) bool { return v.Reads == nil || v.Reads(p) }
	flights := r.InFlight[:0]
	for _, f := range r.InFlight {
		if keep(f.Path) {
			if !v.Clients {
				f.Client = ""
			}
			flights = append(flights, f)
		}
	}
	r.InFlight = flights
	recent := r.Recent[:0]
	for _, f := range r.Recent {
		if keep(f.Path) {
			if !v.Clients {
				f.Client = ""
			}
			recent = append(recent, f)
		}
	}
	r.Recent = recent
}

// Flight is a transfer in progress.
type Flight struct {
	Client  string  `json:"client,omitempty"`
	Method  string  `json:"method"`
	Path    string  `json:"path"`
	Kind    string  `json:"kind"`
	Size    int64   `json:"size"`
	Done    int64   `json:"done"`
	Elapsed float64 `json:"elapsed_seconds"`
	Rate    float64 `json:"bytes_per_second"`
}

// Finished is a download or upload that ended.
type Finished struct {
	Time   time.Time `json:"time"`
	Client string    `json:"client,omitempty"`
	// Kind is "download", "archive" or "upload".
	Kind string `json:"kind"`
	Path string `json:"path"`
	Size int64  `json:"size"`
	// Sent is what a download delivered; Received what an upload stored
	// of its file (-1 when one request stored several files).
	Sent     int64   `json:"sent"`
	Received int64   `json:"received,omitempty"`
	Outcome  string  `json:"outcome"`
	Duration float64 `json:"duration_seconds"`
}

// FromSnapshot builds the report.
func FromSnapshot(s transfer.Snapshot, now time.Time) Report {
	r := Report{
		Uptime: now.Sub(s.Start).Seconds(), Started: s.Start.UTC(),
		Requests: s.Requests, BytesSent: s.BytesSent, BytesReceived: s.BytesReceived,
		Completed: s.Completed, CutShort: s.CutShort,
		UpCompleted: s.UploadsCompleted, UpCutShort: s.UploadsCutShort,
		InFlight: []Flight{}, Recent: []Finished{},
	}
	for _, t := range s.InFlight {
		f := Flight{Client: t.Client, Method: t.Method, Path: t.Path, Kind: t.Kind.String(),
			Size: t.Size, Done: t.Done, Elapsed: t.Elapsed.Seconds()}
		if f.Elapsed > 0 {
			// A resumed upload's earlier part did not move in this time.
			f.Rate = float64(t.Done-t.Offset) / f.Elapsed
		}
		r.InFlight = append(r.InFlight, f)
	}
	sort.Slice(r.InFlight, func(i, j int) bool { return r.InFlight[i].Elapsed > r.InFlight[j].Elapsed })
	for i := len(s.Recent) - 1; i >= 0; i-- {
		d := s.Recent[i]
		f := Finished{Time: d.Time.UTC(), Client: d.Client, Kind: d.Kind.String(), Path: d.Path,
			Size: d.Size, Sent: d.Sent, Outcome: d.Outcome, Duration: d.Duration.Seconds()}
		if d.Kind == transfer.KindUpload {
			f.Sent, f.Received = 0, d.Sent
		}
		r.Recent = append(r.Recent, f)
	}
	return r
}

// Write answers with the report as JSON (?format=json or Accept) or HTML.
func Write(w http.ResponseWriter, r *http.Request, rep Report, pageHeaders func(http.Header)) {
	var buf bytes.Buffer
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if r.URL.Query().Get("format") == "json" || httperr.WantsJSON(r) {
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
		h.Set("Content-Type", "application/json")
	} else {
		if err := page.Execute(&buf, rep); err != nil {
			httperr.Write(w, r, http.StatusInternalServerError, "")
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		pageHeaders(h)
	}
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

func size(n int64) string { return string(accesslog.AppendSize(nil, n)) }

var page = template.Must(template.New("status").Funcs(template.FuncMap{
	"size": size,
	"pct": func(done, total int64) string {
		if total <= 0 {
			return "—"
		}
		return strconv.FormatFloat(float64(done)*100/float64(total), 'f', 0, 64) + "%"
	},
	"secs": func(s float64) string { return (time.Duration(s*1e9) / time.Second * time.Second).String() },
	"rate": func(r float64) string { return size(int64(r)) + "/s" },
	"when": func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>ferry status</title><link rel="stylesheet" href="assets/app.css"><link rel="icon" href="assets/favicon.svg" type="image/svg+xml">
<script src="assets/status.js" defer></script>
<noscript><meta http-equiv="refresh" content="2"></noscript></head>
<body><header class="top"><nav class="crumbs" aria-label="Breadcrumb"><ol><li><a href="../" class="home">Home</a></li><li><span aria-current="page">status</span></li></ol></nav></header><main>
<h1>ferry status</h1>
<table class="stats figures"><tbody>
<tr><td>Up since</td><td>{{when .Started}} ({{secs .Uptime}})</td></tr>
<tr><td>Requests</td><td>{{.Requests}}</td></tr>
<tr><td>Sent</td><td>{{size .BytesSent}}</td></tr>
<tr><td>Received</td><td>{{size .BytesReceived}}</td></tr>
<tr><td>Downloads completed</td><td>{{.Completed}}</td></tr>
<tr><td>Downloads cut short</td><td>{{.CutShort}}</td></tr>
<tr><td>Uploads completed</td><td>{{.UpCompleted}}</td></tr>
<tr><td>Uploads cut short</td><td>{{.UpCutShort}}</td></tr>
</tbody></table>
<h2>In flight</h2>
{{if .InFlight}}<table class="stats"><thead><tr>{{if .Clients}}<th>Client</th>{{end}}<th>What</th><th>Progress</th><th>Speed</th></tr></thead><tbody>
{{range .InFlight}}<tr>{{if $.Clients}}<td>{{.Client}}</td>{{end}}<td>{{.Method}} {{.Path}}</td><td>{{size .Done}} of {{if ge .Size 0}}{{size .Size}}{{else}}?{{end}} ({{pct .Done .Size}})</td><td>{{rate .Rate}}</td></tr>
{{end}}</tbody></table>{{else}}<p>Nothing in flight.</p>{{end}}
<h2>Recent transfers</h2>
{{if .Recent}}<table class="stats"><thead><tr><th>When</th>{{if .Clients}}<th>Client</th>{{end}}<th>File</th><th>Outcome</th></tr></thead><tbody>
{{range .Recent}}<tr><td>{{when .Time}}</td>{{if $.Clients}}<td>{{.Client}}</td>{{end}}<td>{{if eq .Kind "upload"}}↑{{else}}↓{{end}} {{.Path}}</td><td>{{.Outcome}}{{if eq .Kind "upload"}}{{if ge .Received 0}} ({{size .Received}}{{if ge .Size 0}} of {{size .Size}}{{end}}){{end}}{{else}} ({{size .Sent}}{{if ge .Size 0}} of {{size .Size}}{{end}}){{end}}</td></tr>
{{end}}</tbody></table>{{else}}<p>None yet.</p>{{end}}
{{- if .Shares}}
<h2>Your share links</h2>
<table class="stats shares"><thead><tr><th>Shared</th><th>Link</th><th>Expires</th><th>Downloads</th><th><span class="visually-hidden">Revoke</span></th></tr></thead><tbody>
{{range .Shares}}<tr><td>{{.Path}}</td><td><a href="{{.URL}}">{{.URL}}</a></td><td>{{when .Expires}}</td><td>{{if .Downloads}}{{.Used}} of {{.Downloads}}{{else}}{{.Used}} (no limit){{end}}</td><td><form method="post" action="shares"><input type="hidden" name="revoke" value="{{.ID}}"><button class="btn" type="submit" aria-label="Revoke the link to {{.Path}}">Revoke</button></form></td></tr>
{{end}}</tbody></table>
{{- end}}
</main></body></html>
`))
