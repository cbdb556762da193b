package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// ListenQUIC opens a UDP socket beside each TCP listener, on the same
// address and port, for HTTP/3 (RFC 9114). Unix sockets get none.
func (l *Listeners) ListenQUIC() error {
	for _, ln := range l.List {
		ta, ok := ln.Addr().(*net.TCPAddr)
		if !ok {
			continue
		}
		pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: ta.IP, Port: ta.Port, Zone: ta.Zone})
		if err != nil {
			for _, p := range l.Packet {
				p.Close()
			}
			l.Packet = nil
			return err
		}
		l.Packet = append(l.Packet, pc)
	}
	return nil
}

// h3 serves HTTP/3 on the Listeners' UDP sockets. A nil *h3 (no UDP
// sockets, or no TLS) does nothing.
type h3 struct {
	srv     *http3.Server
	packets []net.PacketConn
}

// newHTTP3 prepares HTTP/3 for cfg when ls has UDP sockets, and makes
// cfg.Handler advertise it (Alt-Svc, RFC 7838) on the TCP side, so that
// browsers switch.
func newHTTP3(cfg *Config, ls *Listeners) *h3 {
	if len(ls.Packet) == 0 || cfg.TLS == nil {
		return nil
	}
	s := &h3{packets: ls.Packet}
	s.srv = &http3.Server{
		Handler:        cfg.Handler,
		TLSConfig:      http3.ConfigureTLSConfig(cfg.TLS),
		MaxHeaderBytes: 64 << 10,
		IdleTimeout:    or(cfg.IdleTimeout, 120*time.Second),
		QUICConfig:     &quic.Config{},
		// Clients going away are no server errors (as ErrorLog on the
		// TCP side).
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	next := cfg.Handler
	cfg.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor < 3 {
			s.srv.SetQUICHeaders(w.Header())
		}
		next.ServeHTTP(w, r)
	})
	return s
}

func (s *h3) count() int {
	if s == nil {
		return 0
	}
	return len(s.packets)
}

// serve starts serving on each UDP socket; errors other than a close go
// to errc.
func (s *h3) serve(errc chan<- error) {
	if s == nil {
		return
	}
	for _, pc := range s.packets {
		go func() {
			err := s.srv.Serve(pc)
			if errors.Is(err, quic.ErrServerClosed) {
				err = http.ErrServerClosed
			}
			errc <- err
		}()
	}
}

// shutdown stops taking requests and waits, until ctx ends, for those in
// flight; then closes.
func (s *h3) shutdown(ctx context.Context) {
	if s == nil {
		return
	}
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close()
	}
}
