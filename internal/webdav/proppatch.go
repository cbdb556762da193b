package webdav

import (
	"bufio"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-sh/ferry/internal/mount"
)

// isWin32Mtime is the property Windows sets to a copied file's time.
func isWin32Mtime(n xml.Name) bool {
	return n.Space == nsMS && n.Local == "Win32LastModifiedTime"
}

// proppatch answers PROPPATCH (RFC 4918 §9.2): every instruction is
// carried out, in order, or none is.
func (h *Handler) proppatch(w http.ResponseWriter, r *http.Request, name string) {
	ctx := r.Context()
	if _, err := h.tree.Stat(ctx, name); err != nil {
		h.failStorage(w, r, err)
		return
	}
	body, err := readBody(w, r)
	if err == nil && body == nil {
		err = errXML
	}
	if err != nil {
		h.failBody(w, r, err)
		return
	}
	patches, err := parsePropPatch(body)
	if err != nil {
		h.failBody(w, r, err)
		return
	}
	locks, err := h.activeLocks(ctx)
	if err != nil {
		h.failStorage(w, r, err)
		return
	}
	if _, err := h.check(r, name, locks, touch{name: name}); err != nil {
		h.failCheck(w, r, err)
		return
	}

	status := make([]int, len(patches))
	failed := false
	var mtime *time.Time
	dead := false
	for i, p := range patches {
		switch {
		case isWin32Mtime(p.name) && !p.remove:
			t, err := http.ParseTime(strings.TrimSpace(p.text))
			if err != nil {
				status[i], failed = http.StatusConflict, true
				continue
			}
			mtime = &t
		case isWin32Mtime(p.name):
			// Removing it leaves the file's time as it is.
		case p.name.Space == nsDAV:
			// DAV: properties are the live ones RFC 4918 defines or
			// reserved for it; none is a client's to set.
			status[i], failed = http.StatusForbidden, true
		case h.props == nil:
			status[i], failed = http.StatusForbidden, true
		default:
			dead = true
		}
	}
	if !failed && mtime != nil && h.chtimes == nil && h.props == nil {
		for i, p := range patches {
			if isWin32Mtime(p.name) {
				status[i], failed = http.StatusForbidden, true
			}
		}
	}
	if failed {
		for i := range status {
			if status[i] == 0 {
				status[i] = http.StatusFailedDependency
			}
		}
		h.writePatchResult(w, r, name, patches, status)
		return
	}
	if dead || mtime != nil && h.chtimes == nil {
		err := h.props.update(ctx, name, func(rec *record) error {
			for _, p := range patches {
				switch {
				case isWin32Mtime(p.name):
					if !p.remove && h.chtimes == nil {
						rec.Mtime = mtime
					}
				case p.remove:
					rec.remove(p.name)
				default:
					rec.set(deadProp{Space: p.name.Space, Local: p.name.Local, Lang: p.lang, XML: p.value})
				}
			}
			return nil
		})
		if err != nil {
			h.failStorage(w, r, err)
			return
		}
	}
	if mtime != nil && h.chtimes != nil {
		if err := h.chtimes.Chtimes(ctx, name, *mtime); err != nil {
			h.failStorage(w, r, err)
			return
		}
	}
	for i := range status {
		status[i] = http.StatusOK
	}
	h.writePatchResult(w, r, name, patches, status)
}

func (rec *record) set(d deadProp) {
	for i := range rec.Props {
		if rec.Props[i].Space == d.Space && rec.Props[i].Local == d.Local {
			rec.Props[i] = d
			return
		}
	}
	rec.Props = append(rec.Props, d)
}

func (rec *record) remove(n xml.Name) {
	out := rec.Props[:0]
	for _, d := range rec.Props {
		if d.Space != n.Space || d.Local != n.Local {
			out = append(out, d)
		}
	}
	rec.Props = out
}

// writePatchResult answers 207 with one propstat per status, in the order
// statuses first appear.
func (h *Handler) writePatchResult(w http.ResponseWriter, r *http.Request, name string, patches []patch, status []int) {
	info, _ := h.tree.Stat(r.Context(), name)
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	b := bufio.NewWriter(w)
	b.WriteString(xmlHeader + `<multistatus xmlns="DAV:"><response><href>`)
	xmlText(b, href(mount.Prefix(r), name, info.IsDir))
	b.WriteString("</href>")
	done := map[int]bool{}
	for _, s := range status {
		if done[s] {
			continue
		}
		done[s] = true
		b.WriteString("<propstat><prop>")
		seen := map[xml.Name]bool{}
		for i, p := range patches {
			if status[i] == s && !seen[p.name] {
				seen[p.name] = true
				writeEmpty(b, p.name)
			}
		}
		b.WriteString("</prop><status>HTTP/1.1 " + statusLine(s) + "</status>")
		if s == http.StatusForbidden {
			b.WriteString("<error><cannot-modify-protected-property/></error>")
		}
		b.WriteString("</propstat>")
	}
	b.WriteString("</response></multistatus>\n")
	b.Flush()
}

func statusLine(s int) string {
	return strconv.Itoa(s) + " " + http.StatusText(s)
}
