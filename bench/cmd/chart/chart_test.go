package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// node is an element of the chart, as encoding/xml reads it back.
type node struct {
	name  string
	attrs map[string]string
	text  string
}

// parse reads the SVG strictly, failing the test on any XML error, and
// returns its root's attributes and every element in document order.
func parse(t *testing.T, svg []byte) (root node, all []node) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	d.Strict = true
	var stack []int
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := node{name: tok.Name.Local, attrs: map[string]string{}}
			if tok.Name.Space != "http://www.w3.org/2000/svg" {
				t.Errorf("<%s> is in namespace %q, not SVG's", tok.Name.Local, tok.Name.Space)
			}
			for _, a := range tok.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			all = append(all, n)
			stack = append(stack, len(all)-1)
		case xml.CharData:
			if len(stack) > 0 {
				all[stack[len(stack)-1]].text += string(tok)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if len(all) == 0 || all[0].name != "svg" {
		t.Fatal("no <svg> root")
	}
	return all[0], all
}

func load(t *testing.T) resultsFile {
	t.Helper()
	b, err := os.ReadFile("testdata/results.json")
	if err != nil {
		t.Fatal(err)
	}
	var rf resultsFile
	if err := json.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	return rf
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return f
}

func TestChart(t *testing.T) {
	var svg bytes.Buffer
	rf := load(t)
	render(&svg, rf, bars(rf))
	root, all := parse(t, svg.Bytes())

	t.Run("standalone", func(t *testing.T) {
		if root.attrs["viewBox"] == "" {
			t.Error("no viewBox")
		}
		if all[1].name != "title" || all[1].text == "" {
			t.Errorf("the first child is <%s>, not a <title>", all[1].name)
		}
		for _, n := range all {
			for _, a := range []string{"href", "src"} {
				if n.attrs[a] != "" {
					t.Errorf("<%s %s=%q>: the chart must load nothing", n.name, a, n.attrs[a])
				}
			}
			if n.name == "script" || n.name == "image" || n.name == "foreignObject" {
				t.Errorf("<%s> in the chart", n.name)
			}
			if n.name == "style" && strings.Contains(n.text, "@import") {
				t.Error("the style imports something")
			}
		}
		if !strings.Contains(svg.String(), "2026-12-07 03:00 UTC") || !strings.Contains(svg.String(), "ferry abc1234") {
			t.Error("the run's date and commit are not shown")
		}
	})

	var one float64
	lines := 0
	for _, n := range all {
		if n.name == "line" && n.attrs["class"] == "one" {
			lines++
			one = num(t, n.attrs["x1"])
			if n.attrs["x2"] != n.attrs["x1"] {
				t.Errorf("the 1.0 line is not vertical: %v", n.attrs)
			}
		}
	}
	if lines != 1 {
		t.Fatalf("%d lines marking 1.0, want 1", lines)
	}
	t.Run("axis label at the 1.0 line", func(t *testing.T) {
		for _, n := range all {
			if n.name == "text" && n.text == "1.0" && num(t, n.attrs["x"]) == one {
				return
			}
		}
		t.Error("no 1.0 label over the line")
	})

	barsByID := map[string]node{}
	for _, n := range all {
		if n.name == "rect" && strings.HasPrefix(n.attrs["class"], "bar ") {
			barsByID[n.attrs["data-figure"]] = n
		}
	}
	if len(barsByID) != 5 {
		t.Errorf("%d bars, want 5 (a_rps, a_p50, x_esc, f_rss, s3_up): %v", len(barsByID), barsByID)
	}
	for _, tc := range []struct {
		name, id string
		side     string  // "right" of 1.0 (ferry better), "left", or "" for no bar
		ratio    float64 // as drawn
		na       bool    // marked n/a in its row
	}{
		{"higher is better, two runs: geometric mean", "a_rps", "right", 1.25, false},
		{"lower is better: inverted, ferry's half the time is 2", "a_p50", "right", 2, false},
		{"label with markup", "x_esc", "right", 10, false},
		{"lower is better, far behind: inverted and clipped", "f_rss", "left", 0.01, false},
		{"ferry n/a: marked, no bar", "e_rps", "", 0, true},
		{"no direction (CPU): omitted", "a_srvcpu", "", 0, false},
		{"ferry only: omitted", "h_put", "", 0, false},
		{"part not run (no results): omitted", "s3_dl", "", 0, false},
		{"another part's figure", "s3_up", "right", 1.5, false},
		{"only the ceiling measured besides ferry: marked", "s3_list", "", 0, true},
		{"load average: omitted", "load1", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, ok := barsByID[tc.id]
			if tc.side == "" {
				if ok {
					t.Fatalf("%s has a bar", tc.id)
				}
			} else {
				if !ok {
					t.Fatalf("%s has no bar", tc.id)
				}
				x, w := num(t, b.attrs["x"]), num(t, b.attrs["width"])
				switch {
				case tc.side == "right" && (x < one || !strings.Contains(b.attrs["class"], "ahead")):
					t.Errorf("%s: bar at x=%v (1.0 at %v), class %q: want right of 1.0", tc.id, x, one, b.attrs["class"])
				case tc.side == "left" && (x+w > one || !strings.Contains(b.attrs["class"], "behind")):
					t.Errorf("%s: bar ends at x=%v (1.0 at %v), class %q: want left of 1.0", tc.id, x+w, one, b.attrs["class"])
				}
				if got := num(t, b.attrs["data-ratio"]); math.Abs(got-tc.ratio) > 1e-3*tc.ratio {
					t.Errorf("%s: ratio %v, want %v", tc.id, got, tc.ratio)
				}
			}
			marked := false
			for _, n := range all {
				if n.attrs["data-figure"] == tc.id && n.name == "text" && strings.HasPrefix(n.text, "n/a") {
					marked = true
				}
			}
			if marked != tc.na {
				t.Errorf("%s: marked n/a = %v, want %v", tc.id, marked, tc.na)
			}
		})
	}

	t.Run("labels escaped and read back intact", func(t *testing.T) {
		want := map[string]bool{
			`<script>&"quoted" 'label'</script> ↑`:             false,
			"Odd <names> & groups":                             false,
			"10× vs <nginx>":                                   false,
			"n/a: ferry: answers Range with 200 & <all> bytes": false,
			"(a) p50 latency ↓":                                false,
			"1.50× vs rclone serve http":                       false,
			"n/a: no other server measured":                    false,
			"Object storage":                                   false,
			"Local folder":                                     false,
		}
		for _, n := range all {
			if _, ok := want[n.text]; ok && n.name == "text" {
				want[n.text] = true
			}
		}
		for s, seen := range want {
			if !seen {
				t.Errorf("no <text> reads %q", s)
			}
		}
		if strings.Contains(svg.String(), "<script>") {
			t.Error("a label's markup reached the SVG unescaped")
		}
	})

	t.Run("legend says lower-is-better figures are inverted", func(t *testing.T) {
		if !strings.Contains(svg.String(), "drawn as best ÷ ferry") {
			t.Error("no legend line about ↓ figures")
		}
	})
}

// A results file written before bench/run recorded the commit: the commit
// comes from ferry's description.
func TestCommitFromDescription(t *testing.T) {
	meta := map[string]string{"server_ferry": "ferry e4fe4bc: ferry -q (no request log lines)"}
	if got := commit(meta); got != "e4fe4bc" {
		t.Errorf("commit = %q, want e4fe4bc", got)
	}
}

func TestRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "chart.svg")
	var stderr bytes.Buffer
	if code := run([]string{"-in", "testdata/results.json", "-out", out}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	parse(t, b)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"-bogus"}, 2},
		{[]string{"extra"}, 2},
		{[]string{"-in", filepath.Join(t.TempDir(), "missing.json"), "-out", out}, 1},
	} {
		stderr.Reset()
		if code := run(tc.args, &stderr); code != tc.code || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line", tc.args, code, stderr.String(), tc.code)
		}
	}
}
