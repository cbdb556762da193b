package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-sh/ferry/internal/storage"
)

// Stat finds a file by its key, else a folder by its marker or by any key
// under it.
func (t *Tree) Stat(ctx context.Context, name string) (storage.Info, error) {
	if name == "." || name == "" {
		return storage.Info{Name: ".", IsDir: true}, nil
	}
	head, err := t.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &t.bucket, Key: aws.String(t.key(name))})
	if err == nil {
		return fileInfo(name, aws.ToInt64(head.ContentLength), head.LastModified, head.ETag), nil
	}
	if err = storeErr("stat", err); !errors.Is(err, fs.ErrNotExist) {
		return storage.Info{}, err
	}
	return t.statDir(ctx, name)
}

// statDir reports name as a folder when its marker or any key under it exists.
func (t *Tree) statDir(ctx context.Context, name string) (storage.Info, error) {
	out, err := t.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
		Bucket: &t.bucket, Prefix: aws.String(t.dirKey(name)), MaxKeys: aws.Int32(1),
	})
	if err != nil {
		return storage.Info{}, storeErr("stat", err)
	}
	if len(out.Contents) == 0 && len(out.CommonPrefixes) == 0 {
		return storage.Info{}, fs.ErrNotExist
	}
	info := storage.Info{Name: path.Base(name), IsDir: true}
	if len(out.Contents) == 1 && aws.ToString(out.Contents[0].Key) == t.dirKey(name) {
		info.ModTime = aws.ToTime(out.Contents[0].LastModified)
	}
	return info, nil
}

func fileInfo(name string, size int64, mod *time.Time, etag *string) storage.Info {
	return storage.Info{Name: path.Base(name), Size: size, ModTime: aws.ToTime(mod), ETag: aws.ToString(etag)}
}

// List streams a folder a page of 1,000 keys at a time: common prefixes are
// folders, keys are files, the folder's own marker is skipped. A folder
// page's listing (storage.ForPage) comes from the listing cache when one is
// kept and holds the folder, and is kept there once read whole.
func (t *Tree) List(ctx context.Context, dir string) iter.Seq2[storage.Info, error] {
	if dir == "" {
		dir = "."
	}
	if t.lists == nil || !storage.IsForPage(ctx) {
		return t.list(ctx, dir)
	}
	return func(yield func(storage.Info, error) bool) {
		if entries, ok := t.lists.get(dir); ok {
			for _, e := range entries {
				if !yield(e, nil) {
					return
				}
			}
			return
		}
		gen, at := t.lists.begin()
		var entries []storage.Info
		for e, err := range t.list(ctx, dir) {
			if err == nil {
				entries = append(entries, e)
			}
			if !yield(e, err) || err != nil {
				return
			}
		}
		t.lists.put(dir, gen, at, entries)
	}
}

func (t *Tree) list(ctx context.Context, dir string) iter.Seq2[storage.Info, error] {
	return func(yield func(storage.Info, error) bool) {
		prefix := t.dirKey(dir)
		p := awss3.NewListObjectsV2Paginator(t.client, &awss3.ListObjectsV2Input{
			Bucket: &t.bucket, Prefix: aws.String(prefix), Delimiter: aws.String("/"),
		})
		seen := false
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				yield(storage.Info{}, storeErr("list", err))
				return
			}
			for _, o := range page.Contents {
				seen = true
				n := strings.TrimPrefix(aws.ToString(o.Key), prefix)
				if n == "" {
					continue // the folder's own marker
				}
				if !yield(storage.Info{Name: n, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified), ETag: aws.ToString(o.ETag)}, nil) {
					return
				}
			}
			for _, cp := range page.CommonPrefixes {
				seen = true
				n := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), prefix), "/")
				if n == "" {
					continue // a key such as "dir//x", which no client can name
				}
				if !yield(storage.Info{Name: n, IsDir: true}, nil) {
					return
				}
			}
		}
		if !seen && dir != "." && dir != "" {
			// Nothing under the prefix: an absent folder, or a file.
			if info, err := t.Stat(ctx, dir); err == nil && !info.IsDir {
				yield(storage.Info{}, storage.ErrNotDir)
			} else if err != nil {
				yield(storage.Info{}, err)
			} else {
				yield(storage.Info{}, fs.ErrNotExist)
			}
		}
	}
}

// firstWindow is what Open fetches: a small file whole, the start of a
// large one.
const firstWindow = 64 << 10

// Open fetches the first window of a file with one GET, whose answer also
// says the file's size, ETag and date: a small file costs one request to the
// store, not a HEAD and then a GET.
func (t *Tree) Open(ctx context.Context, name string) (storage.Object, error) {
	if name == "." || name == "" {
		return nil, storage.ErrIsDir
	}
	key := t.key(name)
	out, err := t.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &t.bucket, Key: &key, Range: aws.String(fmt.Sprintf("bytes=0-%d", firstWindow-1))})
	if err != nil {
		if status(err) == http.StatusRequestedRangeNotSatisfiable || apiCode(err) == "InvalidRange" {
			// No byte 0: an empty file.
			return t.openStat(ctx, name)
		}
		err = storeErr("get", err)
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if _, err := t.statDir(ctx, name); err != nil {
			return nil, err
		}
		return nil, storage.ErrIsDir
	}
	size, sent := aws.ToInt64(out.ContentLength), aws.ToInt64(out.ContentLength)
	if cr := aws.ToString(out.ContentRange); cr != "" {
		// "bytes 0-65535/1048576"
		total, err := strconv.ParseInt(cr[strings.LastIndexByte(cr, '/')+1:], 10, 64)
		if err != nil {
			out.Body.Close()
			return nil, fmt.Errorf("s3 get %s: Content-Range %q", key, cr)
		}
		size = total
	}
	o := &object{t: t, ctx: ctx, key: key, info: fileInfo(name, size, out.LastModified, out.ETag)}
	if sent == size && size <= firstWindow {
		// The whole file: keep it, so that every read of it, ReadAt
		// included, is served without asking the store again, and the
		// connection goes back to the pool now.
		o.small = make([]byte, size)
		_, err := io.ReadFull(out.Body, o.small)
		out.Body.Close()
		if err != nil {
			return nil, storeErr("read", err)
		}
		return o, nil
	}
	o.body, o.bodyTo, o.window = out.Body, sent, sent
	return o, nil
}

// openStat opens a file that has no first window to fetch (an empty one).
func (t *Tree) openStat(ctx context.Context, name string) (storage.Object, error) {
	info, err := t.Stat(ctx, name)
	if err != nil {
		return nil, err
	}
	if info.IsDir {
		return nil, storage.ErrIsDir
	}
	return &object{t: t, ctx: ctx, key: t.key(name), info: info, small: []byte{}}, nil
}

// object reads a file with ranged GETs, each bound to the ETag seen at Open
// so that a file replaced meanwhile fails the read instead of mixing
// versions. Reads fetch windows that grow eightfold from 64 KiB to the rest
// of the file: a Range request for a few bytes costs one small GET, a whole
// download a handful of long ones. A file no larger than the first window is
// held whole from Open on.
type object struct {
	t     *Tree
	ctx   context.Context
	key   string
	info  storage.Info
	small []byte // the whole file, when Open fetched all of it

	pos    int64 // where the next Read starts
	body   io.ReadCloser
	bodyAt int64 // offset of body's next byte
	bodyTo int64 // offset just past body's last byte
	window int64
	hint   int64 // bytes the caller said it will read from pos, 0 if unknown
}

func (o *object) Info() storage.Info { return o.info }

// Hint says the caller will read n bytes from the position of its first
// Read, so that a GET that Read needs asks for no more than those.
func (o *object) Hint(n int64) { o.hint = n }

func (o *object) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.pos
	case io.SeekEnd:
		offset += o.info.Size
	default:
		return 0, errors.New("s3: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("s3: negative position")
	}
	o.pos = offset
	return offset, nil
}

// skipMax is how far ahead in an open window a Read may start: reading and
// dropping that much costs less than a new request.
const skipMax = firstWindow

func (o *object) Read(p []byte) (int, error) {
	if o.pos >= o.info.Size {
		return 0, io.EOF
	}
	if o.small != nil {
		n := copy(p, o.small[o.pos:])
		o.pos += int64(n)
		return n, nil
	}
	if o.body != nil && o.pos > o.bodyAt && o.pos < o.bodyTo && o.pos-o.bodyAt <= skipMax {
		skipped, err := io.CopyN(io.Discard, o.body, o.pos-o.bodyAt)
		o.bodyAt += skipped
		if err != nil {
			o.closeBody()
		}
	}
	if o.body == nil || o.bodyAt != o.pos || o.bodyAt >= o.bodyTo {
		if err := o.fetch(); err != nil {
			return 0, err
		}
	}
	n, err := o.body.Read(p[:min(int64(len(p)), o.bodyTo-o.bodyAt)])
	o.bodyAt += int64(n)
	o.pos += int64(n)
	if o.hint > 0 {
		// A read served by a window open before the hint counts against it.
		o.hint = max(o.hint-int64(n), 0)
	}
	if errors.Is(err, io.EOF) {
		if o.bodyAt < o.bodyTo {
			return n, io.ErrUnexpectedEOF
		}
		err = nil
	}
	if err != nil {
		return n, storeErr("read", err)
	}
	return n, nil
}

// fetch opens the next window at pos.
func (o *object) fetch() error {
	o.closeBody()
	switch {
	case o.hint > 0:
		o.window = o.hint
		o.hint = 0
	case o.window == 0 || o.bodyAt != o.pos:
		o.window = firstWindow
	default:
		o.window *= 8
	}
	end := min(o.pos+o.window, o.info.Size)
	body, err := o.get(o.pos, end)
	if err != nil {
		return err
	}
	o.body, o.bodyAt, o.bodyTo = body, o.pos, end
	return nil
}
func (o *object) get(from, to int64) (io.ReadCloser, error) {
	in := &awss3.GetObjectInput{Bucket: &o.t.bucket, Key: &o.key, Range: aws.String(fmt.Sprintf("bytes=%d-%d", from, to-1))}
	if o.info.ETag != "" {
		in.IfMatch = aws.String(o.info.ETag)
	}
	out, err := o.t.client.GetObject(o.ctx, in)
	if err != nil {
		if errors.Is(storeErr("get", err), fs.ErrExist) {
			return nil, fmt.Errorf("s3 get %s: the file changed while it was read", o.key)
		}
		return nil, storeErr("get", err)
	}
	return out.Body, nil
}

// ReadAt fetches exactly the bytes asked for.
func (o *object) ReadAt(p []byte, off int64) (int, error) {
	if off >= o.info.Size {
		return 0, io.EOF
	}
	if o.small != nil {
		n := copy(p, o.small[off:])
		if n < len(p) {
			return n, io.EOF
		}
		return n, nil
	}
	end := min(off+int64(len(p)), o.info.Size)
	body, err := o.get(off, end)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	n, err := io.ReadFull(body, p[:end-off])
	if err != nil {
		return n, storeErr("read", err)
	}
	if end-off < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// closeBody ends the window being read. What little is left of it is read
// first: net/http reuses a connection only once its response was read to
// the end, and a new connection (with TLS, a handshake) costs more.
func (o *object) closeBody() {
	if o.body != nil {
		if o.bodyTo-o.bodyAt <= skipMax {
			io.Copy(io.Discard, o.body)
		}
		o.body.Close()
		o.body = nil
	}
}

func (o *object) Close() error {
	o.closeBody()
	return nil
}
