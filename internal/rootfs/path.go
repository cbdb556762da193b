package rootfs

import (
	"errors"
	"net/url"
	"strings"
)

// ErrBadPath reports a request path that ferry refuses outright (400), whatever
// the method: a ".." segment, an encoded slash inside a segment, a backslash or
// a NUL byte.
var ErrBadPath = errors.New("bad request path")

// ParseURLPath turns an escaped URL path (r.URL.EscapedPath()) into a clean
// slash-separated name relative to the served root ("." for the root itself).
// It works segment by segment on the escaped form so that "%2F" cannot hide a
// separator and "%2e%2e" is recognised as "..". Empty and "." segments are
// dropped, as a browser would. dir reports a trailing slash.
func ParseURLPath(escaped string) (name string, dir bool, err error) {
	if escaped == "" || escaped[0] != '/' {
		return "", false, ErrBadPath
	}
	dir = strings.HasSuffix(escaped, "/")
	var b strings.Builder
	b.Grow(len(escaped))
	rest := escaped[1:]
	for rest != "" {
		seg := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			seg, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if strings.IndexByte(seg, '%') >= 0 {
			dec, uerr := url.PathUnescape(seg)
			if uerr != nil || strings.IndexByte(dec, '/') >= 0 {
				return "", false, ErrBadPath
			}
			seg = dec
		}
		switch seg {
		case "", ".":
			continue
		case "..":
			return "", false, ErrBadPath
		}
		if strings.ContainsAny(seg, "\\\x00") {
			return "", false, ErrBadPath
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(seg)
	}
	if b.Len() == 0 {
		return ".", true, nil
	}
	return b.String(), dir, nil
}

// IsHiddenName reports whether any component of a clean relative name is a
// dotfile.
func IsHiddenName(name string) bool {
	if name == "." {
		return false
	}
	for {
		if strings.HasPrefix(name, ".") {
			return true
		}
		i := strings.IndexByte(name, '/')
		if i < 0 {
			return false
		}
		name = name[i+1:]
	}
}

// ValidateName checks one name component a client asks ferry to create
// (upload, new folder, rename target). The reason is safe to show to clients.
func ValidateName(comp string, hidden bool) error {
	switch {
	case comp == "":
		return &NameError{"empty name"}
	case comp == "." || comp == "..":
		return &NameError{"name may not be . or .."}
	case len(comp) > 255:
		return &NameError{"name longer than 255 bytes"}
	case strings.ContainsRune(comp, '/'):
		return &NameError{"name contains a slash"}
	case strings.ContainsRune(comp, '\\'):
		return &NameError{"name contains a backslash"}
	case strings.HasPrefix(comp, TempPrefix):
		return &NameError{"name is reserved"}
	case comp[0] == '.' && !hidden:
		return &NameError{"names starting with a dot are not allowed"}
	}
	for _, c := range comp {
		if c < 0x20 || c == 0x7f {
			return &NameError{"name contains a control character"}
		}
	}
	return nil
}

// ValidateRelPath checks a slash-separated relative name component by
// component (a folder upload sends "sub/x.txt").
func ValidateRelPath(rel string, hidden bool) error {
	if rel == "" {
		return &NameError{"empty name"}
	}
	for comp := range strings.SplitSeq(rel, "/") {
		if err := ValidateName(comp, hidden); err != nil {
			return err
		}
	}
	return nil
}

// NameError is a refused client-supplied name; its text is meant for clients.
type NameError struct{ Reason string }

func (e *NameError) Error() string { return e.Reason }
