package sharelink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// A token is the part of a share link's URL that proves the server made
// it: base64url(id ‖ expiry ‖ limit) "." base64url(tag), where tag is the
// first 16 bytes of HMAC-SHA256 under the server's secret of the payload
// and the shared path. Expiry and limit are in the clear so that an expired
// link is refused without touching the store; changing any of them, or
// asking for another path with the token, breaks the tag.

const (
	idLen      = 12
	payloadLen = idLen + 8 + 4
	tagLen     = 16
	// TokenLen is the length of a token in characters.
	TokenLen = (payloadLen*8+5)/6 + 1 + (tagLen*8+5)/6
)

var b64 = base64.RawURLEncoding.Strict()

// claims are what a token carries.
type claims struct {
	id      [idLen]byte
	expires int64  // Unix seconds
	limit   uint32 // downloads; 0 = no limit
}

func (c claims) ID() string { return hex.EncodeToString(c.id[:]) }

func (c claims) payload() []byte {
	b := make([]byte, payloadLen)
	copy(b, c.id[:])
	binary.BigEndian.PutUint64(b[idLen:], uint64(c.expires))
	binary.BigEndian.PutUint32(b[idLen+8:], c.limit)
	return b
}

// tag binds the claims to the shared path under secret.
func tag(secret []byte, c claims, path string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("ferry share link v1\x00"))
	m.Write(c.payload())
	m.Write([]byte(path))
	return m.Sum(nil)[:tagLen]
}

func sign(secret []byte, c claims, path string) string {
	return b64.EncodeToString(c.payload()) + "." + b64.EncodeToString(tag(secret, c, path))
}

var errMalformed = errors.New("malformed token")

// parseToken reads a token's claims and tag; it does not check the tag,
// which needs the path from the link's record.
func parseToken(tok string) (claims, []byte, error) {
	var c claims
	if len(tok) != TokenLen {
		return c, nil, errMalformed
	}
	p, t, ok := strings.Cut(tok, ".")
	if !ok {
		return c, nil, errMalformed
	}
	pb, err := b64.DecodeString(p)
	if err != nil || len(pb) != payloadLen {
		return c, nil, errMalformed
	}
	tb, err := b64.DecodeString(t)
	if err != nil || len(tb) != tagLen {
		return c, nil, errMalformed
	}
	copy(c.id[:], pb)
	c.expires = int64(binary.BigEndian.Uint64(pb[idLen:]))
	c.limit = binary.BigEndian.Uint32(pb[idLen+8:])
	return c, tb, nil
}

func (c claims) expired(now time.Time) bool { return now.Unix() >= c.expires }
