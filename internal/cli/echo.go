package cli

import (
	"crypto/tls"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/ferry-sh/ferry"
	"github.com/ferry-sh/ferry/internal/accesslog"
	"github.com/ferry-sh/ferry/internal/config"
	"github.com/ferry-sh/ferry/internal/server"
	"github.com/ferry-sh/ferry/internal/transfer"
	"github.com/ferry-sh/ferry/internal/version"
)

const echoHelp = `ferry echo answers every request, whatever its method or path, with 200 and
a report of what it received: client address and port, method, path, query,
protocol, headers (values as sent; names as Go spells them, sorted), the
body's size and SHA-256, the body itself when it is text of up to 64 KiB
(else a note), form fields and uploaded files (name, size, content type,
SHA-256). Plain text by default; JSON with "Accept: application/json" or
"?format=json". Bodies are streamed.

Usage:
  ferry echo [flags]

Flags:
  -p, --port N          TCP port; 0 picks a free one (default 8000; when it is
                        taken, the first free one of 8001-8010, else any)
  -b, --bind ADDR       address to listen on; repeatable (default: every
                        interface, IPv4 and IPv6; localhost: 127.0.0.1 and ::1)
      --max-body SIZE   largest accepted request body, e.g. 10M; larger ones
                        answer 413 (default none)
      --tls             HTTPS with a fresh self-signed certificate
      --tls-cert FILE   HTTPS with this certificate (PEM; with --tls-key)
      --tls-key FILE    the certificate's private key (PEM)
      --log FORMAT      text, json or combined (default text)
  -q, --quiet           no per-request log lines
  -h, --help            show this help

Every flag can also be set as FERRY_<FLAG> (FERRY_MAX_BODY=10M).

Examples:
  ferry echo                                      inspect requests on port 8000
  curl -F f=@a.txt http://localhost:8000/x?a=1    see an upload as it arrived
  curl -d name=v -H 'Accept: application/json' http://localhost:8000/
                                                  a form, reported as JSON
  curl -X FUNC -H 'X-Trace: 1' http://localhost:8000/any/path
`

// listenFlags are the flags every network command shares.
type listenFlags struct {
	port      int
	binds     []string
	logFormat string
	quiet     bool
}

func (f *listenFlags) define(fs *pflag.FlagSet, defPort int) {
	fs.IntVarP(&f.port, "port", "p", defPort, "")
	fs.StringArrayVarP(&f.binds, "bind", "b", nil, "")
	fs.StringVar(&f.logFormat, "log", accesslog.FormatText, "")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "")
}

func (f *listenFlags) validate() error {
	if f.port < 0 || f.port > 65535 {
		return usagef("invalid port %d: use 0 to 65535", f.port)
	}
	for _, b := range f.binds {
		if err := checkBind(b); err != nil {
			return err
		}
	}
	switch f.logFormat {
	case accesslog.FormatText, accesslog.FormatJSON, accesslog.FormatCombined:
	default:
		return usagef("invalid --log %q: use text, json or combined", f.logFormat)
	}
	return nil
}

// noArguments refuses an argument to a command that takes none, guessing
// that a number was meant as the port.
func noArguments(cmd, arg string) error {
	if portArg(arg) {
		return usagef("%s takes no arguments, got %q; did you mean -p %s?", cmd, arg, arg)
	}
	return usagef("%s takes no arguments, got %q", cmd, arg)
}

// listen opens the listeners, falling back to a free port when the default
// one is taken and no port was asked for.
func (a *app) listen(fs *pflag.FlagSet, f *listenFlags) (*server.Listeners, error) {
	explicit := fs.Changed("port") || a.envSet("FERRY_PORT")
	ls, err := server.Listen(f.binds, f.port, explicit)
	if err != nil {
		return nil, listenError(err, f.binds, f.port)
	}
	return ls, nil
}

func (a *app) echo(args []string) error {
	var f listenFlags
	var maxBody, tlsCert, tlsKey string
	var useTLS bool
	fs := pflag.NewFlagSet("ferry echo", pflag.ContinueOnError)
	f.define(fs, defaultPort)
	fs.StringVar(&maxBody, "max-body", "", "")
	fs.BoolVar(&useTLS, "tls", false, "")
	fs.StringVar(&tlsCert, "tls-cert", "", "")
	fs.StringVar(&tlsKey, "tls-key", "", "")
	if err := a.parse(fs, args, echoHelp); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return noArguments("echo", fs.Arg(0))
	}
	if err := f.validate(); err != nil {
		return err
	}
	var opts ferry.EchoOptions
	if maxBody != "" {
		n, err := config.ParseSize(maxBody)
		if err != nil {
			return usagef("invalid --max-body: %v", err)
		}
		opts.MaxBody = n
	}
	if (tlsCert == "") != (tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	var cert *tls.Certificate
	if tlsCert != "" {
		c, err := server.LoadKeyPair(tlsCert, tlsKey)
		if err != nil {
			return usagef("%v", err)
		}
		cert = &c
	}

	ls, err := a.listen(fs, &f)
	if err != nil {
		return err
	}
	defer ls.Close()
	if cert == nil && useTLS {
		c, err := server.SelfSigned(server.CertHosts(ls, f.binds), time.Now())
		if err != nil {
			return fmt.Errorf("making a TLS certificate: %w", err)
		}
		cert = &c
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
	handler := accesslog.Middleware(ferry.NewEchoHandler(opts), tracker, a.newLogger(f.logFormat, f.quiet), nil)

	w := a.stdout
	if ls.FellBack {
		fmt.Fprintf(w, "port %d is in use; serving on port %d instead\n", defaultPort, ls.Port)
	}
	fmt.Fprintf(w, "ferry %s echo: answering every request with what it received\n", version.Version)
	if cert != nil {
		fmt.Fprintf(w, "TLS certificate SHA-256 fingerprint: %s\n", server.Fingerprint(*cert))
	}
	for _, u := range server.URLs(ls, scheme) {
		fmt.Fprintf(w, "  %s\n", u)
	}
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
