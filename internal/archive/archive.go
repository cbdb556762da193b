// Package archive streams folders of the served tree as zip, tar or tar.gz
// archives. Nothing is built in memory or on disk: entries are written as the
// tree is walked, and each file is copied through a fixed-size buffer. The
// walk goes through the storage tree the listing reads, so the dotfile and
// symlink rules are exactly the listing's.
package archive

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/jobs"
	"github.com/ferry-sh/ferry/internal/listing"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/transfer"
)

// Formats are the query keys that ask for an archive, in the order checked.
var Formats = []string{"zip", "tar", "tar.gz"}

// Source is one tree (or single file) to put in an archive.
type Source struct {
	Tree storage.Tree
	Path string // clean relative name in Tree; "." for its root
	Name string // the name it gets inside the archive: one clean component
}

// maxDepth bounds the walk: with --follow-symlinks a link can point back up
// the tree, and the loop check below needs an identity of each folder that
// not every store gives.
const maxDepth = 128

// Serve answers one archive request: headers, then the stream. name is the
// archive's base name without extension.
// With root set, every source goes inside a folder of that name (sharing a
// set of files: "files/a.txt", "files/b.txt").
// Building an archive takes a slot of lim (nil: no limit) once the headers
// are decided; HEAD takes none.
func Serve(w http.ResponseWriter, r *http.Request, format, name, root string, srcs []Source, lim *jobs.Limiter) {
	var ctype string
	switch format {
	case "zip":
		ctype = "application/zip"
	case "tar":
		ctype = "application/x-tar"
	case "tar.gz":
		ctype = "application/gzip"
	default:
		httperr.Write(w, r, http.StatusBadRequest, "unknown archive format")
		return
	}
	if r.Method != http.MethodHead {
		// Before the headers: a refusal is an error page, not an attachment.
		done := lim.StartRequest(w, r)
		if done == nil {
			return
		}
		defer done()
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", ContentDisposition(name+"."+format))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	transfer.FromContext(r.Context()).Describe(transfer.KindArchive, -1)
	// Headers and small entries go out in 64 KiB writes rather than one
	// syscall each; file bodies pass straight through. The status goes out
	// with the first bytes, so that a store that cannot be reached before
	// then is still a 503.
	lw := &lazyHeader{w: w}
	bw := bufio.NewWriterSize(lw, 64<<10)
	err := Write(r.Context(), bw, format, root, srcs)
	if err == nil {
		err = bw.Flush()
	}
	switch {
	case err == nil || r.Context().Err() != nil:
		// Done, or the client went away: the transfer is then recorded
		// as cut short, and there is no one left to tell.
	case !lw.started:
		httperr.FromFS(w, r, err)
	default:
		// The store failed mid-stream. Ending the response normally would
		// hand the client a truncated archive as if it were whole.
		panic(http.ErrAbortHandler)
	}
}

// lazyHeader writes the 200 with the first bytes of the body.
type lazyHeader struct {
	w       http.ResponseWriter
	started bool
}

func (l *lazyHeader) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(p)
}

// ContentDisposition builds an attachment header for a file name: an ASCII
// fallback in filename= and the exact name in RFC 6266 / RFC 8187 filename*.
func ContentDisposition(name string) string {
	name = strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f {
			return -1
		}
		return c
	}, name)
	ascii := strings.Map(func(c rune) rune {
		switch {
		case c == '"' || c == '\\' || c == '/':
			return '_'
		case c > 0x7e:
			return '_'
		}
		return c
	}, name)
	if strings.Trim(ascii, "_. ") == "" {
		ascii = "download" + path.Ext(ascii)
	}
	v := `attachment; filename="` + ascii + `"`
	if ascii != name {
		v += "; filename*=UTF-8''" + encodeRFC8187(name)
	}
	return v
}

// encodeRFC8187 percent-encodes everything but RFC 8187's attr-char.
func encodeRFC8187(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// entryWriter is what zip and tar have in common for the walk.
type entryWriter interface {
	dir(name string, info storage.Info) error
	file(name string, info storage.Info, f io.Reader) error
	Close() error
}

// Write streams srcs as one archive in format to w, inside a folder named
// root unless root is empty.
func Write(ctx context.Context, w io.Writer, format, root string, srcs []Source) error {
	var ew entryWriter
	var closeAfter io.Closer
	switch format {
	case "zip":
		zw := zip.NewWriter(w)
		// BestSpeed: the link, not the CPU, should be the bottleneck. Entries
		// are written one after another, so one compressor (about 1 MiB of
		// state) is reset for each rather than allocated per file.
		fw, _ := flate.NewWriter(nil, flate.BestSpeed)
		zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			fw.Reset(out)
			return fw, nil
		})
		ew = &zipWriter{zw}
	case "tar":
		ew = &tarWriter{tar.NewWriter(w)}
	case "tar.gz":
		gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		ew = &tarWriter{tar.NewWriter(gz)}
		closeAfter = gz
	default:
		return errors.New("unknown archive format")
	}
	wk := walker{ctx: ctx, ew: ew, buf: make([]byte, 256<<10)}
	if root != "" {
		wk.prefix = CleanName(root) + "/"
		if err := ew.dir(wk.prefix, storage.Info{Name: root, IsDir: true, ModTime: time.Now()}); err != nil {
			return err
		}
	}
	for _, s := range srcs {
		if err := wk.source(s); err != nil {
			return err
		}
	}
	if err := ew.Close(); err != nil {
		return err
	}
	if closeAfter != nil {
		return closeAfter.Close()
	}
	return nil
}

type walker struct {
	prefix string
	ctx    context.Context
	ew     entryWriter
	buf    []byte
	held   int // descriptors opened ahead and not yet taken (lookahead)
}

func (wk *walker) source(s Source) error {
	name := wk.prefix + CleanName(s.Name)
	d, err := storage.OpenFolder(wk.ctx, s.Tree, s.Path)
	if errors.Is(err, storage.ErrNotDir) {
		f, err := s.Tree.Open(wk.ctx, s.Path)
		if err != nil {
			return skip(err)
		}
		defer f.Close()
		return wk.ew.file(name, f.Info(), readerOnly{f, wk})
	}
	if err != nil {
		return skip(err)
	}
	defer d.Close()
	return wk.walk(d, name, nil)
}

// walk writes the folder d, then everything under it. ancestors holds the
// folders on the way down, to stop symlink loops.
func (wk *walker) walk(d storage.Folder, name string, ancestors []any) error {
	if err := wk.ctx.Err(); err != nil {
		return err
	}
	if len(ancestors) >= maxDepth {
		return nil
	}
	if id := d.ID(); id != nil {
		if slices.Contains(ancestors, id) {
			return nil // a link back up the tree
		}
		ancestors = append(ancestors, id)
	}
	if err := wk.ew.dir(name+"/", d.Info()); err != nil {
		return err
	}
	// Names only: each member is opened below anyway, and the open says
	// what a stat would, so stating twice is wasted.
	names, err := d.Names()
	if err != nil && len(names) == 0 {
		return skip(err)
	}
	// Sorted, so the same tree always gives the same archive.
	slices.Sort(names)
	ah := lookahead{wk: wk, dir: d, names: names}
	defer ah.close()
	for i, n := range names {
		o, sub, err := ah.take(i)
		if err != nil {
			if err := skip(err); err != nil {
				return err
			}
			continue // raced with a delete, or refused by the policy
		}
		childName := name + "/" + CleanName(n)
		if sub != nil {
			err = wk.walk(sub, childName, ancestors)
			sub.Close()
		} else {
			err = wk.ew.file(childName, o.Info(), readerOnly{o, wk})
			o.Close()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

const (
	// ahead is how many members of a folder are opened before their turn,
	// each with a read-ahead hint (where the store takes one), so that on a
	// cold page cache the disk reads several small files at once rather
	// than one after another.
	ahead = 16
	// maxHeld bounds the members held open ahead over the whole walk,
	// which nests one window per folder level.
	maxHeld = 64
	// willNeedMax caps the hint: a big file is read in order anyway, and
	// asking for all of it at once would only churn the page cache.
	willNeedMax = 1 << 20
)

// lookahead opens a folder's members (names, in order) a few ahead of the
// one being written.
type lookahead struct {
	wk    *walker
	dir   storage.Folder
	names []string
	ring  [ahead]opened
	next  int // the next member to open ahead
}

type opened struct {
	o   storage.Object
	sub storage.Folder
	err error
}

func (o *opened) held() bool { return o.o != nil || o.sub != nil }

func (o *opened) release() {
	if o.o != nil {
		o.o.Close()
	}
	if o.sub != nil {
		o.sub.Close()
	}
	*o = opened{}
}

// willNeed is the local backend's read-ahead hint.
type willNeed interface{ WillNeed(n int64) }

// take returns member i, opened ahead or now, and opens the following ones.
// Each member is opened relative to the folder (on the local backend, one
// openat), not from the root, under the same rules as Open.
func (ah *lookahead) take(i int) (storage.Object, storage.Folder, error) {
	var o opened
	if i < ah.next {
		o = ah.ring[i%ahead]
		ah.ring[i%ahead] = opened{}
		if o.held() {
			ah.wk.held--
		}
	} else {
		o.o, o.sub, o.err = ah.dir.Open(ah.names[i])
		ah.next = i + 1
	}
	for ah.next < len(ah.names) && ah.next <= i+ahead-1 && ah.wk.held < maxHeld {
		var n opened
		n.o, n.sub, n.err = ah.dir.Open(ah.names[ah.next])
		if n.held() {
			ah.wk.held++
		}
		if wn, ok := n.o.(willNeed); ok {
			wn.WillNeed(min(n.o.Info().Size, willNeedMax))
		}
		ah.ring[ah.next%ahead] = n
		ah.next++
	}
	return o.o, o.sub, o.err
}

// close releases the members opened ahead and not taken (the walk ended
// early: an error, or the client gone).
func (ah *lookahead) close() {
	for i := range ah.ring {
		if ah.ring[i].held() {
			ah.ring[i].release()
			ah.wk.held--
		}
	}
}

// skip decides what an error reading the tree does to the archive: a name
// gone since the listing was made, or refused, is left out; a store that
// cannot be reached ends the archive.
func skip(err error) error {
	if errors.Is(err, storage.ErrUnavailable) {
		return err
	}
	return nil
}

// CleanName makes one name component safe inside an archive: no separators,
// no "." or "..", no control characters. Names from the tree are single
// components already; this is the last line against zip-slip.
func CleanName(s string) string {
	s = strings.Map(func(c rune) rune {
		switch {
		case c == '/' || c == '\\':
			return '_'
		case c < 0x20 || c == 0x7f:
			return '_'
		}
		return c
	}, s)
	switch s {
	case "", ".", "..":
		return "_"
	}
	return s
}

// readerOnly reads a file through the walk's buffer, checking for a
// cancelled request between chunks. It hides WriterTo so io.Copy uses the
// shared buffer rather than allocating one per file.
type readerOnly struct {
	r  io.Reader
	wk *walker
}

func (r readerOnly) Read(p []byte) (int, error) {
	if err := r.wk.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, storage.ErrUnavailable) {
		// A file that cannot be read to its end (an I/O error, a truncating
		// writer) ends its entry early rather than the whole archive; the
		// tar writer pads it to the size it announced. A store that went
		// away ends the archive.
		err = io.EOF
	}
	return n, err
}

type zipWriter struct{ zw *zip.Writer }

func (z *zipWriter) dir(name string, info storage.Info) error {
	hdr := &zip.FileHeader{Name: name, Method: zip.Store, Modified: modTime(info)}
	hdr.SetMode(fs.ModeDir | 0o755)
	_, err := z.zw.CreateHeader(hdr)
	return err
}

func (z *zipWriter) file(name string, info storage.Info, f io.Reader) error {
	hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modTime(info)}
	hdr.SetMode(0o644)
	if compressed(name) {
		// Compressing a JPEG or a zip again costs CPU and gains nothing.
		hdr.Method = zip.Store
	}
	// Sizes are only known after the copy; archive/zip writes them in a data
	// descriptor, so the entry streams. Zip64 extras are added as needed.
	w, err := z.zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	rd := f.(readerOnly)
	_, err = io.CopyBuffer(w, rd, rd.wk.buf)
	return err
}

func (z *zipWriter) Close() error { return z.zw.Close() }

// compressed reports names whose content is compressed already.
func compressed(name string) bool {
	switch listing.KindOf(listing.Entry{Name: path.Base(name)}) {
	case listing.KindImage, listing.KindVideo, listing.KindAudio, listing.KindArchive:
		ext := strings.ToLower(path.Ext(name))
		// Uncompressed media formats still shrink.
		return ext != ".bmp" && ext != ".wav" && ext != ".tif" && ext != ".tiff" && ext != ".svg" && ext != ".tar"
	}
	return false
}

type tarWriter struct{ tw *tar.Writer }

func (t *tarWriter) dir(name string, info storage.Info) error {
	return t.tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: modTime(info),
		Format: tar.FormatPAX,
	})
}

func (t *tarWriter) file(name string, info storage.Info, f io.Reader) error {
	size := info.Size
	if err := t.tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: size, ModTime: modTime(info),
		Format: tar.FormatPAX,
	}); err != nil {
		return err
	}
	rd := f.(readerOnly)
	n, err := io.CopyBuffer(t.tw, io.LimitReader(rd, size), rd.wk.buf)
	if err != nil {
		return err
	}
	if n < size {
		// The file shrank while being read; the header promised size bytes,
		// so pad with zeros to keep the archive readable.
		if _, err := io.CopyBuffer(t.tw, io.LimitReader(zeros{}, size-n), rd.wk.buf); err != nil {
			return err
		}
	}
	return nil
}

func (t *tarWriter) Close() error { return t.tw.Close() }

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Hook returns the fileserver's Archive hook for a whole served tree.
// rootName names the archive of the root folder (the served folder's base
// name, or the bucket's); other folders are named after themselves.
func Hook(tree storage.Tree, rootName string, lim *jobs.Limiter) func(w http.ResponseWriter, r *http.Request, dir, format string) {
	rootName = CleanName(rootName)
	if rootName == "_" || rootName == "/" {
		rootName = "files"
	}
	return func(w http.ResponseWriter, r *http.Request, dir, format string) {
		name := rootName
		if dir != "." {
			name = CleanName(path.Base(dir))
		}
		Serve(w, r, format, name, "", []Source{{Tree: tree, Path: dir, Name: name}}, lim)
	}
}

// modTime is an entry's time in an archive: an object store's folders
// have none, and zip cannot say "none", so they get the archive's time.
func modTime(info storage.Info) time.Time {
	if info.ModTime.IsZero() {
		return time.Now()
	}
	return info.ModTime
}
