package s3

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// ListPrefix finds the files whose names start with prefix with one
// ListObjectsV2: what a GET of a.js asks to learn whether a.js.zst, .br or
// .gz exist, which probing each with a GET (and, for an absent key, a
// listing to tell a folder from nothing) cost up to six round trips.
func (t *Tree) ListPrefix(ctx context.Context, prefix string, limit int) ([]string, bool, error) {
	out, err := t.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
		Bucket: &t.bucket, Prefix: aws.String(t.key(prefix)), Delimiter: aws.String("/"), MaxKeys: aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, false, storeErr("list", err)
	}
	names := make([]string, 0, len(out.Contents))
	for _, o := range out.Contents {
		names = append(names, strings.TrimPrefix(aws.ToString(o.Key), t.prefix))
	}
	return names, !aws.ToBool(out.IsTruncated), nil
}
