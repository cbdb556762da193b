// Command idleprof serves a folder the way the ferry binary does (ferry's
// handler behind internal/server.Run: the connection guard, admission,
// transfer's sockets, optionally TLS) and reports, on a second port, where
// its memory goes: Go's runtime/metrics (heap objects, goroutine stacks,
// free and released heap, goroutines), VmRSS, and net/http/pprof's heap
// profile for the allocation sites of what is live. With `loadtool idle
// -hold` holding connections open, it tells what an idle connection costs
// and why (BENCHMARKS.md, "(f) idle connections").
//
//	idleprof -addr 127.0.0.1:18086 -stats 127.0.0.1:16061 -dir D [-tls]
//	curl 127.0.0.1:16061/stats          # figures now
//	curl '127.0.0.1:16061/stats?gc=1'   # after runtime.GC and debug.FreeOSMemory
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-sh/ferry"
	"github.com/ferry-sh/ferry/internal/accesslog"
	"github.com/ferry-sh/ferry/internal/server"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18086", "listen address for ferry")
	saddr := flag.String("stats", "127.0.0.1:16061", "listen address for the figures and pprof")
	dir := flag.String("dir", ".", "folder to serve")
	useTLS := flag.Bool("tls", false, "serve HTTPS with a self-signed certificate, as ferry --tls does")
	rate := flag.Int("memprofilerate", 1, "runtime.MemProfileRate: 1 records every allocation, so that the heap profile attributes each byte")
	flag.Parse()
	runtime.MemProfileRate = *rate

	// The logger `ferry -q` builds: records are still made, then dropped.
	logger := slog.New(accesslog.NewHandler(io.Discard, io.Discard, accesslog.FormatText, true))
	h, err := ferry.New(*dir, ferry.Options{Logger: logger})
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	var tlsConf *tls.Config
	if *useTLS {
		cert, err := server.SelfSigned([]string{"127.0.0.1"}, time.Now())
		if err != nil {
			log.Fatal(err)
		}
		tlsConf = server.TLSConfig(cert)
	}

	// A mux of its own: none of this is reachable through ferry's port.
	pm := http.NewServeMux()
	pm.HandleFunc("/debug/pprof/", pprof.Index)
	pm.HandleFunc("/stats", stats)
	go func() { log.Fatal(http.ListenAndServe(*saddr, pm)) }()

	_, err = server.Run(context.Background(), &server.Listeners{List: []net.Listener{ln}}, server.Config{
		Handler: h, TLS: tlsConf, Logger: logger,
		ConnRefused: h.ConnRefused, RequestRefused: h.RequestRefused,
		Busy: h.Busy, Settle: h.Settle,
	})
	if err != nil {
		log.Fatal(err)
	}
}

var names = []string{
	"/sched/goroutines:goroutines",
	"/gc/heap/live:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/memory/classes/os-stacks:bytes",
	"/memory/classes/metadata/other:bytes",
	"/memory/classes/metadata/mspan/inuse:bytes",
	"/memory/classes/other:bytes",
	"/memory/classes/profiling/buckets:bytes",
	"/memory/classes/total:bytes",
	"/gc/cycles/total:gc-cycles",
	"/gc/gogc:percent",
}

// stats writes name=value lines: the runtime's figures and VmRSS (KiB).
func stats(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("gc") != "" {
		runtime.GC()
		debug.FreeOSMemory()
	}
	samples := make([]metrics.Sample, len(names))
	for i, n := range names {
		samples[i].Name = n
	}
	metrics.Read(samples)
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindUint64:
			fmt.Fprintf(w, "%s=%d\n", s.Name, s.Value.Uint64())
		case metrics.KindFloat64:
			fmt.Fprintf(w, "%s=%g\n", s.Name, s.Value.Float64())
		}
	}
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && (k == "VmRSS" || k == "RssAnon" || k == "RssFile") {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			fmt.Fprintf(w, "%s_kib=%d\n", k, n)
		}
	}
}
