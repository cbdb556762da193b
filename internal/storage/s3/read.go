package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"path"
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
// folders, keys are files, the folder's own marker is skipped.
func (t *Tree) List(ctx context.Context, dir string) iter.Seq2[storage.Info, error] {
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

// Open returns a file whose bytes are fetched when read.
func (t *Tree) Open(ctx context.Context, name string) (storage.Object, error) {
	info, err := t.Stat(ctx, name)
	if err != nil {
		return nil, err
	}
	if info.IsDir {
		return nil, storage.ErrIsDir
	}
	return &object{t: t, ctx: ctx, key: t.key(name), info: info}, nil
}

// object reads a file with ranged GETs, each bound to the ETag seen at Open
// so that a file replaced meanwhile fails the read instead of mixing
// versions. Reads fetch windows that grow from 64 KiB to the rest of the
// file: a Range request for a few bytes costs one small GET, a whole
// download a handful of long ones.
type object struct {
	t    *Tree
	ctx  context.Context
	key  string
	info storage.Info

	pos    int64 // where the next Read starts
	body   io.ReadCloser
	bodyAt int64 // offset of body's next byte
	bodyTo int64 // offset just past body's last byte
	window int64
	hint   int64 // bytes the caller said it will read from pos, 0 if unknown
}

func (o *object) Info() storage.Info { return o.info }

// Hint says the caller will read n bytes from the current position, so the
// first GET asks for exactly those.
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

func (o *object) Read(p []byte) (int, error) {
	if o.pos >= o.info.Size {
		return 0, io.EOF
	}
	if o.body == nil || o.bodyAt != o.pos || o.bodyAt >= o.bodyTo {
		if err := o.fetch(); err != nil {
			return 0, err
		}
	}
	n, err := o.body.Read(p[:min(int64(len(p)), o.bodyTo-o.bodyAt)])
	o.bodyAt += int64(n)
	o.pos += int64(n)
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
		o.window = 64 << 10
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

func (o *object) closeBody() {
	if o.body != nil {
		o.body.Close()
		o.body = nil
	}
}

func (o *object) Close() error {
	o.closeBody()
	return nil
}
