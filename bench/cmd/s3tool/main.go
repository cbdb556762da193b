// Command s3tool is bench/s3's client of an S3-compatible store read
// directly, the ceiling ferry and rclone are measured against: it fills the
// bucket, signs URLs that wrk and loadtool then fetch as they fetch any
// server's, and times what a URL cannot express (a paginated listing).
//
//	s3tool put       -key K -file F            one PutObject (fixtures)
//	s3tool mkobjects -prefix P -n N -size B    N objects under P, 16 at a time
//	s3tool presign   -key K [-method GET|PUT]  a URL valid for 2 hours
//	s3tool list      -prefix P -n 3            median time of n full listings of P
//	s3tool uploads                             multipart uploads in progress
//	s3tool report    -in results.tsv           bench/s3's table
//
// Every command but report takes -endpoint and -bucket; the keys come from
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: s3tool put|mkobjects|presign|list|uploads|report [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	endpoint := fs.String("endpoint", "", "store URL (http://127.0.0.1:8333)")
	bucket := fs.String("bucket", "", "bucket")
	key := fs.String("key", "", "object key")
	file := fs.String("file", "", "file to store")
	prefix := fs.String("prefix", "", "key prefix, ending in /")
	n := fs.Int("n", 10000, "objects (mkobjects), listings (list)")
	size := fs.Int("size", 4096, "bytes per object")
	method := fs.String("method", "GET", "GET or PUT")
	in := fs.String("in", "", "results (report)")
	fs.Parse(os.Args[2:])
	if os.Args[1] == "report" {
		if err := report(*in); err != nil {
			fmt.Fprintln(os.Stderr, "s3tool:", err)
			os.Exit(1)
		}
		return
	}
	if *endpoint == "" || *bucket == "" {
		fmt.Fprintln(os.Stderr, "s3tool: -endpoint and -bucket are required")
		os.Exit(2)
	}
	c := newClient(*endpoint, 16)
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "put":
		err = put(ctx, c, *bucket, *key, *file)
	case "mkobjects":
		err = mkobjects(ctx, c, *bucket, *prefix, *n, *size)
	case "presign":
		err = presign(ctx, c, *bucket, *key, *method)
	case "list":
		err = list(ctx, c, *bucket, *prefix, *n)
	case "uploads":
		var out *awss3.ListMultipartUploadsOutput
		if out, err = c.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: bucket}); err == nil {
			fmt.Println(len(out.Uploads))
		}
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3tool:", err)
		os.Exit(1)
	}
}

func newClient(endpoint string, conns int) *awss3.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	return awss3.New(awss3.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), ""),
		HTTPClient:   &http.Client{Transport: tr},
		// As ferry does: S3-compatible stores want no trailing checksums.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

func put(ctx context.Context, c *awss3.Client, bucket, key, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	_, err = c.PutObject(ctx, &awss3.PutObjectInput{Bucket: &bucket, Key: &key, Body: f, ContentLength: aws.Int64(st.Size())})
	return err
}

// mkobjects stores n objects of random letters, named as loadtool mkfiles
// names files, so that a listing of the bucket looks like one of a folder.
func mkobjects(ctx context.Context, c *awss3.Client, bucket, prefix string, n, size int) error {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for w := range 16 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 2))
			buf := make([]byte, size)
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				for j := range buf {
					buf[j] = byte('a' + r.IntN(26))
				}
				ext := [...]string{".txt", ".bin", ".jpg", ".md"}[i%4]
				key := fmt.Sprintf("%sfile-%06d%s", prefix, i, ext)
				_, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(string(buf))})
				if err != nil {
					mu.Lock()
					first = errors.Join(first, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

func presign(ctx context.Context, c *awss3.Client, bucket, key, method string) error {
	p := awss3.NewPresignClient(c, awss3.WithPresignExpires(2*time.Hour))
	var url string
	switch method {
	case "GET":
		req, err := p.PresignGetObject(ctx, &awss3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			return err
		}
		url = req.URL
	case "PUT":
		req, err := p.PresignPutObject(ctx, &awss3.PutObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			return err
		}
		url = req.URL
	default:
		return fmt.Errorf("presign: -method is GET or PUT")
	}
	fmt.Println(url)
	return nil
}

// list reads the whole of a folder (ListObjectsV2 with a delimiter, every
// page of 1,000) n times, one after the other, and prints "seconds entries"
// with the median time: what a browser's listing of the folder costs at the
// store itself.
func list(ctx context.Context, c *awss3.Client, bucket, prefix string, n int) error {
	var times []float64
	entries := 0
	for range n {
		start := time.Now()
		p := awss3.NewListObjectsV2Paginator(c, &awss3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix, Delimiter: aws.String("/")})
		entries = 0
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			entries += len(page.Contents) + len(page.CommonPrefixes)
		}
		times = append(times, time.Since(start).Seconds())
	}
	slices.Sort(times)
	fmt.Printf("%.3f %d\n", times[len(times)/2], entries)
	return nil
}
