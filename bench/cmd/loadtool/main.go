// Command loadtool holds the parts of bench/run that wrk and curl cannot do:
// creating fixture folders quickly, timing parallel whole-file downloads,
// holding idle keep-alive connections while reading a server's RSS, and
// turning the raw results into the Markdown table and results.json.
//
//	loadtool mkfiles  -dir D -n N -size BYTES
//	loadtool download -url U -streams N
//	loadtool idle     -url U -n 1000 -pid P [-samples 200]
//	loadtool many     -url U -file F -n 10000 -pid P [-per-addr 50]
//	loadtool rss      -pid P
//	loadtool quiesce  -pid P [-timeout 30s]
//	loadtool ticks    -pid P
//	loadtool evict    -dir D
//	loadtool upload   -url U -file F -mode put|post
//	loadtool sink     -addr 127.0.0.1:18090
//	loadtool report   -in results.tsv -json results.json -md table.md [-meta meta.tsv]
//	loadtool rounds   -in part.tsv -prefix s3_ [-rename old=new,...]
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadtool mkfiles|download|idle|many|rss|quiesce|ticks|evict|upload|sink|report|rounds [flags]")
		os.Exit(2)
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "mkfiles":
		err = mkfiles(args)
	case "download":
		err = download(args)
	case "idle":
		err = idle(args)
	case "many":
		err = many(args)
	case "upload":
		err = upload(args)
	case "sink":
		err = sink(args)
	case "quiesce":
		err = quiesce(args)
	case "ticks":
		err = ticksCmd(args)
	case "evict":
		err = evict(args)
	case "rss":
		err = rssCmd(args)
	case "report":
		err = report(args)
	case "rounds":
		err = rounds(args, os.Stdout)
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtool:", err)
		os.Exit(1)
	}
}
