package ferry

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/local"
	"github.com/ferry-sh/ferry/internal/storage/s3"
)

// Errors New reports for an object store it cannot serve: the bucket is
// missing, the credentials are refused, or the store cannot be reached.
var (
	ErrNoBucket    = s3.ErrNoBucket
	ErrDenied      = s3.ErrDenied
	ErrUnreachable = s3.ErrUnreachable
)

// ErrNeedsFolder is returned by New for an option that needs a folder on
// this machine, given an object store: CGI executes files, and a bucket
// has none to execute.
var ErrNeedsFolder = errors.New("ferry: CGI needs a folder on this machine; an object store has no files to execute")

// IsObjectStore reports whether a location New accepts names an object
// store (s3://BUCKET[/PREFIX]) rather than a folder.
func IsObjectStore(location string) bool { return strings.HasPrefix(location, "s3://") }

// store is the backend a location names, opened once for every handler.
type store struct {
	backend storage.Tree
	fs      *rootfs.FS // the folder's rootfs (CGI); nil for an object store
	name    string     // what the root folder's archive is called
}

// openStore opens a folder through os.Root, or a bucket of an object store.
func openStore(location string, opts Options, fsPolicy rootfs.Policy) (store, error) {
	if !IsObjectStore(location) {
		fsys, err := rootfs.Open(location, fsPolicy)
		if err != nil {
			return store{}, err
		}
		return store{backend: local.New(fsys), fs: fsys, name: filepath.Base(fsys.Dir())}, nil
	}
	if opts.CGI {
		return store{}, ErrNeedsFolder
	}
	bucket, prefix, err := s3.ParseURL(location)
	if err != nil {
		return store{}, fmt.Errorf("ferry: %w", err)
	}
	// Every request the store answers is bounded by the client's own
	// timeouts (s3.Config.Timeout); the check that the bucket is there is
	// one of them.
	t, err := s3.Open(context.Background(), s3.Config{Bucket: bucket, Prefix: prefix, Endpoint: opts.S3Endpoint, ListCache: opts.S3ListCache, Timeout: opts.S3Timeout})
	if err != nil {
		return store{}, err
	}
	name := bucket
	if prefix != "" {
		name = prefix[strings.LastIndexByte(prefix, '/')+1:]
	}
	return store{backend: t, name: name}, nil
}
