package s3_test

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/s3"
	"github.com/ferry-sh/ferry/internal/storage/s3/weedtest"
	"github.com/ferry-sh/ferry/internal/storage/storagetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	weedtest.StopShared()
	os.Exit(code)
}

// open serves a fresh prefix of the shared store's bucket.
func open(t *testing.T) *s3.Tree {
	store := weedtest.Shared(t)
	store.SetEnv(t)
	tr, err := s3.Open(context.Background(), s3.Config{Bucket: store.Bucket, Prefix: "t/" + strings.ToLower(rand.Text())})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Tree { return open(t) })
}

func TestOpenErrors(t *testing.T) {
	store := weedtest.Shared(t)
	store.SetEnv(t)
	ctx := context.Background()
	if _, err := s3.Open(ctx, s3.Config{Bucket: "no-such-bucket-here"}); !errors.Is(err, s3.ErrNoBucket) {
		t.Errorf("missing bucket: %v", err)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	if _, err := s3.Open(ctx, s3.Config{Bucket: store.Bucket}); !errors.Is(err, s3.ErrDenied) {
		t.Errorf("wrong secret: %v", err)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", store.SecretKey)
	port := weedtest.FreePort(t)
	if _, err := s3.Open(ctx, s3.Config{Bucket: store.Bucket, Endpoint: "http://127.0.0.1:" + strconv.Itoa(port)}); !errors.Is(err, s3.ErrUnreachable) {
		t.Errorf("nothing listening: %v", err)
	}
}

func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		in, bucket, prefix string
		ok                 bool
	}{
		{"s3://b", "b", "", true},
		{"s3://b/", "b", "", true},
		{"s3://b/p/q/", "b", "p/q", true},
		{"s3://", "", "", false},
		{"s3://b/a//c", "", "", false},
		{"s3://b/../x", "", "", false},
		{"/tmp", "", "", false},
	} {
		b, p, err := s3.ParseURL(c.in)
		if (err == nil) != c.ok || (c.ok && (b != c.bucket || p != c.prefix)) {
			t.Errorf("ParseURL(%q) = %q %q %v", c.in, b, p, err)
		}
	}
}
