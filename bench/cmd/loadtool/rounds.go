package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// rounds turns the figures of a part measured in rounds (bench/s3 and
// bench/webdav write "server figure round value [note]" lines) into
// bench/run's lines ("server metric run value note"): the median of the
// rounds as run 1, the lowest and highest in the note. Figure names get a
// prefix (s3_dl) and servers may be renamed to the table's columns
// (-rename s3=weed,rclone-nocache=rclone-nc).
func rounds(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("rounds", flag.ExitOnError)
	in := fs.String("in", "", "the part's results")
	prefix := fs.String("prefix", "", "put before every figure name")
	rename := fs.String("rename", "", "old=new server names, comma-separated")
	fs.Parse(args)
	if *in == "" {
		return errors.New("rounds: -in is required")
	}
	names := map[string]string{}
	for _, p := range strings.Split(*rename, ",") {
		if o, n, ok := strings.Cut(p, "="); ok {
			names[o] = n
		}
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	type fig struct{ server, figure string }
	var order []fig
	values := map[fig][]float64{}
	notes := map[fig]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) < 4 {
			continue
		}
		k := fig{p[0], p[1]}
		if n := names[k.server]; n != "" {
			k.server = n
		}
		if _, seen := values[k]; !seen {
			order = append(order, k)
			values[k] = nil
		}
		if v, err := strconv.ParseFloat(p[3], 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
			values[k] = append(values[k], v)
		}
		if len(p) > 4 && p[4] != "" {
			notes[k] = p[4]
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	for _, k := range order {
		vs := values[k]
		slices.Sort(vs)
		id := *prefix + k.figure
		switch {
		case len(vs) == 0:
			fmt.Fprintf(w, "%s\t%s\t1\tnan\t%s\n", k.server, id, orElse(notes[k], "failed"))
		case len(vs) == 1 || strings.HasSuffix(id, "cpu"):
			// CPU rows: the median alone, so that the table stays legible.
			fmt.Fprintf(w, "%s\t%s\t1\t%g\t%s\n", k.server, id, middle(vs), notes[k])
		default:
			note := fmt.Sprintf("median of %d, %s–%s", len(vs), num(vs[0]), num(vs[len(vs)-1]))
			if notes[k] != "" {
				note += "; " + notes[k]
			}
			fmt.Fprintf(w, "%s\t%s\t1\t%g\t%s\n", k.server, id, middle(vs), note)
		}
	}
	return nil
}

func middle(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func orElse(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
