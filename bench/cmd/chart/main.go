// Command chart draws the picture BENCHMARKS.md opens with: bench/chart.svg,
// one horizontal bar per figure of bench/results.json, ferry ÷ the best other
// server of the same run, on a log scale with 1.0 marked. For figures where
// lower is better (times, latencies, memory) the bar shows best ÷ ferry, so
// right of 1.0 always means ferry did better. bench/run runs it at the end of
// every full run.
//
//	chart [-in bench/results.json] [-out bench/chart.svg]
//
// The SVG is written by hand with fmt: it is a few dozen rectangles, lines
// and texts, and a charting library would add a dependency to the module (and
// most draw raster images or need JavaScript) for what a page of code does.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("chart", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	in := fs.String("in", "bench/results.json", "results written by bench/run")
	out := fs.String("out", "bench/chart.svg", "SVG to write")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "chart: usage: chart [-in results.json] [-out chart.svg]")
		return 2
	}
	b, err := os.ReadFile(*in)
	if err != nil {
		fmt.Fprintln(stderr, "chart:", err)
		return 1
	}
	var rf resultsFile
	if err := json.Unmarshal(b, &rf); err != nil {
		fmt.Fprintf(stderr, "chart: %s: %v\n", *in, err)
		return 1
	}
	var svg bytes.Buffer
	render(&svg, rf, bars(rf))
	if err := os.WriteFile(*out, svg.Bytes(), 0o644); err != nil {
		fmt.Fprintln(stderr, "chart:", err)
		return 1
	}
	return 0
}
