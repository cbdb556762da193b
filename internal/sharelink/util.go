package sharelink

import (
	"crypto/hmac"
	"encoding/hex"
)

func hmacEqual(a, b []byte) bool { return hmac.Equal(a, b) }

func hexDecode(dst []byte, s string) (int, error) { return hex.Decode(dst, []byte(s)) }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
