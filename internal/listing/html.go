package listing

import (
	"bufio"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ferry-sh/ferry/internal/rootfs"
)

// Capabilities says which write controls the page offers. The server still
// checks every request; these only decide what is shown.
type Capabilities struct {
	Upload, Delete, Move bool  // POST/PUT/MKCOL; DELETE; MOVE (rename)
	Archive              bool  // buttons for ?zip and ?tar
	Overwrite            bool  // uploads replace existing files: the page asks first
	MaxUpload            int64 // bytes; 0 = no limit
	Resumable            bool  // tus uploads at .ferry/tus/: loads tus.js, data-can-resume
	Thumbnails           bool  // ?thumb answers: the grid shows images
	Share                bool  // the client may make share links (POST .ferry/shares)
}

// Readme is a folder's README, rendered to safe HTML by the caller; the
// page shows it below the listing.
type Readme struct {
	Name string        // its file name
	HTML template.HTML // the rendering; must already be safe to include
}

// Page is one folder listing, ready to render.
type Page struct {
	Path    string // decoded URL path relative to the handler's mount; starts and ends with "/"
	Entries []Entry
	Sort    Sort
	Can     Capabilities
	// QR is what the page's QR code encodes: an absolute URL, or a path
	// that the QR endpoint resolves against the request's host. Empty
	// means Path.
	QR string
	// Readme, when not nil, is shown below the listing.
	Readme *Readme
	// Search, when not nil, makes the page a search's results: the
	// entries carry their Path.
	Search *Search
	// RootName names the root in the breadcrumbs and the title; "" is
	// "Home". A share link's page names the folder it shares, which is
	// what its recipient was sent.
	RootName string
}

// Search is what a results page says of its search.
type Search struct {
	Query string
	// Limit is why the search stopped early ("results", "folders",
	// "time"), "" when it went through the whole subtree.
	Limit string
}

// Display format of modification times: absolute, with the year, so a listing
// read next year (or pasted in a bug report) still says when. The server
// writes them in UTC and says so in the column's header; app.js rewrites
// them into the viewer's own time zone.
const timeLayout = "2006-01-02 15:04"

// cleanPath returns p.Path with a leading and a trailing slash, so a caller
// that forgets one still gets correct relative links.
func (p *Page) cleanPath() string {
	path := p.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	return path
}

// segments are the folder names from the mount point down to this folder.
func segments(path string) []string {
	t := strings.Trim(path, "/")
	if t == "" {
		return nil
	}
	return strings.Split(t, "/")
}

// AssetPrefix is the relative URL of the asset folder as seen from a listing
// at path: one "../" per segment, so the page works under any mount prefix.
func AssetPrefix(path string) string {
	return strings.Repeat("../", len(segments(path))) + rootfs.Reserved + "/assets/"
}

type crumb struct {
	Name    string
	Href    string // relative; empty for the current folder
	Current bool
	Root    bool
}

type column struct {
	Label    string
	Class    string
	Key      string // ?sort=KEY
	Order    string // &order=ORDER: what a click asks for
	Zone     bool   // the times column: says they are UTC
	Arrow    string // ▲ or ▼ on the active column
	AriaSort string // ascending / descending on the active column
}

// frame is what the template needs; rows are written by hand (see writeRows).
type frame struct {
	Path       string
	Title      string // "Index of …"
	QR         string // the u= of the QR code (see Page.QR)
	Style      template.CSS
	Favicon    template.URL
	Assets     string // relative URL of <mount>/.ferry/assets/
	Ferry      string // relative URL of <mount>/.ferry/ (ferry's own pages)
	Crumbs     []crumb
	Columns    []column
	Parent     bool
	Empty      bool
	Can        Capabilities
	MaxUpload  string // human size, "" when unlimited
	Summary    string
	CanUpload  string // "1" or "0", for data- attributes
	CanDelete  string
	CanMove    string
	CanArchive string
	MaxBytes   string
	Readme     *Readme
	Search     *Search
	Query      string
	Note       string // what a results page says of its search
}

func bit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (p *Page) frame() frame {
	path := p.cleanPath()
	segs := segments(path)
	depth := len(segs)

	// Breadcrumbs: the root, then each ancestor, each a "../" chain so the
	// links stay right whatever prefix the handler is mounted under.
	crumbs := make([]crumb, 0, depth+1)
	root := p.RootName
	if root == "" {
		root = "Home"
	}
	crumbs = append(crumbs, crumb{Name: root, Href: upHref(depth), Current: depth == 0, Root: true})
	for i, s := range segs {
		up := depth - 1 - i
		c := crumb{Name: s, Current: up == 0}
		if up > 0 {
			c.Href = upHref(up)
		}
		crumbs = append(crumbs, c)
	}
	if depth == 0 {
		crumbs[0].Href = ""
	}

	s := p.Sort.normalized()
	cols := []column{
		{Label: "Name", Class: "n", Key: SortName},
		{Label: "Size", Class: "s", Key: SortSize},
		{Label: "Modified", Class: "t", Key: SortTime, Zone: true},
	}
	for i := range cols {
		key := cols[i].Key
		order := "asc"
		if key == s.Key {
			// Clicking the active column flips it; the arrow shows the
			// current direction.
			if !s.Desc {
				order = "desc"
				cols[i].Arrow, cols[i].AriaSort = "▲", "ascending"
			} else {
				cols[i].Arrow, cols[i].AriaSort = "▼", "descending"
			}
		}
		cols[i].Order = order
	}

	var dirs, files int
	var total int64
	for i := range p.Entries {
		if p.Entries[i].IsDir {
			dirs++
		} else {
			files++
			total += p.Entries[i].Size
		}
	}

	qr := p.QR
	if qr == "" {
		qr = path
	}
	title := "Index of " + path
	if p.RootName != "" {
		title = "Index of " + p.RootName + path
	}
	f := frame{
		Path:       path,
		Title:      title,
		QR:         qr,
		Style:      template.CSS(inlined.style),
		Favicon:    template.URL(inlined.favicon),
		Assets:     AssetPrefix(path),
		Ferry:      strings.Repeat("../", depth) + rootfs.Reserved + "/",
		Crumbs:     crumbs,
		Columns:    cols,
		Parent:     depth > 0,
		Empty:      len(p.Entries) == 0,
		Can:        p.Can,
		Summary:    summary(dirs, files, total),
		CanUpload:  bit(p.Can.Upload),
		CanDelete:  bit(p.Can.Delete),
		CanMove:    bit(p.Can.Move),
		CanArchive: bit(p.Can.Archive),
		MaxBytes:   strconv.FormatInt(max(p.Can.MaxUpload, 0), 10),
		Readme:     p.Readme,
		Search:     p.Search,
	}
	if p.Search != nil {
		f.Query = p.Search.Query
		f.Note = searchNote(len(p.Entries), p.Search)
		f.Summary = f.Note
	}
	if p.Can.MaxUpload > 0 {
		f.MaxUpload = HumanSize(p.Can.MaxUpload)
	}
	return f
}

func upHref(n int) string {
	if n == 0 {
		return "./"
	}
	return strings.Repeat("../", n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func summary(dirs, files int, total int64) string {
	if dirs == 0 && files == 0 {
		return "empty"
	}
	var parts []string
	if dirs > 0 {
		parts = append(parts, plural(dirs, "folder", "folders"))
	}
	if files > 0 {
		parts = append(parts, plural(files, "file", "files"), HumanSize(total))
	}
	return strings.Join(parts, " · ")
}

// The page frame. html/template escapes everything in it by context; the rows
// in between are written by writeRows, which escapes by hand for speed.
//
// The page must run under a strict Content-Security-Policy (no inline script
// or style except the two whose hashes PageCSP lists, no style attributes,
// no inline handlers): data reaches app.js only through the body's data-
// attributes.
//
// Mirroring tools (wget -r, lftp mirror) follow every href and src they find,
// whatever the tag: a listing served by ferry must offer them exactly the
// shared files, as python -m http.server's does. So only entries and
// breadcrumbs are links. The stylesheet is inline and the icon a data: URL;
// scripts are started by the inline loader (no tool runs script); sorting,
// archives and the QR code are GET forms, which browsers submit and tools
// never do (wget notes a form's action only to rewrite it with -k; lftp
// does not read forms).
var pageTemplate = template.Must(template.New("page").Parse(`{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="same-origin">
<title>{{.Title}}</title>
<link rel="icon" href="{{.Favicon}}" type="image/svg+xml">
<style>{{.Style}}</style>
</head>
<body data-path="{{.Path}}" data-assets="{{.Assets}}" data-ferry="{{.Ferry}}" data-can-upload="{{.CanUpload}}" data-can-delete="{{.CanDelete}}" data-can-move="{{.CanMove}}" data-can-archive="{{.CanArchive}}"{{if .Can.Overwrite}} data-can-overwrite="1"{{end}} data-max-upload="{{.MaxBytes}}"{{if .Can.Resumable}} data-can-resume="1"{{end}}{{if .Can.Thumbnails}} data-thumbs="1"{{end}}{{if .Can.Share}} data-can-share="1"{{end}}{{if .Search}} data-search="1"{{end}}>
<a class="skip" href="#main">Skip to the files</a>
<header class="top">
<nav class="crumbs" aria-label="Breadcrumb"><ol>
{{- range .Crumbs}}<li>{{if .Current}}<span aria-current="page"{{if .Root}} class="home"{{end}}>{{.Name}}</span>{{else}}<a href="{{.Href}}"{{if .Root}} class="home"{{end}}>{{.Name}}</a>{{end}}</li>{{end -}}
</ol></nav>
<p class="summary" id="summary">{{.Summary}}</p>
</header>
<main id="main" tabindex="-1">
<h1 class="visually-hidden">{{.Title}}</h1>
<div class="toolbar">
<span class="filter-wrap" id="filter-wrap" hidden><input type="search" id="filter" class="filter" placeholder="Filter…" aria-label="Filter entries by name" autocomplete="off" spellcheck="false"></span>
<form class="search" method="get" role="search"><input type="search" name="q" value="{{.Query}}" placeholder="Search below…" aria-label="Search names in this folder and below" maxlength="256" autocomplete="off" spellcheck="false"> <button class="btn" type="submit">Search</button></form>
{{- if .Can.Archive}}
<form class="archives" method="get"><span>Download folder:</span> <button class="btn" type="submit" name="zip" value="">.zip</button> <button class="btn" type="submit" name="tar" value="">.tar</button></form>
{{- end}}
<form class="qr" id="qr" method="get" action="{{.Ferry}}qr.svg"><input type="hidden" name="u" value="{{.QR}}"><button class="btn" type="submit" title="QR code of this folder's address, for a phone">QR</button></form>
</div>
{{- if .Can.Upload}}
<section class="write" aria-label="Add files and folders">
<form class="upload-form" id="upload-form" method="post" action="./" enctype="multipart/form-data">
<label class="picker"><span class="jsonly">Upload files</span><input type="file" name="file" multiple aria-label="Choose files to upload"></label>
<button type="submit" class="btn nojs">Upload</button>
<span class="hint"><span class="jsonly drop-hint">or drop files and folders anywhere</span>
{{- if .MaxUpload}} <span class="limit">(up to {{.MaxUpload}} each)</span>{{end}}</span>
</form>
<form class="mkdir-form" id="mkdir-form" method="post" action="./">
<input type="text" name="mkdir" required maxlength="255" placeholder="New folder name" aria-label="New folder name" autocomplete="off">
<button type="submit" class="btn">New folder</button>
</form>
</section>
<ul class="uploads" id="uploads" aria-label="Uploads" hidden></ul>
<div class="drop" id="drop" hidden><p>Drop to upload into <strong>{{.Path}}</strong></p></div>
{{- end}}
<table class="listing" id="listing">
<thead><tr>
{{- range .Columns}}<th class="{{.Class}}"{{if .AriaSort}} aria-sort="{{.AriaSort}}"{{end}} scope="col"><form method="get">{{if $.Search}}<input type="hidden" name="q" value="{{$.Query}}">{{end}}<button class="sort" type="submit" name="sort" value="{{.Key}}">{{.Label}}{{if .Zone}} <span class="tz">(UTC)</span>{{end}}{{if .Arrow}} <span class="arrow" aria-hidden="true">{{.Arrow}}</span>{{end}}</button><input type="hidden" name="order" value="{{.Order}}"></form></th>{{end -}}
</tr></thead>
<tbody>
{{- if .Parent}}
<tr class="parent" data-kind="parent"><td class="n"><a href="../" aria-label="Parent folder">../</a></td><td class="s">—</td><td class="t"></td></tr>
{{- end}}
{{- if .Search}}
<tr class="note"><td colspan="3"><span role="status">{{.Note}}</span> <a href="./">Back to the folder</a></td></tr>
{{- else if .Empty}}
<tr class="empty"><td colspan="3">This folder is empty.</td></tr>
{{- end}}
{{end}}{{define "foot"}}</tbody>
</table>
{{- with .Readme}}
<section class="readme" aria-labelledby="readme-title">
<h2 class="readme-title" id="readme-title">{{.Name}}</h2>
<div class="md">{{.HTML}}</div>
</section>
{{- end}}
</main>
<footer class="foot">served by ferry</footer>
<div class="visually-hidden" id="live" role="status" aria-live="polite" aria-atomic="true"></div>
<script>` + loaderJS + `</script>
</body>
</html>
{{end}}`))

// WriteHTML renders the page. Entries are written in the order given: sort
// them with p.Sort.Apply first.
func (p *Page) WriteHTML(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	f := p.frame()
	if err := pageTemplate.ExecuteTemplate(bw, "head", f); err != nil {
		return err
	}
	write := writeRows
	if p.Search != nil {
		write = writeHits
	}
	if err := write(bw, p.Entries); err != nil {
		return err
	}
	if err := pageTemplate.ExecuteTemplate(bw, "foot", f); err != nil {
		return err
	}
	return bw.Flush()
}

// writeRows writes one <tr> per entry. It is a hand-written loop rather than
// a template because at 100,000 entries reflection per row costs more than
// everything else together; every name goes through appendHTML and every
// href through appendEntryHref, so nothing reaches the page unescaped. Rows
// are appended straight into the bufio.Writer's free space
// (AvailableBuffer), so each byte is copied once, into the writer below.
//
// A row is as small as the page can read without script (issue 16: no
// larger than nginx's autoindex, about 100 bytes for a short name):
//
//	<tr class=i><td><a href="a.jpg">a.jpg</a><td data-b=1536>1.5 KiB<td>2024-03-05 14:07
//
// End tags that HTML lets a page omit (</td>, </tr>) are omitted, the cells
// carry no class (the stylesheet finds them by position), the kind is one
// letter (kindClass; none for a plain file) and the time is written once,
// in UTC as the column's header says. app.js names the cells, and reads the
// name from the link, the exact size from data-b and the time from the
// text, before anything else looks at the rows (hydrate in app.js).
func writeRows(w *bufio.Writer, entries []Entry) error {
	var tc timeCache
	for i := range entries {
		e := &entries[i]
		// The longest row: a 255-byte name escaped as 6-byte entities
		// once and percent-encoded (3 bytes) once, plus about 100 bytes
		// of markup. Longer names are rare and merely make the buffer grow.
		if w.Available() < 10*len(e.Name)+256 {
			if err := w.Flush(); err != nil {
				return err
			}
		}
		row := w.AvailableBuffer()
		if c := kindClass(e); c != 0 {
			row = append(row, `<tr class=`...)
			row = append(row, c, '>')
		} else {
			row = append(row, `<tr>`...)
		}
		row = append(row, `<td><a href="`...)
		row = appendEntryHref(row, e.Name, e.IsDir)
		row = append(row, `">`...)
		row = appendHTML(row, e.Name)
		if e.IsDir {
			row = append(row, `/</a><td>—<td>`...)
		} else {
			row = append(row, `</a><td data-b=`...)
			row = strconv.AppendInt(row, e.Size, 10)
			row = append(row, '>')
			row = appendHumanSize(row, e.Size)
			row = append(row, `<td>`...)
		}
		if !e.ModTime.IsZero() {
			row = tc.append(row, e.ModTime)
		}
		row = append(row, '\n')
		if _, err := w.Write(row); err != nil {
			return err
		}
	}
	return nil
}

// appendRowEnd closes a search result's link and appends its size and time
// cells (a listing's rows are written more compactly by writeRows).
func appendRowEnd(row []byte, e *Entry) []byte {
	if e.IsDir {
		row = append(row, `/</a></td><td class="s">—</td>`...)
	} else {
		row = append(row, `</a></td><td class="s" data-bytes="`...)
		start := len(row)
		row = strconv.AppendInt(row, e.Size, 10)
		row = append(row, `" title="`...)
		row = append(row, row[start:len(row)-len(`" title="`)]...)
		row = append(row, ` bytes">`...)
		row = appendHumanSize(row, e.Size)
		row = append(row, `</td>`...)
	}
	row = append(row, `<td class="t">`...)
	if !e.ModTime.IsZero() {
		row = append(row, `<time datetime="`...)
		row = appendRFC3339UTC(row, e.ModTime)
		row = append(row, `">`...)
		row = appendUTCTime(row, e.ModTime)
		row = append(row, `</time>`...)
	}
	return append(row, "</td></tr>\n"...)
}

// kindClass is the one-letter class of a row's kind (KindOf), 0 for a
// plain file. app.css draws the icons from it, app.js turns it back into
// data-kind (kindByClass there).
func kindClass(e *Entry) byte {
	switch KindOf(*e) {
	case KindFolder:
		return 'd'
	case KindImage:
		return 'i'
	case KindVideo:
		return 'v'
	case KindAudio:
		return 'm'
	case KindArchive:
		return 'z'
	case KindCode:
		return 'c'
	case KindText:
		return 'x'
	case KindPDF:
		return 'p'
	}
	return 0
}

// timeCache writes times in timeLayout, in UTC, remembering the date of the
// last one: the entries of a folder often share a day, and then only the
// hour and minute are computed.
type timeCache struct {
	day  int64 // days since the Unix epoch of date, valid when date is set
	date [11]byte
	ok   bool
}

func (c *timeCache) append(dst []byte, t time.Time) []byte {
	sec := t.Unix()
	day, rem := sec/86400, sec%86400
	if rem < 0 {
		day, rem = day-1, rem+86400
	}
	if !c.ok || day != c.day {
		u := t.UTC()
		y, mo, d := u.Date()
		if y < 0 || y > 9999 {
			return u.AppendFormat(dst, timeLayout)
		}
		c.date = [11]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
			byte('0' + int(mo)/10), byte('0' + int(mo)%10), '-', byte('0' + d/10), byte('0' + d%10), ' '}
		c.day, c.ok = day, true
	}
	h, mi := rem/3600, rem/60%60
	dst = append(dst, c.date[:]...)
	return append(dst, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10))
}

// appendRFC3339UTC appends t in UTC as t.UTC().AppendFormat(dst,
// time.RFC3339) does for years 0 to 9999.
func appendRFC3339UTC(dst []byte, t time.Time) []byte {
	u := t.UTC()
	y, mo, d := u.Date()
	if y < 0 || y > 9999 {
		return u.AppendFormat(dst, time.RFC3339)
	}
	h, mi, sec := u.Clock()
	return append(dst,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), 'Z')
}

// appendUTCTime appends t in UTC in timeLayout ("2006-01-02 15:04"), as
// t.UTC().AppendFormat(dst, timeLayout) does for years 0 to 9999, without
// parsing the layout for every row.
func appendUTCTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(dst, timeLayout)
	}
	h, mi, _ := t.Clock()
	return append(dst,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), ' ',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10))
}

// appendEntryHref appends the relative link to an entry, ready for an
// attribute: its name escaped as url.PathEscape does, plus "/" for folders. A
// name like "javascript:x" or "c:x" would read as a URL scheme, so a name
// with a colon gets "./" in front. The one character PathEscape leaves that
// HTML needs escaped, "&", is written as "&amp;".
func appendEntryHref(dst []byte, name string, dir bool) []byte {
	if strings.IndexByte(name, ':') >= 0 {
		dst = append(dst, "./"...)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~',
			c == '$', c == '+', c == ':', c == '=', c == '@':
			dst = append(dst, c)
		case c == '&':
			dst = append(dst, "&amp;"...)
		default:
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&0xf])
		}
	}
	if dir {
		dst = append(dst, '/')
	}
	return dst
}

const upperHex = "0123456789ABCDEF"

// appendHTML appends s escaped for HTML text and double- or single-quoted
// attributes (the same five characters as html.EscapeString), without
// allocating when nothing needs escaping. Invalid UTF-8 becomes U+FFFD so
// the page stays valid UTF-8.
func appendHTML(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		size := 1
		switch c {
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '&':
			esc = "&amp;"
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case 0:
			esc = "\uFFFD"
		default:
			if c >= utf8.RuneSelf {
				r, n := utf8.DecodeRuneInString(s[i:])
				size = n
				if r == utf8.RuneError && n == 1 {
					esc = "\uFFFD"
				}
			}
		}
		if esc != "" {
			dst = append(dst, s[last:i]...)
			dst = append(dst, esc...)
			last = i + size
		}
		i += size
	}
	return append(dst, s[last:]...)
}

// HumanSize formats a byte count with binary units: "512 B", "1.5 KiB",
// "23 MiB". One decimal below 10 units, none above, as ls -h does.
func HumanSize(n int64) string {
	return string(appendHumanSize(nil, n))
}

func appendHumanSize(dst []byte, n int64) []byte {
	if n < 1024 {
		dst = strconv.AppendInt(dst, n, 10)
		return append(dst, " B"...)
	}
	const units = "KMGTPE"
	if n < 1<<53 {
		// In integers, once per row: the same text as the float64 code
		// below, whose divisions by powers of two are exact below 2^53
		// (TestHumanSizeIntegers), at a fraction of strconv.AppendFloat's
		// cost.
		u, d := 0, int64(1024)
		for 2*n >= 2047*d { // n/d would round to 1024
			u, d = u+1, d*1024
		}
		if 20*n < 199*d { // below 9.95: one decimal
			q := roundDiv(10*n, d)
			dst = strconv.AppendInt(dst, q/10, 10)
			dst = append(dst, '.', byte('0'+q%10))
		} else {
			dst = strconv.AppendInt(dst, roundDiv(n, d), 10)
		}
		return append(dst, ' ', units[u], 'i', 'B')
	}
	v := float64(n) / 1024
	u := 0
	for {
		// Move up a unit when rounding would show 1024 of this one.
		if v < 1023.5 || u == len(units)-1 {
			break
		}
		v /= 1024
		u++
	}
	if v < 9.95 {
		dst = strconv.AppendFloat(dst, v, 'f', 1, 64)
	} else {
		dst = strconv.AppendFloat(dst, v, 'f', 0, 64)
	}
	dst = append(dst, ' ', units[u], 'i', 'B')
	return dst
}

// roundDiv is n/d rounded to the nearest integer, halves to even, as
// strconv rounds an exact decimal.
func roundDiv(n, d int64) int64 {
	q, r := n/d, n%d
	if 2*r > d || 2*r == d && q%2 == 1 {
		q++
	}
	return q
}
