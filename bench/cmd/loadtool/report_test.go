package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A part measured in rounds (bench/s3's lines) merges into bench/run's
// results: medians, renamed servers, and in the report the ceiling is never
// the best peer but has a ratio of its own.
func TestRoundsIntoReport(t *testing.T) {
	dir := t.TempDir()
	part := filepath.Join(dir, "s3-results.tsv")
	os.WriteFile(part, []byte(strings.Join([]string{
		"s3\tdl\t1\t1000", "s3\tdl\t2\t1200", "s3\tdl\t3\tnan",
		"ferry\tdl\t1\t800", "ferry\tdl\t2\t900", "ferry\tdl\t3\t1000",
		"ferry\tdl_srvcpu\t1\t40", "ferry\tdl_srvcpu\t2\t50",
		"rclone\tdl\t1\t300", "rclone\tdl\t2\t350",
		"rclone-nocache\tdl\t1\tnan",
		"ferry\tlist\t1\t1.3", "rclone\tlist\t1\t0.3", "s3\tlist\t1\t0.2",
	}, "\n")+"\n"), 0o644)
	var lines bytes.Buffer
	if err := rounds([]string{"-in", part, "-prefix", "s3_", "-rename", "s3=weed,rclone-nocache=rclone-nc"}, &lines); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"weed\ts3_dl\t1\t1100\tmedian of 2, 1,000–1,200\n",
		"ferry\ts3_dl\t1\t900\tmedian of 3, 800–1,000\n",
		"ferry\ts3_dl_srvcpu\t1\t45\t\n",
		"rclone-nc\ts3_dl\t1\tnan\tfailed\n",
	} {
		if !strings.Contains(lines.String(), want) {
			t.Errorf("rounds wrote\n%s\nwithout %q", lines.String(), want)
		}
	}

	// The local part: nginx and ferry only.
	res := filepath.Join(dir, "results.tsv")
	local := "nginx\ta_rps\t1\t100\t\nferry\ta_rps\t1\t120\t\n"
	os.WriteFile(res, append([]byte(local), lines.Bytes()...), 0o644)
	js, md := filepath.Join(dir, "results.json"), filepath.Join(dir, "table.md")
	if err := report([]string{"-in", res, "-json", js, "-md", md}); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Servers []string `json:"servers"`
		Metrics []struct {
			ID, Group, Ceiling string
			Servers            []string
		} `json:"metrics"`
		Results []result `json:"results"`
	}
	b, _ := os.ReadFile(js)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(out.Servers, " "); got != "nginx rclone rclone-nc weed ferry" {
		t.Errorf("columns %q: want only the servers measured, in table order", got)
	}
	find := func(metric, server string) result {
		for _, r := range out.Results {
			if r.Metric == metric && r.Server == server {
				return r
			}
		}
		t.Fatalf("no result for %s on %s", metric, server)
		return result{}
	}
	for _, tc := range []struct {
		name, metric, server, best string
		vsBest, vsCeiling          float64 // 0: absent
	}{
		{"local figure: best of the local servers", "a_rps", "ferry", "nginx", 1.2, 0},
		{"the ceiling is not the best peer", "s3_dl", "ferry", "rclone", 900 / 325.0, 900 / 1100.0},
		{"lower is better", "s3_list", "ferry", "rclone", 1.3 / 0.3, 1.3 / 0.2},
		{"the ceiling compared with the peers", "s3_dl", "weed", "ferry", 1100 / 900.0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := find(tc.metric, tc.server)
			if r.BestPeer != tc.best || r.VsBest == nil || abs(*r.VsBest-tc.vsBest) > 1e-9 {
				t.Errorf("best peer %q, ratio %v; want %q, %v", r.BestPeer, deref(r.VsBest), tc.best, tc.vsBest)
			}
			if (r.VsCeiling == nil) != (tc.vsCeiling == 0) || (r.VsCeiling != nil && abs(*r.VsCeiling-tc.vsCeiling) > 1e-9) {
				t.Errorf("ratio to the ceiling %v, want %v", deref(r.VsCeiling), tc.vsCeiling)
			}
		})
	}
	for _, m := range out.Metrics {
		if m.ID == "s3_dl" && (m.Group != "Object storage" || m.Ceiling != "weed" || len(m.Servers) != 4) {
			t.Errorf("s3_dl described as %+v", m)
		}
	}
	table, _ := os.ReadFile(md)
	for _, want := range []string{"| **Object storage**: ", "| rclone, no dir cache |", "n/a (failed)"} {
		if !strings.Contains(string(table), want) {
			t.Errorf("the table has no %q", want)
		}
	}
	if strings.Contains(string(table), "| lighttpd |") {
		t.Error("a column for a server measured on nothing")
	}
}

func abs(f float64) float64 { return max(f, -f) }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
