package checksum

import (
	"encoding/hex"

	"github.com/ferry-sh/ferry/internal/digest"
	"github.com/ferry-sh/ferry/internal/storage"
)

// The cache's algorithm names for RFC 9530's.
var algs = []struct{ rfc, ours string }{{digest.SHA256, "sha256"}, {digest.SHA512, "sha512"}}

// Record keeps digests of a file version that are known without reading
// it: an upload's, checked against the client's Content-Digest as it came
// in. f is the file as stored.
func (s *Service) Record(f storage.Object, name string, sums map[string][]byte) {
	v, ok := versionOf(f, name)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range algs {
		sum, ok := sums[a.rfc]
		if !ok {
			continue
		}
		if len(s.sums) >= maxCached {
			for old := range s.sums {
				delete(s.sums, old)
				break
			}
		}
		s.sums[key{alg: a.ours, version: v}] = hex.EncodeToString(sum)
	}
	s.stored.Store(int64(len(s.sums)))
}

// ReprDigest is the Repr-Digest of the file version f when a digest of it
// is known (asked for with ?hash, or recorded at upload), "" otherwise. It
// reads nothing.
func (s *Service) ReprDigest(f storage.Object, name string) string {
	if s.stored.Load() == 0 {
		return "" // nothing known: no version string to build
	}
	v, ok := versionOf(f, name)
	if !ok {
		return ""
	}
	var sums map[string][]byte
	s.mu.Lock()
	for _, a := range algs {
		if h, ok := s.sums[key{alg: a.ours, version: v}]; ok {
			if b, err := hex.DecodeString(h); err == nil {
				if sums == nil {
					sums = map[string][]byte{}
				}
				sums[a.rfc] = b
			}
		}
	}
	s.mu.Unlock()
	if sums == nil {
		return ""
	}
	return digest.Field(sums)
}
