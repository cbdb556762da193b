package s3_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/s3"
	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
)

// A store that stops sending mid-body ends the read with ErrUnavailable
// after the idle time, and its connection is dropped, instead of holding
// the download (and the client's connection) for ever.
func TestStalledBody(t *testing.T) {
	for _, c := range []struct {
		name string
		size int
	}{
		{"small file, fetched whole by Open", 10_000},
		{"large file, read in windows", 1 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := weedtest.NewStalling(t, c.size)
			store.SetEnv(t)
			tree, err := s3.Open(context.Background(), s3.Config{Bucket: "b", Endpoint: store.Endpoint, Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			var got int64
			go func() {
				o, err := tree.Open(context.Background(), "obj.bin")
				if err == nil {
					got, err = io.Copy(io.Discard, o)
					o.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, storage.ErrUnavailable) {
					t.Fatalf("a stalled body ended with %v after %d bytes, want ErrUnavailable", err, got)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("a stalled body still holds the read after 60 s")
			}
			select {
			case <-store.Ended:
			case <-time.After(30 * time.Second):
				t.Fatal("the stalled GET's connection was kept open")
			}
		})
	}
}

// A store that stops taking an upload's body in ends the upload with
// ErrUnavailable after the idle time, instead of holding it (and the
// client sending it) for ever: the transport's ResponseHeaderTimeout only
// starts once the body is all sent.
func TestStalledUpload(t *testing.T) {
	for _, c := range []struct {
		name string
		size int
	}{
		{"one PUT at commit", 6 << 20},
		{"a part of a multipart upload", 12 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := weedtest.NewStalling(t, 1)
			store.SetEnv(t)
			tree, err := s3.Open(context.Background(), s3.Config{Bucket: "b", Endpoint: store.Endpoint, Timeout: time.Second, PartSize: 8 << 20})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				st, err := tree.Stage(context.Background(), "new", -1)
				if err != nil {
					done <- err
					return
				}
				if _, err = st.Write(make([]byte, c.size)); err == nil {
					_, err = st.Commit(context.Background(), false)
				}
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, storage.ErrUnavailable) {
					t.Fatalf("a stalled upload ended with %v, want ErrUnavailable", err)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("a stalled upload still holds its writer after 60 s")
			}
			select {
			case <-store.Stalled:
			default:
				t.Fatal("the store never saw the upload")
			}
		})
	}
}
