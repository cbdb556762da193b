package storage

import (
	"context"
	"fmt"
	"io"
)

// ReadSmall reads a small file of ferry's own (a share link's record, a
// WebDAV lock or property sidecar), at most limit bytes: a larger one is an
// error rather than a large allocation.
func ReadSmall(ctx context.Context, t Tree, name string, limit int64) ([]byte, error) {
	o, err := t.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	data, err := io.ReadAll(io.LimitReader(o, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, limit)
	}
	return data, nil
}

// WriteSmall stores a small file of ferry's own atomically; with replace
// false it fails with fs.ErrExist when the name is taken, which makes it a
// create-only claim on every backend.
func WriteSmall(ctx context.Context, t Tree, name string, data []byte, replace bool) error {
	st, err := t.Stage(ctx, name, int64(len(data)))
	if err != nil {
		return err
	}
	// Abort after a successful Commit does nothing.
	defer st.Abort()
	if _, err := st.Write(data); err != nil {
		return err
	}
	_, err = st.Commit(ctx, replace)
	return err
}
