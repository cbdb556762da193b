package cli

import (
	"crypto/tls"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ferry-sh/ferry"
	"github.com/ferry-sh/ferry/internal/accesslog"
	"github.com/ferry-sh/ferry/internal/config"
	"github.com/ferry-sh/ferry/internal/server"
	"github.com/ferry-sh/ferry/internal/transfer"
	"github.com/ferry-sh/ferry/internal/version"
)

func (a *app) echo(e *config.Echo) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if err := resolveBinds(e.Binds); err != nil {
		return err
	}
	opts := ferry.EchoOptions{MaxBody: e.MaxBody.Bytes}
	cert, err := loadCert(e.TLS)
	if err != nil {
		return err
	}
	ls, err := a.listen(&e.Listen)
	if err != nil {
		return err
	}
	defer ls.Close()
	if cert, err = selfSigned(cert, e.TLS, ls, e.Binds); err != nil {
		return err
	}
	var tlsConf *tls.Config
	scheme := "http"
	if cert != nil {
		tlsConf, scheme = server.TLSConfig(*cert), "https"
	}

	tracker := transfer.NewTracker(0)
	// No Host check (421) here, unlike the file server: the inspector must
	// answer every request with 200 and show what came, a foreign Host
	// included; it serves no files and writes nothing a rebinding page
	// could reach.
	logger, closeLog, err := a.logger(e.Listen, false)
	if err != nil {
		return err
	}
	defer closeLog()
	handler := accesslog.Middleware(ferry.NewEchoHandler(opts), tracker, logger, nil)

	w := a.stdout
	if ls.FellBack {
		fmt.Fprintf(w, "port %d is in use; serving on port %d instead\n", config.DefaultPort, ls.Port)
	}
	fmt.Fprintf(w, "ferry %s echo: answering every request with what it received\n", version.Version)
	if cert != nil {
		fmt.Fprintf(w, "TLS certificate SHA-256 fingerprint: %s\n", server.Fingerprint(*cert))
	}
	for _, u := range server.URLs(ls, scheme) {
		fmt.Fprintf(w, "  %s\n", u)
	}
	printUnix(w, ls)
	fmt.Fprintln(w, "press Ctrl-C to stop")

	interrupt := make(chan os.Signal, 2)
	signal.Notify(interrupt, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(interrupt)
	if _, err := server.Run(a.ctx, ls, server.Config{Handler: handler, TLS: tlsConf, Interrupt: interrupt}); err != nil {
		return err
	}
	s := tracker.Snapshot()
	fmt.Fprintf(w, "stopped\nsummary: %d requests, %s received, up %s\n",
		s.Requests, size(s.BytesReceived), time.Since(s.Start).Round(time.Second))
	return nil
}
