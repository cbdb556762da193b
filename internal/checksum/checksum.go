// Package checksum answers ?hash=sha256 (or sha512) on a file with its hex
// digest in the format of sha256sum, so a receiver can check what arrived
// with `sha256sum -c`.
//
// Hashing reads the whole file, which is the most expensive thing a single
// GET can ask for, so a Service computes each digest once per version of a
// file (on the local backend its identity, size and times; on an object
// store its ETag and size), computes nothing for HEAD, shares
// one computation among clients asking at the same time, and runs only as
// many at once as its job limiter allows.
package checksum

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/jobs"
	"github.com/ferry-sh/ferry/internal/storage"
)

// New returns a hash for an algorithm name a client asked for, or nil.
func New(alg string) hash.Hash {
	switch strings.ToLower(alg) {
	case "sha256":
		return sha256.New()
	case "sha512":
		return sha512.New()
	}
	return nil
}

// maxCached bounds the digests a Service remembers (about 200 bytes each).
const maxCached = 4096

// Service answers checksum requests.
type Service struct {
	jobs *jobs.Limiter

	mu      sync.Mutex
	sums    map[key]string // hex digests of file versions
	flights map[key]*flight
	// stored is len(sums), read without the lock: while nothing is
	// known, a download asks nothing of the cache.
	stored atomic.Int64
}

// key names one version of a file for one algorithm.
type key struct {
	alg, version string
}

// versioned is the local backend's Object, which names the state its file
// is in now: device, inode, size, modification and change times.
type versioned interface {
	Version() (string, bool)
}

// versionOf names the version of the file f is; ok is false when the
// backend cannot tell (nothing is then cached). An object store's ETag
// changes with the content, and the object's reads are bound to the ETag
// seen at its opening, so a replaced object fails the read rather than
// give a digest of neither version.
func versionOf(f storage.Object, name string) (string, bool) {
	if v, ok := f.(versioned); ok {
		s, ok := v.Version()
		return "local:" + s, ok
	}
	if info := f.Info(); info.ETag != "" {
		return "etag:" + strconv.FormatInt(info.Size, 10) + ":" + info.ETag + ":" + name, true
	}
	return "", false
}

// flight is a digest being computed; requests for the same key wait for it.
type flight struct {
	done chan struct{}
	sum  string
	err  error
}

// NewService returns a Service whose computations take slots of lim (nil:
// no limit).
func NewService(lim *jobs.Limiter) *Service {
	return &Service{jobs: lim, sums: map[key]string{}, flights: map[key]*flight{}}
}

// Serve writes "<hex>  <name>\n" for the regular file f, just opened. The file is read
// through a fixed buffer, never held whole in memory; a cancelled request
// stops the read. HEAD gets the headers alone, with the exact length, and
// reads nothing.
func (s *Service) Serve(w http.ResponseWriter, r *http.Request, f storage.Object, name string) {
	alg := strings.ToLower(r.URL.Query().Get("hash"))
	h := New(alg)
	if h == nil {
		httperr.Write(w, r, http.StatusBadRequest, "unsupported hash: use sha256 or sha512")
		return
	}
	base := path.Base(name)
	hd := w.Header()
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-cache")
	if r.Method == http.MethodHead {
		hd.Set("Content-Length", strconv.Itoa(len(Line(strings.Repeat("0", 2*h.Size()), base))))
		w.WriteHeader(http.StatusOK)
		return
	}
	sum, err := s.sum(w, r, f, name, alg)
	if err != nil {
		if err == errAnswered || r.Context().Err() != nil {
			return // answered already, or the client left
		}
		if errors.Is(err, storage.ErrUnavailable) {
			httperr.Unavailable(w, r)
			return
		}
		httperr.Write(w, r, http.StatusInternalServerError, "file could not be read")
		return
	}
	line := Line(sum, base)
	hd.Set("Content-Length", strconv.Itoa(len(line)))
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, line)
}

// errAnswered: the job limiter has answered the request already.
var errAnswered = &answeredError{}

type answeredError struct{}

func (*answeredError) Error() string { return "request answered" }

// sum returns f's digest: from the cache, from a computation already under
// way for the same version, or computed now in a job slot.
func (s *Service) sum(w http.ResponseWriter, r *http.Request, f storage.Object, name, alg string) (string, error) {
	v, ok := versionOf(f, name)
	k := key{alg: alg, version: v}
	if !ok {
		return s.compute(w, r, f, alg)
	}
	for {
		s.mu.Lock()
		if sum, ok := s.sums[k]; ok {
			s.mu.Unlock()
			return sum, nil
		}
		fl := s.flights[k]
		if fl == nil {
			break // s.mu stays locked: this request computes
		}
		s.mu.Unlock()
		select {
		case <-fl.done:
			if fl.err == nil {
				return fl.sum, nil
			}
			// The computing request failed (its client left, or no slot
			// came free); try again, perhaps as the one computing.
			if err := r.Context().Err(); err != nil {
				return "", err
			}
		case <-r.Context().Done():
			return "", r.Context().Err()
		}
	}
	fl := &flight{done: make(chan struct{})}
	s.flights[k] = fl
	s.mu.Unlock()

	fl.sum, fl.err = s.compute(w, r, f, alg)
	s.mu.Lock()
	delete(s.flights, k)
	if now, _ := versionOf(f, name); fl.err == nil && now == v {
		if len(s.sums) >= maxCached {
			for old := range s.sums { // any one: a rough but cheap bound
				delete(s.sums, old)
				break
			}
		}
		s.sums[k] = fl.sum
		s.stored.Store(int64(len(s.sums)))
	}
	s.mu.Unlock()
	close(fl.done)
	return fl.sum, fl.err
}

// compute reads f from its start, in order, in a job slot: an object
// store's object then fetches a few long windows, not a request per buffer.
// A file rewritten while it was hashed gets a digest of neither version,
// which is answered but not kept (its version differs afterwards).
func (s *Service) compute(w http.ResponseWriter, r *http.Request, f storage.Object, alg string) (string, error) {
	done := s.jobs.StartRequest(w, r)
	if done == nil {
		return "", errAnswered
	}
	defer done()
	h := New(alg)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	if _, err := io.CopyBuffer(h, ctxReader{r.Context(), f}, make([]byte, 256<<10)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Line formats one line as coreutils does: a name holding a backslash or a
// newline is escaped and the line starts with a backslash, so `sha256sum -c`
// reads it back.
func Line(hexsum, name string) string {
	if strings.ContainsAny(name, "\\\n\r") {
		name = strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r").Replace(name)
		return "\\" + hexsum + "  " + name + "\n"
	}
	return hexsum + "  " + name + "\n"
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
