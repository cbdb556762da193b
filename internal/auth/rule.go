// Package auth is ferry's HTTP Basic authentication: --auth rules (users,
// plain or bcrypt passwords, per-path read or read-write grants), the check
// that runs before anything else looks at a request, a cache of successful
// bcrypt checks and a per-address limit on failed attempts.
package auth

import (
	"encoding/base64"
	"path"
	"regexp"
	"strings"
)

// Rule is one parsed --auth value: USER:PASS[@/path[:ro|:rw]].
type Rule struct {
	User string
	// Secret is the plain password or its bcrypt hash (Hashed).
	Secret string
	Hashed bool
	// Path is the subtree the rule grants, as a clean slash-separated name
	// relative to the served root ("." for the whole tree).
	Path  string
	Write bool
}

// SpecError is a refused --auth value; its text never repeats the password.
type SpecError struct{ Reason string }

func (e *SpecError) Error() string { return e.Reason }

func specErr(reason string) error { return &SpecError{reason} }

// IsBcrypt reports whether s looks like a bcrypt hash ferry accepts as PASS.
func IsBcrypt(s string) bool {
	return len(s) == 60 && (strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$"))
}

// ParseRule parses USER:PASS, USER:PASS@/path, USER:PASS@/path:ro or
// USER:PASS@/path:rw. A rule without a path grants read-write on the whole
// tree; a rule with a path but no mode grants read-write on that subtree.
//
// The user ends at the first colon (RFC 7617 forbids colons in user IDs).
// The path starts at the last "@/", so passwords may contain '@' and ':'
// (bcrypt hashes contain neither); a password that itself contains "@/"
// needs an explicit path ("@/") after it.
func ParseRule(spec string) (Rule, error) {
	var r Rule
	user, rest, ok := strings.Cut(spec, ":")
	if !ok {
		return r, specErr("expected USER:PASS")
	}
	if user == "" {
		return r, specErr("empty user name")
	}
	if hasCtl(user) {
		return r, specErr("user name contains a control character")
	}
	pass, where := rest, ""
	if i := strings.LastIndex(rest, "@/"); i >= 0 {
		pass, where = rest[:i], rest[i+1:]
	}
	if pass == "" {
		return r, specErr("empty password for user " + quote(user))
	}
	if hasCtl(pass) {
		return r, specErr("password for user " + quote(user) + " contains a control character")
	}
	r.User, r.Secret, r.Path, r.Write = user, pass, ".", true
	if strings.HasPrefix(pass, "$2") {
		if !IsBcrypt(pass) {
			return r, specErr("password for user " + quote(user) + " looks like a bcrypt hash but is not one ($2a$, $2b$ or $2y$, 60 characters)")
		}
		r.Hashed = true
	}
	if where == "" {
		return r, nil
	}
	switch {
	case strings.HasSuffix(where, ":ro"):
		where, r.Write = strings.TrimSuffix(where, ":ro"), false
	case strings.HasSuffix(where, ":rw"):
		where = strings.TrimSuffix(where, ":rw")
	case modeTypo.MatchString(where):
		// "/docs:r" or "/docs:wr" is more likely a mistyped mode than a
		// folder name; a folder really named so takes an explicit ":rw".
		return r, specErr("unknown access mode in " + quote(where) + ": use :ro or :rw")
	}
	p, err := cleanRulePath(where)
	if err != nil {
		return r, err
	}
	r.Path = p
	return r, nil
}

// cleanRulePath turns "/a/b/" into "a/b", refusing what a request path could
// never match (a ".." segment, a backslash, a NUL) so that a typo does not
// silently grant nothing or more than meant.
func cleanRulePath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", specErr("the path after @ must start with /")
	}
	if strings.ContainsAny(p, "\\\x00") || hasCtl(p) {
		return "", specErr("invalid path " + quote(p))
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." {
			return "", specErr("path " + quote(p) + " may not contain ..")
		}
	}
	c := path.Clean(p)
	if c == "/" {
		return ".", nil
	}
	return c[1:], nil
}

func hasCtl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

func quote(s string) string { return "\"" + s + "\"" }

var modeTypo = regexp.MustCompile(`:[A-Za-z]{1,3}$`)

// ParseBasic extracts the user and password of an RFC 7617 Authorization
// header value. The scheme is case-insensitive; the user ends at the first
// colon; anything malformed is refused.
func ParseBasic(h string) (user, pass string, ok bool) {
	const prefix = "basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", "", false
	}
	enc := strings.TrimLeft(h[len(prefix):], " ")
	// Longer values are no credentials anyone set with --auth; refusing
	// them early bounds the work an attacker can ask for.
	if len(enc) > 4096 {
		return "", "", false
	}
	dec, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(dec), ":")
	if !ok {
		return "", "", false
	}
	return user, pass, true
}

// ParseRules parses every --auth value.
func ParseRules(specs []string) ([]Rule, error) {
	rules := make([]Rule, 0, len(specs))
	for _, s := range specs {
		r, err := ParseRule(s)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}
