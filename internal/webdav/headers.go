package webdav

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// infinity is Depth: infinity.
const infinity = -1

var errDepth = errors.New("Depth must be 0, 1 or infinity")

// parseDepth reads a Depth header (RFC 4918 §10.2); def is the value when
// there is none.
func parseDepth(s string, def int) (int, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return def, nil
	case "0":
		return 0, nil
	case "1":
		return 1, nil
	case "infinity":
		return infinity, nil
	}
	return 0, errDepth
}

// Lock timeouts: what a client gets without asking, and the most it may
// have (a lock a client forgot must not hold a file for days).
const (
	defaultTimeout = 10 * time.Minute
	maxTimeout     = 24 * time.Hour
)

// parseTimeout reads a Timeout header (RFC 4918 §10.7): a comma-separated
// list of "Second-N" and "Infinite" in the client's order of preference;
// the first one understood wins, bounded by maxTimeout. Anything else gives
// the default, as the server may ignore the header.
func parseTimeout(s string) time.Duration {
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if strings.EqualFold(part, "Infinite") {
			return maxTimeout
		}
		if len(part) > 7 && strings.EqualFold(part[:7], "Second-") {
			n, err := strconv.ParseUint(part[7:], 10, 64)
			if err != nil {
				if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
					return maxTimeout
				}
				continue
			}
			if n == 0 {
				continue
			}
			if n >= uint64(maxTimeout/time.Second) {
				return maxTimeout
			}
			return time.Duration(n) * time.Second
		}
	}
	return defaultTimeout
}

// ifHeader is a parsed If header (RFC 4918 §10.4): lists of conditions,
// each list tagged with the resource it applies to ("" for the request's).
type ifHeader struct {
	lists []ifList
}

type ifList struct {
	tag   string
	conds []ifCond
}

// ifCond is one condition: a state token (a lock token) or an entity tag,
// possibly negated.
type ifCond struct {
	not   bool
	token string
	etag  string
}

var errIf = errors.New("malformed If header")

// maxIfLists bounds the work one If header can ask for.
const maxIfLists = 64

// parseIf parses an If header.
func parseIf(s string) (ifHeader, error) {
	var h ifHeader
	tagged := -1 // unknown until the first production
	tag := ""
	s = strings.TrimLeft(s, " \t")
	if s == "" {
		return h, errIf
	}
	for s != "" {
		switch s[0] {
		case '<':
			if tagged == 0 {
				return h, errIf
			}
			tagged = 1
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return h, errIf
			}
			tag = s[1:end]
			if tag == "" || strings.ContainsAny(tag, " \t") {
				return h, errIf
			}
			s = strings.TrimLeft(s[end+1:], " \t")
			if s == "" || s[0] != '(' {
				return h, errIf // a tag needs at least one list
			}
		case '(':
			if tagged == -1 {
				tagged = 0
			}
			l, rest, err := parseIfList(s[1:])
			if err != nil {
				return h, err
			}
			l.tag = tag
			h.lists = append(h.lists, l)
			if len(h.lists) > maxIfLists {
				return h, errIf
			}
			s = rest
		default:
			return h, errIf
		}
		s = strings.TrimLeft(s, " \t")
	}
	return h, nil
}

// parseIfList reads the conditions after "(" up to the matching ")".
func parseIfList(s string) (ifList, string, error) {
	var l ifList
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return l, "", errIf
		}
		if s[0] == ')' {
			if len(l.conds) == 0 {
				return l, "", errIf
			}
			return l, s[1:], nil
		}
		var c ifCond
		if len(s) >= 3 && strings.EqualFold(s[:3], "Not") {
			c.not = true
			s = strings.TrimLeft(s[3:], " \t")
			if s == "" {
				return l, "", errIf
			}
		}
		switch s[0] {
		case '<':
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return l, "", errIf
			}
			c.token = s[1:end]
			if c.token == "" || strings.ContainsAny(c.token, " \t") {
				return l, "", errIf
			}
			s = s[end+1:]
		case '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return l, "", errIf
			}
			c.etag = s[1:end]
			if c.etag == "" {
				return l, "", errIf
			}
			s = s[end+1:]
		default:
			return l, "", errIf
		}
		l.conds = append(l.conds, c)
		if len(l.conds) > maxIfLists {
			return l, "", errIf
		}
	}
}

// tokens are the state tokens the header names without Not: the lock
// tokens the client submits (RFC 4918 §10.4.1).
func (h ifHeader) tokens() []string {
	var out []string
	for _, l := range h.lists {
		for _, c := range l.conds {
			if c.token != "" && !c.not {
				out = append(out, c.token)
			}
		}
	}
	return out
}
