package tus

import (
	"encoding/base64"
	"errors"
	"path"
	"strings"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage/policy"
)

// ParseOffset parses Upload-Offset and Upload-Length: a non-negative decimal
// integer within int64 (tus 1.0 §5.2), digits only: no sign, no spaces.
func ParseOffset(s string) (int64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// ParseMetadata parses Upload-Metadata (tus 1.0 §6.1.1): comma-separated
// pairs of a key and a base64-encoded value, separated by a space; the value
// may be absent. Keys are non-empty, ASCII without spaces or commas, and
// unique.
func ParseMetadata(s string) (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for pair := range strings.SplitSeq(s, ",") {
		pair = strings.TrimSpace(pair)
		key, val, _ := strings.Cut(pair, " ")
		if key == "" {
			return nil, errors.New("empty key")
		}
		for i := 0; i < len(key); i++ {
			if key[i] <= ' ' || key[i] >= 0x7f {
				return nil, errors.New("key with a character that is not printable ASCII")
			}
		}
		if _, dup := m[key]; dup {
			return nil, errors.New("key " + key + " given twice")
		}
		val = strings.TrimSpace(val)
		dec, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			// Some clients leave out the padding.
			dec, err = base64.RawStdEncoding.DecodeString(val)
		}
		if err != nil {
			return nil, errors.New("value of " + key + " is not base64")
		}
		m[key] = string(dec)
	}
	return m, nil
}

// TargetName joins the folder an upload is meant for (a slash-separated
// path from the served root such as "/docs/", as the page knows it; empty
// for the root) and the file's name (which may be a relative path, as a
// folder upload sends "sub/x.txt") into a clean relative name, refusing
// what every upload refuses: empty, "." or ".." components, backslashes,
// control characters, over-long names, dotfiles without hidden, and
// ferry's reserved /.ferry/.
func TargetName(folder, filename string, hidden bool) (string, error) {
	if filename == "" {
		return "", &rootfs.NameError{Reason: "Upload-Metadata has no filename"}
	}
	var comps []string
	for c := range strings.SplitSeq(folder, "/") {
		if c == "" {
			continue // leading, trailing and doubled slashes
		}
		if err := (policy.Rules{Hidden: hidden}).ValidateName(c); err != nil {
			return "", err
		}
		comps = append(comps, c)
	}
	if err := (policy.Rules{Hidden: hidden}).ValidateRelPath(filename); err != nil {
		return "", err
	}
	name := path.Join(append(comps, filename)...)
	if policy.Reserved(name) {
		return "", &rootfs.NameError{Reason: "name is reserved"}
	}
	return name, nil
}
