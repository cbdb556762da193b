// Package s3 serves a bucket (or a prefix of one) of an S3-compatible object
// store as a storage.Tree. Folders are key prefixes ending in "/", an empty
// folder is a zero-byte "name/" marker, uploads stream into multipart uploads
// that become visible only when complete, and create-only writes use the
// store's conditional write (If-None-Match: *) so that across any number of
// ferry nodes one racer wins.
package s3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-sh/ferry/internal/storage"
)

// Config says which store and bucket to serve.
type Config struct {
	Bucket string
	Prefix string // key prefix the tree lives under, without slashes at either end
	// Endpoint overrides the AWS environment's endpoint (an S3-compatible
	// store); path-style addressing is used whenever an endpoint is set,
	// since such stores rarely have a DNS name per bucket.
	Endpoint string
	// PartSize is the multipart part size, and so the memory one upload
	// holds; 0 means 8 MiB. S3 wants at least 5 MiB for every part but the last.
	PartSize int64
	// Timeout bounds each request to the store before a response starts.
	Timeout time.Duration
}

// Errors of Open that a caller reports differently: a usage mistake (exit 2)
// or a store that cannot be reached (exit 1).
var (
	ErrNoBucket    = errors.New("no such bucket")
	ErrDenied      = errors.New("access denied: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)")
	ErrUnreachable = errors.New("the object store cannot be reached")
)

const minPart = 5 << 20

// Tree is a bucket served as a tree.
type Tree struct {
	client   *awss3.Client
	bucket   string
	prefix   string // "" or "some/prefix/"
	partSize int64
}

// ParseURL splits "s3://BUCKET/PREFIX" into bucket and prefix.
func ParseURL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3:// address", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q names no bucket: use s3://BUCKET[/PREFIX]", u)
	}
	for comp := range strings.SplitSeq(prefix, "/") {
		if prefix != "" && (comp == "" || comp == "." || comp == "..") {
			return "", "", fmt.Errorf("%q has an empty, . or .. component in its prefix", u)
		}
	}
	return bucket, prefix, nil
}

// Open connects to the store and checks that the bucket is there and
// readable, so that a mistake is reported at startup, never at the first
// request.
func Open(ctx context.Context, c Config) (*Tree, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRetryMaxAttempts(3),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.MaxBackoff = 2 * time.Second
			})
		}),
		config.WithHTTPClient(httpClient(timeout)),
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		if os.Getenv("AWS_CA_BUNDLE") != "" && strings.Contains(err.Error(), "CA") {
			return nil, fmt.Errorf("cannot use AWS_CA_BUNDLE: %v", err)
		}
		return nil, fmt.Errorf("AWS configuration: %v", err)
	}
	if cfg.Region == "" {
		// S3-compatible stores accept any region; AWS's own S3 redirects.
		cfg.Region = "us-east-1"
	}
	pathStyle := c.Endpoint != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	client := awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = pathStyle
		// S3-compatible stores reject or mis-handle the SDK's default
		// trailing checksums; send them only where the API requires.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	t := &Tree{client: client, bucket: c.Bucket, partSize: c.PartSize}
	if t.partSize < minPart {
		t.partSize = 8 << 20
	}
	if c.Prefix != "" {
		t.prefix = strings.Trim(c.Prefix, "/") + "/"
	}
	hctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	if _, err := client.HeadBucket(hctx, &awss3.HeadBucketInput{Bucket: aws.String(c.Bucket)}); err != nil {
		switch status(err) {
		case http.StatusNotFound:
			return nil, fmt.Errorf("bucket %q: %w", c.Bucket, ErrNoBucket)
		case http.StatusForbidden, http.StatusUnauthorized:
			return nil, fmt.Errorf("bucket %q: %w", c.Bucket, ErrDenied)
		case 0:
			return nil, fmt.Errorf("%w: %v", ErrUnreachable, oneLine(err))
		default:
			return nil, fmt.Errorf("bucket %q: %v", c.Bucket, oneLine(err))
		}
	}
	return t, nil
}

// httpClient bounds how long ferry waits for the store: a store that is down
// must give the client a 503 soon, never a hang.
func httpClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = timeout
	tr.MaxIdleConnsPerHost = 64
	tr.TLSClientConfig = tr.TLSClientConfig.Clone()
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	return &http.Client{Transport: tr}
}

// Close releases nothing: the client's connections are pooled by net/http.
func (t *Tree) Close() error { return nil }

// key maps a tree name to its object key; "." is the prefix itself.
func (t *Tree) key(name string) string {
	if name == "." || name == "" {
		return t.prefix
	}
	return t.prefix + name
}

// dirKey is the key prefix of a folder's members (and of its marker).
func (t *Tree) dirKey(name string) string {
	if name == "." || name == "" {
		return t.prefix
	}
	return t.prefix + name + "/"
}

func parent(name string) string {
	d := path.Dir(name)
	if d == "" {
		return "."
	}
	return d
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

var (
	_ storage.Tree      = (*Tree)(nil)
	_ storage.Resumable = (*Tree)(nil)
)
