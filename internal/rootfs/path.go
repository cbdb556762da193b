package rootfs

import (
	"errors"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
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
	return parseURLPath(escaped, false)
}

// ParseNewURLPath is ParseURLPath for a path that names something a client
// asks ferry to create (PUT, MKCOL, a MOVE or COPY Destination). There an
// empty or "." segment ("/a//b.txt", "/./x.txt") is refused with ErrBadName
// rather than dropped: the client asked for a name ferry will not create,
// and storing it under another name would answer a question it did not ask.
// One trailing slash is allowed; dir reports it.
func ParseNewURLPath(escaped string) (name string, dir bool, err error) {
	return parseURLPath(escaped, true)
}

// ErrBadName is ParseNewURLPath's refusal of an empty or "." segment.
var ErrBadName = &NameError{"empty or . component in the path"}

func parseURLPath(escaped string, strict bool) (name string, dir bool, err error) {
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
			// A trailing slash ends the loop without an empty segment, so
			// every one seen here is a component of its own. The refusal
			// waits for the rest: a ".." later on is still ErrBadPath.
			if strict {
				err = ErrBadName
			}
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
	if err != nil {
		return "", false, err
	}
	if b.Len() == 0 {
		return ".", true, nil
	}
	return b.String(), dir, nil
}

// ValidateName checks that one name component a client asks ferry to create
// (upload, new folder, rename target) can be a name on any store and shown
// faithfully. The reason is safe to show to clients. Which names ferry
// keeps to itself or hides (dotfiles, partial uploads) is the policy
// layer's to say: policy.Rules.ValidateName applies both.
func ValidateName(comp string) error {
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
	}
	if !utf8.ValidString(comp) {
		// Not text: a listing could not show it faithfully, and its stray
		// bytes 0x80–0x9F are C1 controls to a Latin-1 terminal.
		return &NameError{"name is not valid UTF-8"}
	}
	for _, c := range comp {
		if IsControl(c) {
			return &NameError{"name contains a control character"}
		}
	}
	return nil
}

// IsControl reports whether r is a control character (C0, DEL or C1) or a
// bidirectional control (U+061C, U+200E, U+200F, U+202A–U+202E,
// U+2066–U+2069): characters that move a terminal's cursor, start escape
// sequences, or make a name read differently from what it is ("txt.exe"
// shown as "exe.txt"). Names may not hold them, and logs escape them.
func IsControl(r rune) bool {
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Bidi_Control, r)
}

// ValidateRelPath checks a slash-separated relative name component by
// component (a folder upload sends "sub/x.txt").
func ValidateRelPath(rel string) error {
	if rel == "" {
		return &NameError{"empty name"}
	}
	for comp := range strings.SplitSeq(rel, "/") {
		if err := ValidateName(comp); err != nil {
			return err
		}
	}
	return nil
}

// NameError is a refused client-supplied name; its text is meant for clients.
type NameError struct{ Reason string }

func (e *NameError) Error() string { return e.Reason }
