// Package s3 serves a bucket (or a prefix of one) of an S3-compatible object
// store as a storage.Tree. Folders are key prefixes ending in "/", an empty
// folder is a zero-byte "name/" marker, uploads stream into multipart uploads
// that become visible only when complete, and create-only writes use the
// store's conditional write (If-None-Match: *) so that across any number of
// ferry nodes one racer wins.
package s3

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"

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
	// Timeout bounds each request to the store before a response starts,
	// and how long an answer's body may then send nothing.
	Timeout time.Duration
	// ListCache, when positive, keeps folder pages' listings that long
	// (see listCache): another node's writes may then take that long to
	// show on this node's pages, never this node's own.
	ListCache time.Duration
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
	lists    *listCache // nil: every listing asks the store
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
				o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(hung)}, o.Retryables...)
			})
		}),
		config.WithHTTPClient(httpClient(timeout)),
		// The SDK's own log lines ("SDK 2026/... WARN failed to discard
		// remaining HTTP response body" after a stalled answer) would reach
		// ferry's stderr in its words; what fails reaches ferry as errors.
		config.WithLogger(logging.Nop{}),
	}
	if err := checkCABundle(os.Getenv("AWS_CA_BUNDLE")); err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %v", oneLine(err))
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
		o.APIOptions = append(o.APIOptions, stallGuard(timeout))
	})
	t := &Tree{client: client, bucket: c.Bucket, partSize: c.PartSize, lists: newListCache(c.ListCache)}
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
			return nil, fmt.Errorf("%w: %s", ErrUnreachable, netReason(err))
		default:
			return nil, fmt.Errorf("bucket %q: %v", c.Bucket, oneLine(err))
		}
	}
	return t, nil
}

// hung stops the retries of an attempt that timed out: a store that let one
// wait out the timeout is hung, not flaky, and two more attempts would make
// the client wait three times as long for the same 503.
func hung(err error) aws.Ternary {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, storage.ErrUnavailable) {
		// (ErrUnavailable, inside the retries, is stallGuard's: a body
		// that did not move for the timeout.)
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}

// httpClient bounds how long ferry waits for the store: a store that is down
// must give the client a 503 soon, never a hang. It is the SDK's buildable
// client, so that the SDK can still add AWS_CA_BUNDLE's certificates to it.
func httpClient(timeout time.Duration) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) {
			d.Timeout = 5 * time.Second
			d.KeepAlive = 30 * time.Second
		}).
		WithTransportOptions(func(tr *http.Transport) {
			tr.ResponseHeaderTimeout = timeout
			tr.MaxIdleConnsPerHost = 64
		})
}

// checkCABundle says plainly what is wrong with AWS_CA_BUNDLE, the file of
// certificates the store's TLS certificate is checked against, before the
// SDK would say it in its own words.
func checkCABundle(path string) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot use AWS_CA_BUNDLE=%s: %v", path, describe(err))
	}
	if !x509.NewCertPool().AppendCertsFromPEM(b) {
		return fmt.Errorf("cannot use AWS_CA_BUNDLE=%s: no PEM certificate in it", path)
	}
	return nil
}

func describe(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
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

// netReason is the network's own word for a store that did not answer
// ("dial tcp 127.0.0.1:9000: connect: connection refused"), without the
// SDK's wrapping.
func netReason(err error) string {
	var ne *net.OpError
	if errors.As(err, &ne) {
		return ne.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	return oneLine(err)
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

var (
	_ storage.Tree      = (*Tree)(nil)
	_ storage.Resumable = (*Tree)(nil)
)
