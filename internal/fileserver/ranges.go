package fileserver

import (
	"net/http"
	"strconv"
	"strings"
)

// normalizeRange rewrites a Range header before http.ServeContent sees it,
// where the standard library departs from RFC 9110 §14.2:
//
//   - A header with invalid syntax or a unit other than bytes must be
//     ignored (200 with the whole file); ServeContent answers 416.
//   - A suffix of zero ("bytes=-0") is unsatisfiable; ServeContent answers
//     206 with the impossible Content-Range "bytes SIZE-(SIZE-1)/SIZE".
//
// It returns the header to use and false when the header is to be dropped.
// Preconditions (If-Range, If-None-Match, …) stay with ServeContent, which
// evaluates them in RFC order before looking at the ranges.
func normalizeRange(v string, size int64) (string, bool) {
	unit, set, ok := strings.Cut(v, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return "", false
	}
	// The header is returned as it came (no allocation) unless a range is
	// dropped or an element needs trimming.
	same := unit == "bytes"
	nkept := 0
	zeroSuffix := false
	for spec := range strings.SplitSeq(set, ",") {
		raw := spec
		spec = strings.TrimSpace(spec)
		if spec == "" {
			same = false
			continue // the list rule (RFC 9110 §5.6.1) allows empty elements
		}
		first, last, ok := strings.Cut(spec, "-")
		if !ok || !digits(last) && last != "" || !digits(first) && first != "" || first == "" && last == "" {
			return "", false
		}
		if first == "" {
			n, err := strconv.ParseInt(last, 10, 64)
			if err != nil {
				return "", false
			}
			if n == 0 {
				zeroSuffix = true // selects nothing: unsatisfiable
				same = false
				continue
			}
		} else {
			a, err := strconv.ParseInt(first, 10, 64)
			if err != nil {
				return "", false
			}
			if last != "" {
				b, err := strconv.ParseInt(last, 10, 64)
				if err != nil || b < a {
					return "", false // last-pos < first-pos is invalid (§14.1.1)
				}
			}
		}
		if raw != spec {
			same = false
		}
		nkept++
	}
	if nkept == 0 {
		if !zeroSuffix {
			return "", false // "bytes=" names no range at all
		}
		// Only zero suffixes: a range that starts at the end of the file is
		// one ServeContent rightly answers 416 with "bytes */SIZE".
		return "bytes=" + strconv.FormatInt(size, 10) + "-", true
	}
	if same {
		return v, true
	}
	kept := make([]string, 0, nkept)
	for spec := range strings.SplitSeq(set, ",") {
		spec = strings.TrimSpace(spec)
		if spec != "" && !isZeroSuffix(spec) {
			kept = append(kept, spec)
		}
	}
	return "bytes=" + strings.Join(kept, ","), true
}

// isZeroSuffix reports whether a valid range spec is "-0" (or "-00…").
func isZeroSuffix(spec string) bool {
	return spec[0] == '-' && strings.Trim(spec[1:], "0") == ""
}

// rangeLength is the number of bytes a Range header selects from a file of
// this size (overlaps counted twice, as ServeContent counts them); false when
// the header is ignored and the whole file would be sent.
func rangeLength(v string, size int64) (int64, bool) {
	nv, keep := normalizeRange(v, size)
	if !keep {
		return 0, false
	}
	var total int64
	for spec := range strings.SplitSeq(strings.TrimPrefix(nv, "bytes="), ",") {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			continue
		}
		first, last, _ := strings.Cut(spec, "-")
		if first == "" {
			n, _ := strconv.ParseInt(last, 10, 64)
			total += min(n, size)
			continue
		}
		a, _ := strconv.ParseInt(first, 10, 64)
		if a >= size {
			continue // unsatisfiable: no bytes
		}
		b := size - 1
		if last != "" {
			n, _ := strconv.ParseInt(last, 10, 64)
			b = min(n, size-1)
		}
		total += b - a + 1
	}
	return total, true
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// withRange returns r with its Range header normalised for ServeContent; r
// itself is left untouched for the access log and the tracker.
func withRange(r *http.Request, size int64) *http.Request {
	v := r.Header.Get("Range")
	if v == "" {
		return r
	}
	nv, keep := normalizeRange(v, size)
	if keep && nv == v {
		return r
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.Header = r.Header.Clone()
	if keep {
		r2.Header.Set("Range", nv)
	} else {
		r2.Header.Del("Range")
	}
	return r2
}

// singleRangeLength is the length of the one range a Range header selects
// from a file of this size; false when it selects none, several, or is
// ignored.
func singleRangeLength(v string, size int64) (int64, bool) {
	if v == "" || strings.IndexByte(v, ',') >= 0 {
		return 0, false
	}
	n, ok := rangeLength(v, size)
	return n, ok && n > 0
}
