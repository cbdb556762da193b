package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// A result line of bench/s3: server, figure, round, value ("nan" when the
// measurement failed).
type sample struct {
	server, figure string
	round          int
	value          float64
}

// report prints bench/s3's table: each cell the median of the rounds with
// their range, and for ferry the median over rounds of its ratio to each
// other server measured in the same round (the machine's load drifts, so a
// ratio within a round says more than a ratio of medians).
func report(in string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	var all []sample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 4 {
			continue
		}
		r, _ := strconv.Atoi(p[2])
		v, err := strconv.ParseFloat(p[3], 64)
		if err != nil {
			v = math.NaN()
		}
		all = append(all, sample{p[0], p[1], r, v})
	}
	if err := sc.Err(); err != nil {
		return err
	}
	values := func(server, figure string) []float64 {
		var vs []float64
		for _, s := range all {
			if s.server == server && s.figure == figure && !math.IsNaN(s.value) {
				vs = append(vs, s.value)
			}
		}
		slices.Sort(vs)
		return vs
	}
	byRound := func(server, figure string) map[int]float64 {
		m := map[int]float64{}
		for _, s := range all {
			if s.server == server && s.figure == figure && !math.IsNaN(s.value) {
				m[s.round] = s.value
			}
		}
		return m
	}
	format := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	cell := func(server, figure string, prec int) string {
		vs := values(server, figure)
		if len(vs) == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%s (%s–%s)", format(median(vs), prec), format(vs[0], prec), format(vs[len(vs)-1], prec))
	}
	var ratioOf func(ferry, other, figure string, lower bool) string
	// ratio is ferry's standing against other, >= 1 when ferry is at least
	// as good: a higher rate, or a shorter time when lower is better.
	ratio := func(other, figure string, lower bool) string { return ratioOf("ferry", other, figure, lower) }
	ratioOf = func(ferry, other, figure string, lower bool) string {
		f, o := byRound(ferry, figure), byRound(other, figure)
		var rs []float64
		for r, fv := range f {
			ov, ok := o[r]
			if !ok || fv == 0 || ov == 0 {
				continue
			}
			if lower {
				rs = append(rs, ov/fv)
			} else {
				rs = append(rs, fv/ov)
			}
		}
		if len(rs) == 0 {
			return "n/a"
		}
		slices.Sort(rs)
		return format(median(rs), 2)
	}
	fmt.Println("| figure | ferry on S3 | rclone serve http | rclone serve http --dir-cache-time 0s | S3 gateway direct (ceiling) | ferry ÷ rclone | ferry ÷ rclone, no cache | ferry ÷ ceiling |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, row := range []struct {
		figure, label string
		prec          int
		lower         bool
	}{
		{"dl", "1 GiB download, MB/s ↑", 0, false},
		{"get", "1 KiB GET, req/s ↑", 0, false},
		{"range", "Range (1,000 bytes of 64 KiB), req/s ↑", 0, false},
		{"list", "listing of a 10,000-object folder, s ↓", 2, true},
	} {
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", row.label,
			cell("ferry", row.figure, row.prec), cell("rclone", row.figure, row.prec),
			cell("rclone-nocache", row.figure, row.prec), cell("s3", row.figure, row.prec),
			ratio("rclone", row.figure, row.lower), ratio("rclone-nocache", row.figure, row.lower), ratio("s3", row.figure, row.lower))
	}
	// Both keeping listings: ferry with --s3-list-cache, rclone as installed.
	if len(values("ferry-cache", "list")) > 0 {
		fmt.Printf("| listing of a 10,000-object folder, both with a listing cache (ferry --s3-list-cache 5m), s ↓ | %s | %s | | | %s | | |\n",
			cell("ferry-cache", "list", 2), cell("rclone", "list", 2), ratioOf("ferry-cache", "rclone", "list", true))
	}
	fmt.Printf("| 1 GiB upload (PUT), MB/s ↑ | %s | n/a (read-only); `rclone serve webdav`: %s | | %s | %s (webdav) | | %s |\n",
		cell("ferry", "up", 0), cell("rclone-dav", "up", 0), cell("s3", "up", 0), ratio("rclone-dav", "up", false), ratio("s3", "up", false))
	if vs := values("ferry", "rss"); len(vs) > 0 {
		fmt.Printf("| ferry's peak RSS (VmHWM) across its uploads | %.1f MiB | | | | | | |\n", vs[len(vs)-1]/1024)
	}
	return nil
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
