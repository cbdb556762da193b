package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
)

// Resumable uploads keep their whole state in the bucket, under the reserved
// name, so that any node can resume an upload another began: a small JSON
// record per upload, the parts of an S3 multipart upload, and a "tail" object
// holding the bytes received since the last whole part (S3 wants 5 MiB parts,
// a client may stop after any byte).
const uploadsDir = rootfs.Reserved + "/uploads/"

type uploadState struct {
	Name     string    `json:"name"`
	Length   int64     `json:"length"`
	UploadID string    `json:"upload_id,omitempty"`
	Parts    []part    `json:"parts,omitempty"`
	Tail     int64     `json:"tail,omitempty"`
	Meta     string    `json:"meta,omitempty"`
	Created  time.Time `json:"created"`
}

type part struct {
	N    int32  `json:"n"`
	ETag string `json:"etag"`
	Size int64  `json:"size"`
}

func (s *uploadState) offset() int64 {
	n := s.Tail
	for _, p := range s.Parts {
		n += p.Size
	}
	return n
}

// upload is one resumable upload as loaded from the bucket.
type upload struct {
	t        *Tree
	id       string
	state    uploadState
	etag     string    // of the state record, to catch a concurrent writer
	modified time.Time // of the state record
}

func (t *Tree) stateKey(id string) string { return t.prefix + uploadsDir + id + ".json" }
func (t *Tree) tailKey(id string) string  { return t.prefix + uploadsDir + id + ".tail" }

// Begin records a new upload; nothing is sent to S3's multipart API until a
// whole part has arrived.
func (t *Tree) Begin(ctx context.Context, name string, length int64, meta string) (string, error) {
	if _, err := t.checkTarget(ctx, name); err != nil {
		return "", err
	}
	u := &upload{t: t, id: strings.ToLower(rand.Text()), state: uploadState{Name: name, Length: length, Meta: meta, Created: time.Now().UTC()}}
	return u.id, u.save(ctx)
}

// Resume loads an upload's record.
func (t *Tree) Resume(ctx context.Context, id string) (storage.Upload, error) {
	if id == "" || strings.ContainsAny(id, "/.") {
		return nil, fs.ErrNotExist
	}
	out, err := t.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &t.bucket, Key: aws.String(t.stateKey(id))})
	if err != nil {
		return nil, storeErr("resume", err)
	}
	defer out.Body.Close()
	u := &upload{t: t, id: id, etag: aws.ToString(out.ETag), modified: aws.ToTime(out.LastModified)}
	if err := json.NewDecoder(io.LimitReader(out.Body, 1<<20)).Decode(&u.state); err != nil {
		return nil, fmt.Errorf("s3 resume %s: bad record: %w", id, err)
	}
	return u, nil
}

func (u *upload) ID() string    { return u.id }
func (u *upload) Name() string  { return u.state.Name }
func (u *upload) Length() int64 { return u.state.Length }
func (u *upload) Offset() int64 { return u.state.offset() }
func (u *upload) Meta() string  { return u.state.Meta }

func (u *upload) Modified() time.Time { return u.modified }

// save writes the record; after the first write, only over the version this
// node read, so two nodes appending to one upload cannot both succeed.
func (u *upload) save(ctx context.Context) error {
	b, err := json.Marshal(u.state)
	if err != nil {
		return err
	}
	in := &awss3.PutObjectInput{Bucket: &u.t.bucket, Key: aws.String(u.t.stateKey(u.id)), Body: bytes.NewReader(b), ContentLength: aws.Int64(int64(len(b)))}
	if u.etag == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(u.etag)
	}
	out, err := u.t.client.PutObject(context.WithoutCancel(ctx), in)
	if err != nil {
		if errors.Is(storeErr("save", err), fs.ErrExist) {
			return fmt.Errorf("s3 upload %s: changed by another request: %w", u.id, fs.ErrExist)
		}
		return storeErr("save", err)
	}
	u.etag = aws.ToString(out.ETag)
	u.modified = time.Now()
	return nil
}

// Append reads r into whole parts; what is left when r ends (or fails) is
// kept as the tail, so every byte that arrived counts for the offset.
func (u *upload) Append(ctx context.Context, r io.Reader) (int64, error) {
	st := &u.state
	buf := make([]byte, 0, u.t.partSize)
	if st.Tail > 0 {
		out, err := u.t.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &u.t.bucket, Key: aws.String(u.t.tailKey(u.id))})
		if err != nil {
			return u.Offset(), storeErr("tail", err)
		}
		buf, err = io.ReadAll(io.LimitReader(out.Body, st.Tail))
		out.Body.Close()
		if err != nil || int64(len(buf)) != st.Tail {
			return u.Offset(), fmt.Errorf("s3 upload %s: tail unreadable: %v", u.id, err)
		}
		buf = append(make([]byte, 0, u.t.partSize), buf...)
	}
	base := u.Offset() - st.Tail // bytes in whole parts
	limited := io.LimitReader(r, st.Length-u.Offset())
	// Store parts with a context that outlives a client hanging up: what
	// was received is kept.
	store := context.WithoutCancel(ctx)
	var rerr error
	for rerr == nil {
		var n int
		n, rerr = io.ReadFull(limited, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		// A whole part goes up at once; so does the last piece of a file
		// that already has parts (the last part may be small).
		last := base+int64(len(buf)) == st.Length
		if len(buf) == cap(buf) || (last && len(buf) > 0 && st.UploadID != "") {
			if err := u.uploadPart(store, buf); err != nil {
				return u.Offset(), err
			}
			base += int64(len(buf))
			buf = buf[:0]
		}
	}
	if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
		rerr = nil
	}
	if err := u.keepTail(store, buf); err != nil {
		return u.Offset(), err
	}
	return u.Offset(), rerr
}

func (u *upload) uploadPart(ctx context.Context, b []byte) error {
	st := &u.state
	if st.UploadID == "" {
		out, err := u.t.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: &u.t.bucket, Key: aws.String(u.t.key(st.Name))})
		if err != nil {
			return storeErr("upload", err)
		}
		st.UploadID = aws.ToString(out.UploadId)
	}
	n := int32(len(st.Parts) + 1)
	out, err := u.t.client.UploadPart(ctx, &awss3.UploadPartInput{
		Bucket: &u.t.bucket, Key: aws.String(u.t.key(st.Name)), UploadId: &st.UploadID, PartNumber: aws.Int32(n),
		Body: bytes.NewReader(b), ContentLength: aws.Int64(int64(len(b))),
	})
	if err != nil {
		return storeErr("upload", err)
	}
	st.Parts = append(st.Parts, part{N: n, ETag: aws.ToString(out.ETag), Size: int64(len(b))})
	st.Tail = 0
	return u.save(ctx)
}

func (u *upload) keepTail(ctx context.Context, b []byte) error {
	if int64(len(b)) == u.state.Tail && len(b) == 0 {
		return nil
	}
	if len(b) > 0 {
		if _, err := u.t.client.PutObject(ctx, &awss3.PutObjectInput{
			Bucket: &u.t.bucket, Key: aws.String(u.t.tailKey(u.id)), Body: bytes.NewReader(b), ContentLength: aws.Int64(int64(len(b))),
		}); err != nil {
			return storeErr("tail", err)
		}
	}
	u.state.Tail = int64(len(b))
	return u.save(ctx)
}

// Commit makes the complete upload visible under its name.
func (u *upload) Commit(ctx context.Context, replace bool) (bool, error) {
	st := &u.state
	defer u.t.lists.wrote(st.Name)
	if u.Offset() != st.Length {
		return false, fmt.Errorf("s3 upload %s: %d of %d bytes received", u.id, u.Offset(), st.Length)
	}
	exists, err := u.t.checkTarget(ctx, st.Name)
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
	key := aws.String(u.t.key(st.Name))
	if st.UploadID == "" {
		// Smaller than one part: the tail is the whole file.
		var body []byte
		if st.Tail > 0 {
			out, err := u.t.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &u.t.bucket, Key: aws.String(u.t.tailKey(u.id))})
			if err != nil {
				return false, storeErr("tail", err)
			}
			body, err = io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil {
				return false, storeErr("tail", err)
			}
		}
		_, err = u.t.client.PutObject(ctx, &awss3.PutObjectInput{Bucket: &u.t.bucket, Key: key, Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))), IfNoneMatch: ifNoneMatch})
	} else {
		parts := make([]types.CompletedPart, len(st.Parts))
		for i, p := range st.Parts {
			parts[i] = types.CompletedPart{PartNumber: aws.Int32(p.N), ETag: aws.String(p.ETag)}
		}
		_, err = u.t.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
			Bucket: &u.t.bucket, Key: key, UploadId: &st.UploadID,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}, IfNoneMatch: ifNoneMatch,
		})
		if err == nil {
			st.UploadID = ""
		}
	}
	if err != nil {
		return false, storeErr("complete", err)
	}
	u.forget(ctx)
	return exists, nil
}

// Abort drops the multipart upload and the record.
func (u *upload) Abort(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	if id := u.state.UploadID; id != "" {
		_, err := u.t.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: &u.t.bucket, Key: aws.String(u.t.key(u.state.Name)), UploadId: &id})
		if err := storeErr("abort", err); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	u.forget(ctx)
	return nil
}

func (u *upload) forget(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	u.t.client.DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: &u.t.bucket, Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String(u.t.stateKey(u.id))}, {Key: aws.String(u.t.tailKey(u.id))}},
		Quiet:   aws.Bool(true),
	}})
}

// Expire aborts uploads whose record was last written before before.
func (t *Tree) Expire(ctx context.Context, before time.Time) (int, error) {
	n := 0
	p := awss3.NewListObjectsV2Paginator(t.client, &awss3.ListObjectsV2Input{Bucket: &t.bucket, Prefix: aws.String(t.prefix + uploadsDir)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return n, storeErr("list", err)
		}
		for _, o := range page.Contents {
			id, ok := strings.CutSuffix(strings.TrimPrefix(aws.ToString(o.Key), t.prefix+uploadsDir), ".json")
			if !ok || !aws.ToTime(o.LastModified).Before(before) {
				continue
			}
			if u, err := t.Resume(ctx, id); err == nil {
				if u.Abort(ctx) == nil {
					n++
				}
			}
		}
	}
	return n, nil
}
