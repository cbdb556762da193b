package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// resultsFile is the part of bench/results.json the chart reads (written by
// loadtool report).
type resultsFile struct {
	Meta    map[string]string `json:"meta"`
	Titles  map[string]string `json:"titles"` // servers' names as the table shows them, where not their ID
	Metrics []metric          `json:"metrics"`
	Results []result          `json:"results"`
}

type metric struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	Unit   string `json:"unit"`
	Better string `json:"better"` // "higher", "lower" or "" (no direction: not charted)
	Group  string `json:"group"`  // a heading above the figure's bar, when it changes
}

type result struct {
	Metric   string   `json:"metric"`
	Server   string   `json:"server"`
	Run      int      `json:"run"`
	Value    *float64 `json:"value"`
	Note     string   `json:"note"`
	VsBest   *float64 `json:"vs_best_peer"`
	BestPeer string   `json:"best_peer"`
}

// bar is one figure as drawn.
type bar struct {
	ID, Label, Group string
	Lower            bool    // lower is better: the ratio was inverted
	Ratio            float64 // geometric mean over runs; > 1 means ferry did better
	Lo, Hi           float64 // lowest and highest run
	Runs             int
	Peers            []string // the best other server of each run, once each
	NA               string   // why there is no bar (ferry's figure or every peer's is missing)
}

// bars turns results into one bar per figure that ferry and at least one
// other server were measured on, in the order of the metrics. Figures
// without a direction (CPU, sizes) and ferry-only figures are left out; a
// figure ferry or every peer has no value for is kept, marked n/a.
func bars(rf resultsFile) []bar {
	type runs struct {
		ferry  []result
		others bool // another server has a row for this figure
	}
	by := map[string]*runs{}
	for _, r := range rf.Results {
		e := by[r.Metric]
		if e == nil {
			e = &runs{}
			by[r.Metric] = e
		}
		if r.Server == "ferry" {
			e.ferry = append(e.ferry, r)
		} else {
			e.others = true
		}
	}
	var out []bar
	for _, m := range rf.Metrics {
		e := by[m.ID]
		if m.Better == "" || e == nil || !e.others || len(e.ferry) == 0 {
			continue
		}
		b := bar{ID: m.ID, Label: m.Label, Group: m.Group, Lower: m.Better == "lower"}
		var logs []float64
		var why []string
		for _, r := range e.ferry {
			switch {
			case r.Value == nil:
				why = append(why, "ferry: "+orText(r.Note, "not measured"))
				continue
			case r.VsBest == nil:
				why = append(why, "no other server measured")
				continue
			}
			q := *r.VsBest
			if b.Lower {
				q = 1 / q // ferry at 0 where others are not: +Inf, drawn clipped
			}
			if q <= 0 || math.IsNaN(q) {
				why = append(why, "ferry at 0")
				continue
			}
			logs = append(logs, math.Log(q))
			peer := r.BestPeer
			if t := rf.Titles[peer]; t != "" {
				peer = t
			}
			if !slices.Contains(b.Peers, peer) {
				b.Peers = append(b.Peers, peer)
			}
		}
		if len(logs) == 0 {
			slices.Sort(why)
			b.NA = strings.Join(slices.Compact(why), "; ")
			out = append(out, b)
			continue
		}
		sum := 0.0
		b.Lo, b.Hi = math.Inf(1), math.Inf(-1)
		for _, l := range logs {
			sum += l
			b.Lo = math.Min(b.Lo, math.Exp(l))
			b.Hi = math.Max(b.Hi, math.Exp(l))
		}
		b.Ratio = math.Exp(sum / float64(len(logs)))
		b.Runs = len(logs)
		out = append(out, b)
	}
	return out
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// Layout, in SVG user units (px at 100 %).
const (
	rowH     = 22
	fontPx   = 12
	charPx   = 6.4 // a generous average advance at 12 px, for sizing the text columns
	plotW    = 400
	maxLog2  = 5 // the axis runs from 1/32 to 32; bars beyond are clipped with a marker
	pad      = 16
	headTop  = 92 // title, subtitle, legend
	axisH    = 30
	footH    = 26
	barInset = 5
)

// Colours: the Okabe–Ito blue and vermilion, told apart by readers with any
// common colour-vision deficiency, and dark enough to stand out on white and
// on a dark page. Which side of 1.0 a bar is on says the same thing as its
// colour. Text, grid and background follow the reader's colour scheme; the
// attributes are the light scheme, for renderers without CSS.
const style = `
.bg{fill:#ffffff}.fg{fill:#1f2328}.dim{fill:#59636e}.grid{stroke:#d1d9e0}.one{stroke:#1f2328}
.ahead{fill:#0072b2}.behind{fill:#d55e00}.whisker{stroke:#1f2328}
@media (prefers-color-scheme: dark){
.bg{fill:#0d1117}.fg{fill:#e6edf3}.dim{fill:#9198a1}.grid{stroke:#3d444d}.one{stroke:#e6edf3}
.ahead{fill:#56b4e9}.behind{fill:#e69f00}.whisker{stroke:#e6edf3}}
`

// render writes the SVG. Every text from the results goes through esc.
func render(w io.Writer, rf resultsFile, bs []bar) {
	labelW, noteLen := 0, 0
	for _, b := range bs {
		labelW = max(labelW, utf8.RuneCountInString(rowLabel(b)))
		noteLen = max(noteLen, utf8.RuneCountInString(noteText(b)))
	}
	lw := int(float64(labelW)*charPx) + pad
	noteW := max(int(float64(noteLen)*charPx)+pad, 560-plotW) // the legend needs that much
	x0 := lw + pad                                            // left edge of the plot
	one := x0 + plotW/2                                       // x of 1.0
	unit := plotW / 2 / maxLog2                               // px per doubling
	rows := 0
	group := ""
	for _, b := range bs {
		if b.Group != "" && b.Group != group {
			rows++
			group = b.Group
		}
		rows++
	}
	width := x0 + plotW + noteW + pad
	height := headTop + axisH + rows*rowH + footH
	xOf := func(q float64) float64 {
		l := math.Log2(q)
		l = math.Max(-maxLog2, math.Min(maxLog2, l))
		return float64(one) + l*float64(unit)
	}

	title := "ferry ÷ the best other server, per figure"
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="t d" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="%d">`+"\n",
		width, height, width, height, fontPx)
	fmt.Fprintf(w, "<title id=\"t\">%s</title>\n", esc(title))
	fmt.Fprintf(w, "<desc id=\"d\">%s</desc>\n", esc(fmt.Sprintf("One bar per figure of %s: ferry's figure divided by the best other server's; for figures where lower is better, the best other server's divided by ferry's. Right of 1.0, ferry did better.", runLine(rf.Meta))))
	fmt.Fprintf(w, "<style>%s</style>\n", style)
	fmt.Fprintf(w, `<rect class="bg" fill="#ffffff" x="0" y="0" width="%d" height="%d"/>`+"\n", width, height)
	fmt.Fprintf(w, `<text class="fg" fill="#1f2328" x="%d" y="26" font-size="16" font-weight="bold">%s</text>`+"\n", pad, esc(title))
	fmt.Fprintf(w, `<text class="dim" fill="#59636e" x="%d" y="46">%s</text>`+"\n", pad, esc(runLine(rf.Meta)))
	fmt.Fprintf(w, `<rect class="ahead" fill="#0072b2" x="%d" y="58" width="12" height="10"/>`, pad)
	fmt.Fprintf(w, `<text class="fg" fill="#1f2328" x="%d" y="67">%s</text>`+"\n", pad+16, esc("right of 1.0: ferry better"))
	fmt.Fprintf(w, `<rect class="behind" fill="#d55e00" x="%d" y="58" width="12" height="10"/>`, pad+200)
	fmt.Fprintf(w, `<text class="fg" fill="#1f2328" x="%d" y="67">%s</text>`+"\n", pad+216, esc("left of 1.0: the best other server better"))
	fmt.Fprintf(w, `<text class="dim" fill="#59636e" x="%d" y="84">%s</text>`+"\n", pad,
		esc("Log scale. ↓ figures (lower is better) are drawn as best ÷ ferry, so right is always better. Whiskers: lowest and highest run."))

	// Axis: a grid line per doubling, labelled above the rows.
	top := headTop + axisH
	bottom := top + rows*rowH
	for l := -maxLog2; l <= maxLog2; l++ {
		x := one + l*unit
		label := fmt.Sprint(math.Exp2(float64(l)))
		if l < 0 {
			label = fmt.Sprintf("1/%d", 1<<-l)
		} else if l == 0 {
			label = "1.0"
		}
		if l != 0 {
			fmt.Fprintf(w, `<line class="grid" stroke="#d1d9e0" x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n", x, top-4, x, bottom)
		}
		fmt.Fprintf(w, `<text class="dim" fill="#59636e" x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", x, top-10, esc(label))
	}

	y := top
	group = ""
	for _, b := range bs {
		if b.Group != "" && b.Group != group {
			group = b.Group
			fmt.Fprintf(w, `<text class="fg" fill="#1f2328" x="%d" y="%d" font-weight="bold">%s</text>`+"\n", pad, y+rowH-6, esc(group))
			y += rowH
		}
		mid := y + rowH/2
		fmt.Fprintf(w, `<text class="fg" fill="#1f2328" x="%d" y="%d" text-anchor="end">%s</text>`+"\n", lw, mid+4, esc(rowLabel(b)))
		if b.NA != "" {
			fmt.Fprintf(w, `<text class="dim" fill="#59636e" x="%d" y="%d" font-style="italic" data-figure="%s">%s</text>`+"\n", one+6, mid+4, esc(b.ID), esc("n/a: "+b.NA))
			y += rowH
			continue
		}
		xr := xOf(b.Ratio)
		cls, fill := "ahead", "#0072b2"
		if b.Ratio < 1 {
			cls, fill = "behind", "#d55e00"
		}
		left, right := math.Min(xr, float64(one)), math.Max(xr, float64(one))
		// A ratio near 1 still gets a visible stub on its side of the line.
		if right-left < 4 {
			if b.Ratio < 1 {
				left = right - 4
			} else {
				right = left + 4
			}
		}
		fmt.Fprintf(w, `<rect class="bar %s" fill="%s" data-figure="%s" data-ratio="%.4g" x="%.1f" y="%d" width="%.1f" height="%d"/>`+"\n",
			cls, fill, esc(b.ID), b.Ratio, left, y+barInset, right-left, rowH-2*barInset)
		if b.Ratio > math.Exp2(maxLog2) || b.Ratio < math.Exp2(-maxLog2) {
			// Clipped: a chevron at the end says the bar goes on.
			d := 6.0
			if b.Ratio < 1 {
				d = -6
			}
			fmt.Fprintf(w, `<path class="%s" fill="%s" d="M%.1f %d L%.1f %d L%.1f %d Z"/>`+"\n", cls, fill, xr, y+barInset-2, xr+d, mid, xr, y+rowH-barInset+2)
		}
		if b.Runs > 1 && b.Hi/b.Lo > 1.0001 {
			fmt.Fprintf(w, `<line class="whisker" stroke="#1f2328" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`+"\n", xOf(b.Lo), mid, xOf(b.Hi), mid)
		}
		fmt.Fprintf(w, `<text class="fg" fill="#1f2328" x="%d" y="%d">%s</text>`+"\n", x0+plotW+8, mid+4, esc(noteText(b)))
		y += rowH
	}
	// The 1.0 line is drawn last so that no bar covers it.
	fmt.Fprintf(w, `<line class="one" stroke="#1f2328" stroke-width="1.5" x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n", one, top-4, one, bottom)
	fmt.Fprintf(w, `<text class="dim" fill="#59636e" x="%d" y="%d">%s</text>`+"\n", pad, bottom+18,
		esc("Drawn by bench/cmd/chart from bench/results.json; every figure, with units and CPU, is in the table below."))
	fmt.Fprintln(w, "</svg>")
}

func rowLabel(b bar) string {
	if b.Lower {
		return b.Label + " ↓"
	}
	return b.Label + " ↑"
}

// noteText is the number the bar stands for, and whom ferry was compared with.
func noteText(b bar) string {
	s := ratioText(b.Ratio)
	if b.Runs > 1 && b.Hi/b.Lo > 1.0001 {
		s += " (" + ratioText(b.Lo) + "–" + ratioText(b.Hi) + ")"
	}
	return s + " vs " + strings.Join(b.Peers, ", ")
}

func ratioText(q float64) string {
	switch {
	case math.IsInf(q, 1):
		return "∞"
	case q >= 10:
		return fmt.Sprintf("%.0f×", q)
	case q < 0.1:
		return fmt.Sprintf("%.2g×", q) // two significant digits, not 0.00

	default:
		return fmt.Sprintf("%.2f×", q)
	}
}

func runLine(meta map[string]string) string {
	parts := []string{}
	if d := meta["date"]; d != "" {
		d = strings.Replace(strings.TrimSuffix(d, "Z"), "T", " ", 1)
		if len(d) > 16 {
			d = d[:16]
		}
		parts = append(parts, d+" UTC")
	}
	if c := commit(meta); c != "" {
		parts = append(parts, "ferry "+c)
	}
	if m := meta["mode"]; m != "" {
		parts = append(parts, m+" run")
	}
	parts = append(parts, "local servers pinned to one core")
	if n := meta["nproc"]; n != "" {
		parts = append(parts, n+" cores in all")
	}
	return "bench/run, " + strings.Join(parts, ", ")
}

// commit is meta's commit, or the one bench/run puts in ferry's
// description ("ferry e4fe4bc: ...") in results written before it had one.
func commit(meta map[string]string) string {
	if c := meta["commit"]; c != "" {
		return c
	}
	d, ok := strings.CutPrefix(meta["server_ferry"], "ferry ")
	if !ok {
		return ""
	}
	c, _, _ := strings.Cut(d, ":")
	return c
}

// esc makes s safe as XML character data and as a double-quoted attribute.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
