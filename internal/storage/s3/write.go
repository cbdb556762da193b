package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-sh/ferry/internal/storage"
)

// checkTarget vets a name about to be written: its parent chain must hold no
// file (a file is no folder to write into) and the name must not be a folder.
// It returns whether a file of that name exists.
func (t *Tree) checkTarget(ctx context.Context, name string) (exists bool, err error) {
	for d := parent(name); d != "."; d = parent(d) {
		head, herr := t.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &t.bucket, Key: aws.String(t.key(d))})
		if herr == nil && head != nil {
			return false, storage.ErrNotDir
		}
		if herr = storeErr("stat", herr); !errors.Is(herr, fs.ErrNotExist) {
			return false, herr
		}
	}
	info, err := t.Stat(ctx, name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	case info.IsDir:
		return true, storage.ErrIsDir
	}
	return true, nil
}

// Stage begins an upload that only Commit makes visible: up to one part it
// stays in memory and is stored with one PUT; beyond that it streams into a
// multipart upload, one part in flight while the next fills.
func (t *Tree) Stage(ctx context.Context, name string, size int64) (storage.Staged, error) {
	if _, err := t.checkTarget(ctx, name); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	part := t.partSize
	if size > 0 {
		// S3 allows 10,000 parts; keep a margin for a size that was wrong.
		part = max(part, size/9000+1)
	}
	return &staged{t: t, ctx: ctx, name: name, key: t.key(name), part: part, buf: make([]byte, 0, min(part, max(size, 0)+1))}, nil
}

type staged struct {
	t    *Tree
	ctx  context.Context
	name string
	key  string
	part int64

	buf      []byte
	sending  []byte // the part in flight; its buffer is reused once stored
	uploadID string
	parts    []types.CompletedPart
	inflight chan error // the part being uploaded, nil when none
	err      error
	sealed   bool
	done     bool
}

var _ storage.Sealer = (*staged)(nil)

// errSealed refuses a write after Seal.
var errSealed = errors.New("s3: write after seal")

func (s *staged) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.sealed {
		return 0, errSealed
	}
	n := 0
	for len(p) > 0 {
		if int64(len(s.buf)) == s.part {
			if err := s.flush(); err != nil {
				s.err = err
				return n, err
			}
		}
		k := min(len(p), int(s.part)-len(s.buf))
		s.buf = append(s.buf, p[:k]...)
		p, n = p[k:], n+k
	}
	return n, nil
}

// flush sends the buffer as the next part, after the previous part is stored.
func (s *staged) flush() error {
	if err := s.wait(); err != nil {
		return err
	}
	spare := s.sending[:0]
	s.sending = nil
	if s.uploadID == "" {
		out, err := s.t.client.CreateMultipartUpload(s.ctx, &awss3.CreateMultipartUploadInput{Bucket: &s.t.bucket, Key: &s.key})
		if err != nil {
			return storeErr("upload", err)
		}
		s.uploadID = aws.ToString(out.UploadId)
	}
	num := int32(len(s.parts) + 1)
	s.parts = append(s.parts, types.CompletedPart{PartNumber: aws.Int32(num)})
	body := s.buf
	s.sending = body
	switch {
	case s.sealed:
		s.buf = nil
	case cap(spare) > 0:
		// Two buffers take turns, filling and in flight: a big upload
		// holds two parts of memory and makes no garbage.
		s.buf = spare
	default:
		s.buf = make([]byte, 0, s.part)
	}
	if len(s.parts)%1000 == 0 {
		// A body of unknown length may outgrow 10,000 parts: grow them.
		s.part *= 2
	}
	done := make(chan error, 1)
	s.inflight = done
	go func() {
		out, err := s.t.client.UploadPart(s.ctx, &awss3.UploadPartInput{
			Bucket: &s.t.bucket, Key: &s.key, UploadId: &s.uploadID, PartNumber: aws.Int32(num),
			Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
		})
		if err == nil {
			s.parts[num-1].ETag = out.ETag
		}
		done <- storeErr("upload", err)
	}()
	return nil
}

// Seal sends what is held in memory as the last part, so that a staged
// write waiting for its Commit (a file of a multipart POST, while the next
// ones arrive) holds no memory. An empty write stays as it is: Commit
// stores it with one PUT.
func (s *staged) Seal(context.Context) error {
	if s.err != nil || s.sealed {
		return s.err
	}
	s.sealed = true
	if len(s.buf) > 0 {
		if err := s.flush(); err != nil {
			s.err = err
			return err
		}
	}
	if err := s.wait(); err != nil {
		s.err = err
		return err
	}
	s.buf, s.sending = nil, nil
	return nil
}

func (s *staged) wait() error {
	if s.inflight == nil {
		return nil
	}
	err := <-s.inflight
	s.inflight = nil
	return err
}

func (s *staged) Commit(ctx context.Context, replace bool) (replaced bool, err error) {
	defer s.t.lists.wrote(s.name)
	if s.err != nil {
		s.Abort()
		return false, s.err
	}
	defer func() {
		if err != nil {
			s.Abort()
		}
		s.done = true
	}()
	exists, err := s.t.checkTarget(ctx, s.name)
	if err != nil {
		return false, err
	}
	if exists && !replace {
		return false, fs.ErrExist
	}
	var ifNoneMatch *string
	if !replace {
		ifNoneMatch = aws.String("*")
	}
	if s.uploadID == "" {
		_, err = s.t.client.PutObject(ctx, &awss3.PutObjectInput{
			Bucket: &s.t.bucket, Key: &s.key, Body: bytes.NewReader(s.buf),
			ContentLength: aws.Int64(int64(len(s.buf))), IfNoneMatch: ifNoneMatch,
		})
		return exists, storeErr("put", err)
	}
	if len(s.buf) > 0 {
		if err := s.flush(); err != nil {
			return false, err
		}
	}
	if err := s.wait(); err != nil {
		return false, err
	}
	_, err = s.t.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: &s.t.bucket, Key: &s.key, UploadId: &s.uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: s.parts}, IfNoneMatch: ifNoneMatch,
	})
	if err == nil {
		s.uploadID = ""
	}
	return exists, storeErr("complete", err)
}

// Abort drops the multipart upload, so that nothing stays stored (or billed).
func (s *staged) Abort() error {
	s.wait()
	s.buf, s.sending = nil, nil
	if s.uploadID == "" || s.done {
		return nil
	}
	id := s.uploadID
	s.uploadID = ""
	// The request's context may be gone (a client hung up): abort anyway.
	ctx := context.WithoutCancel(s.ctx)
	_, err := s.t.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: &s.t.bucket, Key: &s.key, UploadId: &id})
	return storeErr("abort", err)
}

// Mkdir writes a folder's marker, create-only.
func (t *Tree) Mkdir(ctx context.Context, name string) error {
	defer t.lists.wrote(name)
	if err := t.needDir(ctx, parent(name)); err != nil {
		return err
	}
	if _, err := t.Stat(ctx, name); err == nil {
		return fs.ErrExist
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	_, err := t.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: &t.bucket, Key: aws.String(t.dirKey(name)), Body: bytes.NewReader(nil),
		ContentLength: aws.Int64(0), IfNoneMatch: aws.String("*"),
	})
	return storeErr("mkdir", err)
}

// needDir checks that name is an existing folder.
func (t *Tree) needDir(ctx context.Context, name string) error {
	info, err := t.Stat(ctx, name)
	if err != nil {
		return err
	}
	if !info.IsDir {
		return storage.ErrNotDir
	}
	return nil
}

// Remove deletes a file, or every key under a folder, a thousand a request.
func (t *Tree) Remove(ctx context.Context, name string) error {
	defer t.lists.wrote(name)
	info, err := t.Stat(ctx, name)
	if err != nil {
		return err
	}
	if !info.IsDir {
		_, err := t.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &t.bucket, Key: aws.String(t.key(name))})
		return storeErr("delete", err)
	}
	return t.removePrefix(ctx, t.dirKey(name))
}

func (t *Tree) removePrefix(ctx context.Context, prefix string) error {
	p := awss3.NewListObjectsV2Paginator(t.client, &awss3.ListObjectsV2Input{Bucket: &t.bucket, Prefix: aws.String(prefix)})
	// Stores backed by a real file tree (SeaweedFS's filer) keep a folder
	// after its last key is gone, and list it; deleting the folder's own
	// key, innermost first, removes it there and is harmless elsewhere.
	folders := map[string]bool{prefix: true}
	defer func() {
		keys := slices.Collect(maps.Keys(folders))
		slices.SortFunc(keys, func(a, b string) int { return len(b) - len(a) })
		for _, k := range keys {
			t.client.DeleteObject(context.WithoutCancel(ctx), &awss3.DeleteObjectInput{Bucket: &t.bucket, Key: aws.String(k)})
		}
	}()
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return storeErr("list", err)
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			ids[i] = types.ObjectIdentifier{Key: o.Key}
			for d := path.Dir(aws.ToString(o.Key)); len(d)+1 > len(prefix); d = path.Dir(d) {
				folders[d+"/"] = true
			}
		}
		out, err := t.client.DeleteObjects(ctx, &awss3.DeleteObjectsInput{
			Bucket: &t.bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return storeErr("delete", err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("s3 delete %s: %s %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
	}
	return nil
}

// Move copies on the store's side, then deletes the source. A folder moves
// key by key: on S3 it is not atomic, and a move cut short leaves both halves.
func (t *Tree) Move(ctx context.Context, src, dst string, replace bool) (bool, error) {
	return t.transfer(ctx, src, dst, replace, true)
}

// Copy duplicates a file or folder on the store's side.
func (t *Tree) Copy(ctx context.Context, src, dst string, replace bool) (bool, error) {
	return t.transfer(ctx, src, dst, replace, false)
}

func (t *Tree) transfer(ctx context.Context, src, dst string, replace, move bool) (replaced bool, err error) {
	defer t.lists.wrote(src, dst)
	info, err := t.Stat(ctx, src)
	if err != nil {
		return false, err
	}
	if info.IsDir && (dst == src || strings.HasPrefix(dst, src+"/")) {
		return false, fs.ErrInvalid
	}
	if err := t.needDir(ctx, parent(dst)); err != nil {
		if errors.Is(err, storage.ErrNotDir) {
			return false, fs.ErrNotExist
		}
		return false, err
	}
	if _, err := t.Stat(ctx, dst); err == nil {
		if !replace {
			return false, fs.ErrExist
		}
		replaced = true
		// Overwrite: T means the destination is deleted first (RFC 4918
		// §9.8.4), which also settles a file replacing a folder.
		if err := t.Remove(ctx, dst); err != nil {
			return false, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if !info.IsDir {
		if err := t.copyObject(ctx, t.key(src), t.key(dst), info.Size, !replace); err != nil {
			return false, err
		}
		if move {
			_, err := t.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &t.bucket, Key: aws.String(t.key(src))})
			return replaced, storeErr("delete", err)
		}
		return replaced, nil
	}
	from, to := t.dirKey(src), t.dirKey(dst)
	copiedMarker := false
	p := awss3.NewListObjectsV2Paginator(t.client, &awss3.ListObjectsV2Input{Bucket: &t.bucket, Prefix: aws.String(from)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, storeErr("list", err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			copiedMarker = copiedMarker || k == from
			target := to + strings.TrimPrefix(k, from)
			if strings.HasSuffix(k, "/") {
				// A folder's marker is written anew: SeaweedFS keeps
				// folders as folders and answers NoSuchKey to a copy of one.
				if _, err := t.client.PutObject(ctx, &awss3.PutObjectInput{Bucket: &t.bucket, Key: &target, Body: bytes.NewReader(nil), ContentLength: aws.Int64(0)}); err != nil {
					return false, storeErr("mkdir", err)
				}
				continue
			}
			if err := t.copyObject(ctx, k, target, aws.ToInt64(o.Size), false); err != nil {
				return false, err
			}
		}
	}
	if !copiedMarker {
		// A folder that exists only through its members still needs to
		// exist once it is copied, even if they are all gone later.
		if _, err := t.client.PutObject(ctx, &awss3.PutObjectInput{Bucket: &t.bucket, Key: &to, Body: bytes.NewReader(nil), ContentLength: aws.Int64(0)}); err != nil {
			return false, storeErr("mkdir", err)
		}
	}
	if move {
		return replaced, t.removePrefix(ctx, from)
	}
	return replaced, nil
}

// maxCopy is the largest object one CopyObject may copy; beyond it the copy
// goes part by part.
const maxCopy = 5 << 30

func (t *Tree) copyObject(ctx context.Context, from, to string, size int64, createOnly bool) error {
	source := copySource(t.bucket, from)
	var ifNoneMatch *string
	if createOnly {
		ifNoneMatch = aws.String("*")
	}
	if size <= maxCopy {
		_, err := t.client.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: &t.bucket, Key: &to, CopySource: &source, IfNoneMatch: ifNoneMatch})
		return storeErr("copy", err)
	}
	up, err := t.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: &t.bucket, Key: &to})
	if err != nil {
		return storeErr("copy", err)
	}
	const part = 512 << 20
	var parts []types.CompletedPart
	for off, n := int64(0), int32(1); off < size; off, n = off+part, n+1 {
		out, err := t.client.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{
			Bucket: &t.bucket, Key: &to, UploadId: up.UploadId, PartNumber: aws.Int32(n), CopySource: &source,
			CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, min(off+part, size)-1)),
		})
		if err != nil {
			t.client.AbortMultipartUpload(context.WithoutCancel(ctx), &awss3.AbortMultipartUploadInput{Bucket: &t.bucket, Key: &to, UploadId: up.UploadId})
			return storeErr("copy", err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.CopyPartResult.ETag})
	}
	_, err = t.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: &t.bucket, Key: &to, UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}, IfNoneMatch: ifNoneMatch,
	})
	if err != nil {
		t.client.AbortMultipartUpload(context.WithoutCancel(ctx), &awss3.AbortMultipartUploadInput{Bucket: &t.bucket, Key: &to, UploadId: up.UploadId})
	}
	return storeErr("copy", err)
}

// copySource is the x-amz-copy-source value: bucket and key, URL-escaped
// segment by segment.
func copySource(bucket, key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return bucket + "/" + strings.Join(segs, "/")
}
