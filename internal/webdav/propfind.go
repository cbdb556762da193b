package webdav

import (
	"bufio"
	"encoding/xml"
	"errors"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/ferry-sh/ferry/internal/fileserver"
	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/mount"
	"github.com/ferry-sh/ferry/internal/storage"
)

func fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	httperr.Write(w, r, status, msg)
}

const xmlHeader = `<?xml version="1.0" encoding="utf-8"?>` + "\n"

// failCondition answers with an RFC 4918 §16 precondition or
// postcondition: an error body naming the condition (and the resources
// concerned, for lock-token-submitted and no-conflicting-lock).
func failCondition(w http.ResponseWriter, status int, cond string, hrefs ...string) {
	body := xmlHeader + `<error xmlns="DAV:"><` + cond
	if len(hrefs) == 0 {
		body += `/></error>` + "\n"
	} else {
		body += ">"
		for _, h := range hrefs {
			body += "<href>" + escape(h) + "</href>"
		}
		body += "</" + cond + "></error>\n"
	}
	h := w.Header()
	h.Set("Content-Type", "application/xml; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

func escape(s string) string {
	var b bufWriter
	xmlText(&b, s)
	return string(b)
}

type bufWriter []byte

func (b *bufWriter) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

// Live properties ferry computes (RFC 4918 §15, RFC 4331 for the quota).
const (
	pResourceType   = "resourcetype"
	pContentLength  = "getcontentlength"
	pLastModified   = "getlastmodified"
	pETag           = "getetag"
	pContentType    = "getcontenttype"
	pCreationDate   = "creationdate"
	pDisplayName    = "displayname"
	pLockDiscovery  = "lockdiscovery"
	pSupportedLock  = "supportedlock"
	pQuotaAvailable = "quota-available-bytes"
)

// allprop is what allprop returns besides dead properties, in this order;
// the quota is returned only when asked for (RFC 4331 §3).
var allprop = []string{pResourceType, pContentLength, pLastModified, pETag, pContentType,
	pCreationDate, pDisplayName, pLockDiscovery, pSupportedLock}

// nsMS is Microsoft's namespace: Windows sets Win32LastModifiedTime, which
// ferry turns into the file's modification time and reads back from it.
const nsMS = "urn:schemas-microsoft-com:"

func isLive(n xml.Name) bool {
	if n.Space == nsMS && n.Local == "Win32LastModifiedTime" {
		return true
	}
	if n.Space != nsDAV {
		return false
	}
	switch n.Local {
	case pResourceType, pContentLength, pLastModified, pETag, pContentType, pCreationDate,
		pDisplayName, pLockDiscovery, pSupportedLock, pQuotaAvailable:
		return true
	}
	return false
}

// resource is one entry of a PROPFIND answer.
type resource struct {
	name  string
	info  storage.Info
	rec   record
	locks []Lock
}

// etag is the ETag a GET of the file answers with.
func etag(info storage.Info) string { return fileserver.ETag(info) }

// modTime is the time a client sees: the one it set where the backend
// cannot keep it, else the backend's.
func (res *resource) modTime() time.Time {
	if res.rec.Mtime != nil {
		return *res.rec.Mtime
	}
	return res.info.ModTime
}

// propfindReq is one PROPFIND being answered.
type propfindReq struct {
	h        *Handler
	r        *http.Request
	pf       propfind
	prefix   string
	quota    int64 // -1 unknown, -2 not looked up yet
	needRec  bool  // dead properties or a kept mtime are wanted
	needLock bool
	locks    []Lock
}

func (h *Handler) propfind(w http.ResponseWriter, r *http.Request, name string) {
	ctx := r.Context()
	depth, err := parseDepth(r.Header.Get("Depth"), infinity)
	if err != nil {
		fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if depth == infinity {
		// RFC 4918 §9.1: a server may refuse Depth: infinity; a listing of
		// the whole tree in one answer is unbounded work for one request.
		failCondition(w, http.StatusForbidden, "propfind-finite-depth")
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		h.failBody(w, r, err)
		return
	}
	pf, err := parsePropfind(body)
	if err != nil {
		h.failBody(w, r, err)
		return
	}
	info, err := h.tree.Stat(ctx, name)
	if err != nil {
		h.failStorage(w, r, err)
		return
	}
	q := &propfindReq{h: h, r: r, pf: pf, prefix: mount.Prefix(r), quota: -2}
	switch pf.kind {
	case findAll, findNames:
		q.needRec, q.needLock = h.props != nil, true
	case findProps:
		for _, n := range pf.names {
			switch {
			case !isLive(n):
				q.needRec = h.props != nil
			case n.Local == pLockDiscovery:
				q.needLock = true
			case n.Local == pLastModified || n.Local == "Win32LastModifiedTime":
				if h.chtimes == nil {
					q.needRec = h.props != nil
				}
			}
		}
	}
	if q.needLock {
		if q.locks, err = h.activeLocks(ctx); err != nil {
			h.failStorage(w, r, err)
			return
		}
	}
	self := resource{name: name, info: info}
	if q.needRec {
		if self.rec, err = h.props.get(ctx, name); err != nil {
			h.failStorage(w, r, err)
			return
		}
	}
	var members map[string]storage.Info
	if depth == 1 && info.IsDir && q.needRec {
		if members, err = h.props.members(ctx, name); err != nil {
			h.failStorage(w, r, err)
			return
		}
		h.props.warm(ctx, name, members)
	}

	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	b := bufio.NewWriterSize(w, 32<<10)
	b.WriteString(xmlHeader + `<multistatus xmlns="DAV:">`)
	q.response(b, &self)
	if depth == 1 && info.IsDir {
		for child, err := range h.tree.List(ctx, name) {
			if err != nil {
				// The answer has begun: leave it unfinished, so that the
				// client sees a broken answer rather than a short listing
				// it would take for the whole folder.
				h.logErr(r, "listing "+name, err)
				b.Flush()
				return
			}
			res := resource{name: path.Join(name, child.Name), info: child}
			if side, ok := members[leaf("p", child.Name)]; ok {
				if res.rec, err = h.props.getListed(ctx, res.name, side); err != nil {
					h.logErr(r, "properties of "+res.name, err)
					b.Flush()
					return
				}
			}
			q.response(b, &res)
			if b.Buffered() == 0 && ctx.Err() != nil {
				return // the client left
			}
		}
	}
	b.WriteString("</multistatus>\n")
	b.Flush()
}

func (h *Handler) failBody(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errTooLarge) {
		fail(w, r, http.StatusRequestEntityTooLarge, "XML body larger than "+strconv.Itoa(maxBody)+" bytes")
		return
	}
	fail(w, r, http.StatusBadRequest, "malformed XML body")
}

// response writes one DAV:response element.
func (q *propfindReq) response(b *bufio.Writer, res *resource) {
	if q.needLock {
		res.locks = res.locks[:0]
		for _, l := range q.locks {
			if l.covers(res.name) {
				res.locks = append(res.locks, l)
			}
		}
	}
	b.WriteString("<response><href>")
	xmlText(b, href(q.prefix, res.name, res.info.IsDir))
	b.WriteString("</href>")
	switch q.pf.kind {
	case findNames:
		b.WriteString("<propstat><prop>")
		for _, p := range allprop {
			if q.has(res, p) {
				writeEmpty(b, xml.Name{Space: nsDAV, Local: p})
			}
		}
		for _, d := range res.rec.Props {
			writeEmpty(b, xml.Name{Space: d.Space, Local: d.Local})
		}
		b.WriteString("</prop><status>HTTP/1.1 200 OK</status></propstat>")
	case findAll:
		b.WriteString("<propstat><prop>")
		for _, p := range allprop {
			q.live(b, res, p)
		}
		for i := range res.rec.Props {
			writeDead(b, &res.rec.Props[i])
		}
		var missing []xml.Name
		for _, n := range q.pf.names { // DAV:include
			if isLive(n) && !slicesContains(allprop, n.Local) && n.Space == nsDAV {
				if !q.live(b, res, n.Local) {
					missing = append(missing, n)
				}
			}
		}
		b.WriteString("</prop><status>HTTP/1.1 200 OK</status></propstat>")
		writeMissing(b, missing)
	case findProps:
		var missing []xml.Name
		found := false
		for _, n := range q.pf.names {
			if isLive(n) && q.has(res, n.Local) || n.Space == nsMS && isLive(n) {
				if !found {
					b.WriteString("<propstat><prop>")
					found = true
				}
				if n.Space == nsMS {
					writeStart(b, n, "")
					b.WriteString(res.modTime().UTC().Format(http.TimeFormat))
					writeEnd(b, n)
				} else {
					q.live(b, res, n.Local)
				}
				continue
			}
			if d := res.rec.find(n); d != nil {
				if !found {
					b.WriteString("<propstat><prop>")
					found = true
				}
				writeDead(b, d)
				continue
			}
			missing = append(missing, n)
		}
		if found {
			b.WriteString("</prop><status>HTTP/1.1 200 OK</status></propstat>")
		}
		writeMissing(b, missing)
	}
	b.WriteString("</response>")
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (rec *record) find(n xml.Name) *deadProp {
	for i := range rec.Props {
		if rec.Props[i].Space == n.Space && rec.Props[i].Local == n.Local {
			return &rec.Props[i]
		}
	}
	return nil
}

func writeMissing(b *bufio.Writer, missing []xml.Name) {
	if len(missing) == 0 {
		return
	}
	b.WriteString("<propstat><prop>")
	for _, n := range missing {
		writeEmpty(b, n)
	}
	b.WriteString("</prop><status>HTTP/1.1 404 Not Found</status></propstat>")
}

// has reports whether the live property p exists for res.
func (q *propfindReq) has(res *resource, p string) bool {
	switch p {
	case pContentLength, pETag:
		return !res.info.IsDir
	case pContentType:
		return !res.info.IsDir && fileserver.TypeByExtension(res.info.Name) != ""
	case pQuotaAvailable:
		return res.info.IsDir && q.quotaFree() >= 0
	case pLastModified, pCreationDate:
		return !res.modTime().IsZero()
	}
	return true
}

// quotaFree asks the backend once per request: members of a folder share
// its filesystem.
func (q *propfindReq) quotaFree() int64 {
	if q.quota == -2 {
		q.quota = -1
		if q.h.statfs != nil {
			if n, err := q.h.statfs.Free(q.r.Context(), "."); err == nil {
				q.quota = n
			}
		}
	}
	return q.quota
}

// live writes the live property p of res, reporting false when res has none.
func (q *propfindReq) live(b *bufio.Writer, res *resource, p string) bool {
	if !q.has(res, p) {
		return false
	}
	switch p {
	case pResourceType:
		if res.info.IsDir {
			b.WriteString("<resourcetype><collection/></resourcetype>")
		} else {
			b.WriteString("<resourcetype/>")
		}
	case pContentLength:
		b.WriteString("<getcontentlength>")
		b.WriteString(strconv.FormatInt(res.info.Size, 10))
		b.WriteString("</getcontentlength>")
	case pLastModified:
		b.WriteString("<getlastmodified>")
		b.WriteString(res.modTime().UTC().Format(http.TimeFormat))
		b.WriteString("</getlastmodified>")
	case pCreationDate:
		// Backends keep no birth time; the modification time is the
		// closest honest answer (mod_dav_fs does the same).
		b.WriteString("<creationdate>")
		b.WriteString(res.modTime().UTC().Format(time.RFC3339))
		b.WriteString("</creationdate>")
	case pETag:
		b.WriteString("<getetag>")
		xmlText(b, etag(res.info))
		b.WriteString("</getetag>")
	case pContentType:
		b.WriteString("<getcontenttype>")
		xmlText(b, fileserver.TypeByExtension(res.info.Name))
		b.WriteString("</getcontenttype>")
	case pDisplayName:
		b.WriteString("<displayname>")
		if res.name != "." {
			xmlText(b, path.Base(res.name))
		}
		b.WriteString("</displayname>")
	case pLockDiscovery:
		b.WriteString("<lockdiscovery>")
		for i := range res.locks {
			q.h.writeActiveLock(b, q.prefix, &res.locks[i])
		}
		b.WriteString("</lockdiscovery>")
	case pSupportedLock:
		b.WriteString("<supportedlock>" +
			"<lockentry><lockscope><exclusive/></lockscope><locktype><write/></locktype></lockentry>" +
			"<lockentry><lockscope><shared/></lockscope><locktype><write/></locktype></lockentry>" +
			"</supportedlock>")
	case pQuotaAvailable:
		b.WriteString("<quota-available-bytes>")
		b.WriteString(strconv.FormatInt(q.quotaFree(), 10))
		b.WriteString("</quota-available-bytes>")
	default:
		return false
	}
	return true
}

// writeActiveLock writes one DAV:activelock.
func (h *Handler) writeActiveLock(b interface {
	WriteString(string) (int, error)
	Write([]byte) (int, error)
}, prefix string, l *Lock) {
	b.WriteString("<activelock><locktype><write/></locktype><lockscope>")
	if l.Shared {
		b.WriteString("<shared/>")
	} else {
		b.WriteString("<exclusive/>")
	}
	b.WriteString("</lockscope><depth>")
	if l.Infinite {
		b.WriteString("infinity")
	} else {
		b.WriteString("0")
	}
	b.WriteString("</depth>")
	if l.Owner != "" {
		b.WriteString("<owner>" + l.Owner + "</owner>")
	}
	left := max(l.Expires.Sub(h.now()).Round(time.Second), time.Second)
	b.WriteString("<timeout>Second-" + strconv.FormatInt(int64(left/time.Second), 10) + "</timeout>")
	b.WriteString("<locktoken><href>")
	xmlText(b, l.Token)
	b.WriteString("</href></locktoken><lockroot><href>")
	xmlText(b, href(prefix, l.Root, l.Dir))
	b.WriteString("</href></lockroot></activelock>")
}

// writeEmpty writes <name/>, declaring its namespace unless it is DAV:,
// the answer's default.
func writeEmpty(b *bufio.Writer, n xml.Name) {
	writeStartOpen(b, n, "")
	b.WriteString("/>")
}

func writeStartOpen(b *bufio.Writer, n xml.Name, lang string) {
	b.WriteByte('<')
	b.WriteString(n.Local)
	if n.Space != nsDAV {
		b.WriteString(` xmlns="`)
		xmlAttr(b, n.Space)
		b.WriteByte('"')
	}
	if lang != "" {
		b.WriteString(` xml:lang="`)
		xmlAttr(b, lang)
		b.WriteByte('"')
	}
}

func writeStart(b *bufio.Writer, n xml.Name, lang string) {
	writeStartOpen(b, n, lang)
	b.WriteByte('>')
}

func writeEnd(b *bufio.Writer, n xml.Name) {
	b.WriteString("</")
	b.WriteString(n.Local)
	b.WriteByte('>')
}

func writeDead(b *bufio.Writer, d *deadProp) {
	n := xml.Name{Space: d.Space, Local: d.Local}
	if d.XML == "" {
		writeStartOpen(b, n, d.Lang)
		b.WriteString("/>")
		return
	}
	writeStart(b, n, d.Lang)
	b.WriteString(d.XML)
	writeEnd(b, n)
}
