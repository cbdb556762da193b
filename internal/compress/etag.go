package compress

import "strings"

// SuffixETag gives a compressed representation its own validator: the
// coding is added inside the quotes, `"abc"` → `"abc-zstd"`, W/ kept. A
// cache or client holding both representations can then tell them apart,
// and a conditional request names the one it holds.
func SuffixETag(etag, coding string) string {
	if len(etag) < 2 || etag[len(etag)-1] != '"' {
		return etag
	}
	return etag[:len(etag)-1] + "-" + coding + `"`
}

// stripTags rewrites an If-None-Match value for the handler below, which
// knows only the identity representation's validators: every tag ending in
// "-CODING" loses that suffix, so that a client holding the compressed
// representation gets its 304. It reports whether any tag changed; a value
// it cannot parse is returned as it is (it then matches nothing).
func stripTags(v, coding string) (string, bool) {
	suffix := "-" + coding + `"`
	if !strings.Contains(v, suffix) {
		return v, false
	}
	var b strings.Builder
	changed := false
	rest := v
	for {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			break
		}
		if rest[0] == '*' {
			return v, false
		}
		weak := strings.HasPrefix(rest, "W/")
		start := 0
		if weak {
			start = 2
		}
		if len(rest) <= start || rest[start] != '"' {
			return v, false
		}
		end := strings.IndexByte(rest[start+1:], '"')
		if end < 0 {
			return v, false
		}
		tag := rest[:start+1+end+1]
		rest = rest[len(tag):]
		if strings.HasSuffix(tag, suffix) && len(tag)-len(suffix) >= start+1 {
			tag = tag[:len(tag)-len(suffix)] + `"`
			changed = true
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tag)
	}
	if !changed {
		return v, false
	}
	return b.String(), true
}
