package fileserver

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ferry-sh/ferry/internal/transfer"
)

// normalizeRange rewrites a Range header before http.ServeContent sees it,
// where the standard library departs from RFC 9110 §14.2:
//
//   - A header with invalid syntax or a unit other than bytes must be
//     ignored (200 with the whole file); ServeContent answers 416.
//   - A suffix of zero ("bytes=-0") is unsatisfiable; ServeContent answers
//     206 with the impossible Content-Range "bytes SIZE-(SIZE-1)/SIZE".
//   - An empty file has no byte to send: ServeContent answers a suffix range
//     ("bytes=-5") with 206 and "bytes 0--1/0", which no client can parse.
//     The header is dropped (200, empty body), as ServeContent itself does
//     for every other range of an empty file.
//
// It returns the header to use and false when the header is to be dropped.
// Preconditions (If-Range, If-None-Match, …) stay with ServeContent, which
// evaluates them in RFC order before looking at the ranges.
func normalizeRange(v string, size int64) (string, bool) {
	unit, set, ok := strings.Cut(v, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") || size == 0 {
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

// simpleRange reads the commonest Range header, one range in the plain
// form clients send ("bytes=A-B", "bytes=A-" or "bytes=-N", no spaces), and
// gives the bytes it selects from a file of this size. ok is false for
// every other header, valid or not, and for a range that selects nothing;
// those go the general way (normalizeRange, then http.ServeContent).
func simpleRange(v string, size int64) (start, length int64, ok bool) {
	const unit = "bytes="
	if len(v) <= len(unit) || v[:len(unit)] != unit {
		return 0, 0, false
	}
	first, last, found := strings.Cut(v[len(unit):], "-")
	if !found {
		return 0, 0, false
	}
	if first == "" {
		n, ok := smallUint(last)
		if !ok || n == 0 || size == 0 {
			return 0, 0, false
		}
		n = min(n, size)
		return size - n, n, true
	}
	a, ok := smallUint(first)
	if !ok || a >= size {
		return 0, 0, false
	}
	b := size - 1
	if last != "" {
		n, ok := smallUint(last)
		if !ok || n < a {
			return 0, 0, false
		}
		b = min(n, b)
	}
	return a, b - a + 1, true
}

// smallUint parses 1 to 18 decimal digits (so it cannot overflow); false
// for anything else.
func smallUint(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// serveRange answers a GET or HEAD for one small range of a cached file, in
// simpleRange's form and without preconditions, with the response
// http.ServeContent gives it (206, the same headers and bytes) from the
// header values computed when the file was cached, one pread and one write.
// It returns false, having written nothing, for any other request.
//
// It repeats what ServeContent does for that one case, the commonest range
// (a player's or a resuming client's), because the general path parsed the
// header three times (smallResponse, withRange, ServeContent), formatted
// Content-Range with fmt and wrapped the writer for error pages. Measured
// on the bench's "bytes=1000-1999" of a 64 KiB file (BenchmarkServeRange,
// the whole middleware chain): 24 allocations and 1,728 B per request
// before, 11 and 1,520 B after, and 1.4–1.75 × the plain GET's time before,
// 1.05–1.3 × after (BENCHMARKS.md, "(a) small files and (e) ranges").
func (s *Server) serveRange(w http.ResponseWriter, r *http.Request, e *openFile) bool {
	rh := r.Header
	v := rh["Range"]
	if r.Method != http.MethodGet && r.Method != http.MethodHead ||
		len(v) != 1 || e.ctype == nil || e.lastModified == nil ||
		rh["If-Range"] != nil || rh["If-Match"] != nil || rh["If-None-Match"] != nil ||
		rh["If-Modified-Since"] != nil || rh["If-Unmodified-Since"] != nil {
		return false
	}
	size := e.info.Size
	start, length, ok := simpleRange(v[0], size)
	if !ok || length > transfer.SmallBody {
		return false
	}
	h := w.Header()
	if h["Content-Encoding"] != nil || h["Content-Type"] != nil {
		return false // ServeContent treats these specially
	}
	if r.Method == http.MethodGet {
		transfer.FromContext(r.Context()).Describe(transfer.KindFile, size)
	}
	// "bytes A-B/SIZE" and the length in one allocation, each value's
	// slice in another.
	var b [3*20 + 16]byte
	f := append(b[:0], "bytes "...)
	f = strconv.AppendInt(f, start, 10)
	f = append(f, '-')
	f = strconv.AppendInt(f, start+length-1, 10)
	f = append(f, '/')
	f = strconv.AppendInt(f, size, 10)
	nrange := len(f)
	f = strconv.AppendInt(f, length, 10)
	hv := string(f)
	vals := new([2]string)
	vals[0], vals[1] = hv[:nrange], hv[nrange:]
	s.cachedHeaders(h, e)
	h["Content-Range"] = vals[0:1:1]
	h["Content-Length"] = vals[1:2:2]
	writeCached(w, r, e, http.StatusPartialContent, start, length)
	return true
}
