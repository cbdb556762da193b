package cli

import (
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ferry-sh/ferry/internal/config"
)

// This file defines every flag once, bound to the option structs of
// internal/config, whose defaults they show. The commands put together the
// groups they share; help, the man page, completions, FERRY_* variables
// and the config file's keys all come from these definitions.

// defineListen adds the flags every network command shares.
func defineListen(fs *pflag.FlagSet, l *config.Listen) {
	fs.IntVarP(&l.Port, "port", "p", l.Port,
		"listen on TCP port `N`; 0 picks a free one. When the default port is taken and no port was asked for, the first free one of the next ten, else any")
	fs.StringArrayVarP(&l.Binds, "bind", "b", l.Binds,
		"listen on `ADDR` only; repeatable (default: every interface, IPv4 and IPv6; localhost means 127.0.0.1 and ::1); unix:/path/ferry.sock listens on a Unix socket (mode 0660, removed on exit) for a reverse proxy")
	fs.StringVar(&l.Log, "log", l.Log, "log lines as `FORMAT`: text, json or combined (Apache)")
	fs.BoolVarP(&l.Quiet, "quiet", "q", l.Quiet, "no log line per request or connection (warnings still show)")
	fs.StringVar(&l.LogFile, "log-file", l.LogFile,
		"append the request log to `PATH` (in --log's format), reopened on SIGHUP for logrotate; a terminal keeps its live view, a pipe gets no request lines")
}

// defineConfig adds --config to a command whose flags a file may set.
func defineConfig(fs *pflag.FlagSet) {
	fs.String("config", "", "read flags from this TOML `FILE`: keys are flag names ('ferry config example' writes one)")
}

// defineTLS adds the HTTPS flags.
func defineTLS(fs *pflag.FlagSet, t *config.TLS) {
	fs.BoolVar(&t.On, "tls", t.On, "HTTPS with a fresh self-signed certificate (its fingerprint is printed)")
	fs.StringVar(&t.Cert, "tls-cert", t.Cert, "HTTPS with this certificate `FILE` (PEM; with --tls-key)")
	fs.StringVar(&t.Key, "tls-key", t.Key, "the certificate's private key `FILE` (PEM)")
}

// defineServe adds the file server's flags, in the order help lists them.
func defineServe(fs *pflag.FlagSet, s *config.Serve) {
	defineListen(fs, &s.Listen)
	fs.StringVar(&s.BasePath, "base-path", s.BasePath, "serve under the path prefix `/P` (behind a reverse proxy that passes /P/... on unchanged)")
	fs.StringArrayVar(&s.TrustedProxies, "trusted-proxy", s.TrustedProxies,
		"believe X-Forwarded-For/-Host/-Proto and Forwarded from peers in `CIDR` (logs, limits, host check); repeatable; 'unix' trusts Unix socket peers")
	fs.StringVarP(&s.Directory, "directory", "d", s.Directory, "the folder to serve (as the `DIR` argument)")
	fs.StringVar(&s.S3Endpoint, "s3-endpoint", s.S3Endpoint,
		"the object store's `URL` for s3://BUCKET (path-style; default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS)")
	durationVar(fs, &s.S3ListCache, "s3-list-cache",
		"with s3://: keep folder pages' listings for `DUR` (0: list the store every time); this node's own writes show at once, other nodes' within DUR")
	durationVar(fs, &s.S3Timeout, "s3-timeout",
		"with s3://: how long the store may keep silent (before an answer, or within one) before the request fails with 503 or the download is cut short")
	fs.BoolVar(&s.Upload, "upload", s.Upload, "allow uploads: POST multipart, PUT, MKCOL, new folders")
	fs.BoolVar(&s.Delete, "delete", s.Delete, "allow DELETE of files and folders")
	fs.BoolVar(&s.Overwrite, "overwrite", s.Overwrite, "uploads may replace existing files (otherwise 409)")
	fs.BoolVarP(&s.Write, "write", "w", s.Write, "--upload --delete --overwrite, plus MOVE/COPY (rename)")
	fs.BoolVar(&s.WebDAV, "webdav", s.WebDAV,
		"WebDAV (PROPFIND, PROPPATCH, LOCK, UNLOCK): mount the folder in Finder, Windows, rclone, davfs2; writes still need --upload/-w")
	fs.BoolVar(&s.CGI, "cgi", s.CGI, "run executable files under /cgi-bin/ and /htbin/ as CGI scripts (never served as files)")
	fs.StringArrayVar(&s.CGIDirs, "cgi-dir", s.CGIDirs, "another CGI folder `PATH` inside DIR; repeatable; implies --cgi")
	durationVar(fs, &s.CGITimeout, "cgi-timeout", "kill a CGI script running longer than `DUR`")
	fs.StringArrayVar(&s.Auth, "auth", s.Auth,
		"require HTTP Basic auth with `USER:PASS`; repeatable; PASS may be a bcrypt hash (ferry hash-password); USER:PASS@/path grants only that subtree, with :ro read-only")
	fs.BoolVar(&s.AuthAnonRead, "auth-anon-read", s.AuthAnonRead, "with --auth: anyone may read, writes need credentials")
	fs.BoolVar(&s.Hidden, "hidden", s.Hidden, "list and serve dotfiles")
	fs.BoolVar(&s.FollowSymlinks, "follow-symlinks", s.FollowSymlinks, "follow symlinks that lead outside DIR")
	fs.BoolVar(&s.NoListing, "no-listing", s.NoListing, "folders without an index file answer 404")
	fs.BoolVar(&s.NoThumbnails, "no-thumbnails", s.NoThumbnails, "no image thumbnails in the page's grid view")
	fs.StringVar(&s.ShareSecret, "share-secret", s.ShareSecret,
		"with --auth: the `FILE` holding the key that signs share links (made if missing; give nodes of one store the same; replace it to revoke every link) (default ~/.config/ferry/share-secret)")
	fs.StringArrayVarP(&s.Headers, "header", "H", s.Headers,
		"add the header `'NAME: VALUE'` to every response, replacing ferry's own of that name; repeatable; an empty value removes it ('Server:'); FERRY_HEADER takes one per line")
	fs.BoolVar(&s.CORS, "cors", s.CORS,
		"let pages of other origins read (GET, HEAD, OPTIONS with Access-Control-Allow-Origin: *, preflights answered); writes stay refused cross-site, credentials are never allowed cross-origin")
	fs.BoolVar(&s.SPA, "spa", s.SPA,
		"single-page app: a GET for a missing path that wants HTML gets /index.html (200); /about serves about.html either way")
	fs.BoolVar(&s.NoCompress, "no-compress", s.NoCompress,
		"never compress responses (default: text-like bodies of 1 KiB or more go out with zstd or gzip when the client accepts it, and a file's precompressed NAME.zst/.br/.gz is sent in its place)")
	fs.Int64Var(&s.ExitAfter, "exit-after", s.ExitAfter, "exit once `N` whole downloads have completed")
	durationVar(fs, &s.IdleExit, "idle-exit", "exit after `DUR` with no request in flight")
	fs.BoolVar(&s.Once, "once", s.Once,
		"with FILE...: exit once each named file was downloaded completely (a named folder: as an archive); with a DIR: exit after the first complete download, be it a file or the folder as ?zip/?tar (= --exit-after 1)")
	fs.StringArrayVar(&s.Hosts, "host", s.Hosts,
		"another host `NAME` clients may use; repeatable; '*' accepts any (others get 421: DNS rebinding)")
	defineTLS(fs, &s.TLS)
	fs.StringArrayVar(&s.ACME, "acme", s.ACME,
		"HTTPS with a certificate for `DOMAIN` from an ACME CA, renewed automatically; repeatable; the CA must reach this port as DOMAIN:443 (default port then 443)")
	fs.StringVar(&s.ACMEEmail, "acme-email", s.ACMEEmail, "contact address `ADDR` for the CA (expiry notices)")
	fs.StringVar(&s.ACMECA, "acme-ca", s.ACMECA, "the CA's directory `URL` (Let's Encrypt unless given)")
	fs.StringVar(&s.ACMECache, "acme-cache", s.ACMECache, "where keys and certificates are kept, a `DIR` (default ~/.cache/ferry/acme)")
	fs.BoolVar(&s.HTTP3, "http3", s.HTTP3, "with TLS: HTTP/3 (QUIC) on the same port number over UDP too, advertised to browsers with Alt-Svc")
	fs.IntVar(&s.MaxConnsPerIP, "max-conns-per-ip", s.MaxConnsPerIP, "at most `N` open connections from one client address (0: no cap; requests in flight are limited per address, connections overall)")
	fs.Var(&s.MaxUpload, "max-upload", "refuse uploads larger than `SIZE`, e.g. 500M, with 413 (default: no limit)")
	durationVar(fs, &s.PartialTTL, "partial-ttl", "remove unfinished resumable uploads after `DUR` without activity")
	fs.Var(&s.LimitRate, "limit-rate", "limit each connection to `SIZE` bytes per second, e.g. 2M (downloads and uploads each)")
	fs.Var(&s.LimitTotal, "limit-total", "limit the whole server to `SIZE` bytes per second")
	fs.BoolVar(&s.QR, "qr", s.QR, "print a QR code of the best URL")
}

// defineEcho adds the request inspector's flags.
func defineEcho(fs *pflag.FlagSet, e *config.Echo) {
	defineListen(fs, &e.Listen)
	fs.Var(&e.MaxBody, "max-body", "refuse request bodies larger than `SIZE`, e.g. 10M, with 413 (default: no limit)")
	defineTLS(fs, &e.TLS)
}

// defineTime adds the time service's flags.
func defineTime(fs *pflag.FlagSet, t *config.Time) {
	defineListen(fs, &t.Listen)
	durationVar(fs, &t.IdleTimeout, "idle-timeout", "close a connection that sends nothing for `DUR`")
}

// defineHashPassword adds hash-password's flags.
func defineHashPassword(fs *pflag.FlagSet, h *config.HashPassword) {
	fs.IntVar(&h.Cost, "cost", h.Cost, "bcrypt cost `N`, 4 to 31; each step doubles the work")
}

// durationVar adds a duration flag that shows its default as people write
// it ("60s", "24h", not pflag's "1m0s", "24h0m0s").
func durationVar(fs *pflag.FlagSet, p *time.Duration, name, usage string) {
	fs.Var((*duration)(p), name, usage)
}

type duration time.Duration

func (d *duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}

func (d *duration) Type() string { return "duration" }

func (d *duration) String() string {
	v := time.Duration(*d)
	if v == 0 {
		return "0"
	}
	s := v.String()
	if v%time.Minute == 0 {
		s = strings.TrimSuffix(s, "0s")
	}
	if v%time.Hour == 0 {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
