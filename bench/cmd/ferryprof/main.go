// Command ferryprof serves a folder with ferry's public handler and exposes
// net/http/pprof on a second port, so that bench/run --profile can take CPU
// and allocation profiles of the handler under load without touching the
// product's command line.
package main

import (
	"flag"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/ferry-sh/ferry"
	"github.com/ferry-sh/ferry/internal/accesslog"
	"github.com/ferry-sh/ferry/internal/server"
	"github.com/ferry-sh/ferry/internal/transfer"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address for ferry")
	paddr := flag.String("pprof", "127.0.0.1:6060", "listen address for pprof")
	dir := flag.String("dir", ".", "folder to serve")
	upload := flag.Bool("upload", false, "accept uploads (--upload --overwrite), to profile PUT and POST")
	certFile := flag.String("tls-cert", "", "serve HTTPS (HTTP/2 offered first) with this certificate (PEM), to profile HTTP/2")
	keyFile := flag.String("tls-key", "", "the certificate's private key (PEM)")
	flag.Parse()

	// The logger `ferry -q` builds: records are still made, then dropped.
	logger := slog.New(accesslog.NewHandler(io.Discard, io.Discard, accesslog.FormatText, true))
	h, err := ferry.New(*dir, ferry.Options{Logger: logger, Upload: *upload, Overwrite: *upload})
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()

	// A mux of its own: pprof must not be reachable through ferry's port.
	pm := http.NewServeMux()
	pm.HandleFunc("/debug/pprof/", pprof.Index)
	pm.HandleFunc("/debug/pprof/profile", pprof.Profile)
	pm.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	go func() { log.Fatal(http.ListenAndServe(*paddr, pm)) }()

	// The server the binary runs: its limits, and its sockets that tell
	// what the clients acknowledged.
	srv := server.NewHTTPServer(server.Config{Handler: h})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *certFile != "" {
		cert, err := server.LoadKeyPair(*certFile, *keyFile)
		if err != nil {
			log.Fatal(err)
		}
		srv.TLSConfig = server.TLSConfig(cert)
		log.Fatal(srv.ServeTLS(transfer.Listen(ln), "", ""))
	}
	log.Fatal(srv.Serve(transfer.Listen(ln)))
}
