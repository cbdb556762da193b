// Package digest reads and writes RFC 9530 integrity fields
// (Content-Digest, Repr-Digest: "sha-256=:BASE64:, sha-512=:BASE64:") and
// tus's Upload-Checksum ("sha256 BASE64"), and checks a body against them
// as it is read, so that an upload whose bytes were corrupted on the way
// is refused before it is stored.
package digest

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"io"
	"net/http"
	"strings"
)

// Algorithms ferry checks, by their RFC 9530 names.
const (
	SHA256 = "sha-256"
	SHA512 = "sha-512"
)

// ErrSyntax is a digest field that cannot be read.
var ErrSyntax = errors.New("digest: malformed field")

// ErrMismatch is a body whose digest is not the one announced.
var ErrMismatch = errors.New("digest: the body does not match its digest")

// Want is a digest a request announced.
type Want struct {
	Alg string // SHA256 or SHA512
	Sum []byte
}

func newHash(alg string) hash.Hash {
	switch alg {
	case SHA256:
		return sha256.New()
	case SHA512:
		return sha512.New()
	}
	return nil
}

// ParseField reads a Content-Digest or Repr-Digest value, a structured
// dictionary of byte sequences. Algorithms other than sha-256 and sha-512
// are skipped (RFC 9530 §2: a recipient ignores what it does not know);
// a member that is not a byte sequence of the algorithm's size, or a
// value that is not a dictionary, is ErrSyntax.
func ParseField(v string) ([]Want, error) {
	var out []Want
	for member := range strings.SplitSeq(v, ",") {
		member = strings.Trim(member, " \t")
		if member == "" {
			return nil, ErrSyntax
		}
		key, val, ok := strings.Cut(member, "=")
		if !ok {
			return nil, ErrSyntax
		}
		key = strings.TrimSpace(key)
		if key == "" || !validKey(key) {
			return nil, ErrSyntax
		}
		// Parameters (";...") are allowed by the syntax and mean nothing here.
		val, _, _ = strings.Cut(strings.TrimSpace(val), ";")
		if len(val) < 2 || val[0] != ':' || val[len(val)-1] != ':' {
			return nil, ErrSyntax
		}
		sum, err := base64.StdEncoding.DecodeString(val[1 : len(val)-1])
		if err != nil {
			return nil, ErrSyntax
		}
		h := newHash(key)
		if h == nil {
			continue
		}
		if len(sum) != h.Size() {
			return nil, ErrSyntax
		}
		out = append(out, Want{Alg: key, Sum: sum})
	}
	return out, nil
}

// validKey is an sf-dictionary key: lcalpha or "*", then lcalpha, digits,
// "_", "-", ".", "*".
func validKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c == '*':
		case i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// ParseUploadChecksum reads tus's "Upload-Checksum: ALG BASE64" (sha256 or
// sha512); ok is false for an algorithm ferry does not check.
func ParseUploadChecksum(v string) (w Want, known bool, err error) {
	alg, val, found := strings.Cut(strings.TrimSpace(v), " ")
	if !found {
		return Want{}, false, ErrSyntax
	}
	sum, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val))
	if err != nil {
		return Want{}, false, ErrSyntax
	}
	switch strings.ToLower(alg) {
	case "sha256":
		alg = SHA256
	case "sha512":
		alg = SHA512
	default:
		return Want{}, false, nil
	}
	if len(sum) != newHash(alg).Size() {
		return Want{}, false, ErrSyntax
	}
	return Want{Alg: alg, Sum: sum}, true, nil
}

// FromRequest gathers what a request announces of its body: Content-Digest
// (of the bytes sent) and Repr-Digest (of the representation, the same
// bytes for an upload without Content-Encoding). nil when it announces
// nothing ferry can check.
func FromRequest(r *http.Request) ([]Want, error) {
	var all []Want
	for _, name := range []string{"Content-Digest", "Repr-Digest"} {
		for _, v := range r.Header.Values(name) {
			w, err := ParseField(v)
			if err != nil {
				return nil, err
			}
			all = append(all, w...)
		}
	}
	return all, nil
}

// Reader checks what is read through it against wants.
type Reader struct {
	r      io.Reader
	wants  []Want
	hashes []hash.Hash
	w      io.Writer
}

// NewReader returns a reader over r that hashes every byte for each want.
func NewReader(r io.Reader, wants []Want) *Reader {
	v := &Reader{r: r, wants: wants}
	ws := make([]io.Writer, len(wants))
	for i, w := range wants {
		h := newHash(w.Alg)
		v.hashes = append(v.hashes, h)
		ws[i] = h
	}
	v.w = io.MultiWriter(ws...)
	return v
}

func (v *Reader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	if n > 0 {
		v.w.Write(p[:n])
	}
	return n, err
}

// Check compares what was read with every want: ErrMismatch on the first
// that differs.
func (v *Reader) Check() error {
	for i, h := range v.hashes {
		if !bytes.Equal(h.Sum(nil), v.wants[i].Sum) {
			return ErrMismatch
		}
	}
	return nil
}

// Sums returns the digests read so far, by algorithm.
func (v *Reader) Sums() map[string][]byte {
	m := make(map[string][]byte, len(v.hashes))
	for i, h := range v.hashes {
		m[v.wants[i].Alg] = h.Sum(nil)
	}
	return m
}

// Field formats digests as a Repr-Digest value, sha-256 first.
func Field(sums map[string][]byte) string {
	var parts []string
	for _, alg := range []string{SHA256, SHA512} {
		if s, ok := sums[alg]; ok {
			parts = append(parts, alg+"=:"+base64.StdEncoding.EncodeToString(s)+":")
		}
	}
	return strings.Join(parts, ", ")
}
