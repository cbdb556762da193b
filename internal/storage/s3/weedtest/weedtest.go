// Package weedtest starts a real SeaweedFS ("weed mini") on loopback for
// tests of the S3 backend. The weed binary is found through FERRY_WEED, the
// PATH, or the user cache folder where .ci/run builds it; without it the test
// is skipped, unless FERRY_REQUIRE_WEED=1 (CI), where it fails.
package weedtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// Store is a running SeaweedFS with its S3 gateway.
type Store struct {
	Endpoint  string // http://127.0.0.1:PORT
	Bucket    string
	AccessKey string
	SecretKey string
	Dir       string
	procs     []*proc // in start order; stopped in reverse
}

// Binary finds weed, or returns "" with the reason.
func Binary() (string, string) {
	if p := os.Getenv("FERRY_WEED"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", "FERRY_WEED=" + p + " does not exist"
		}
		return p, ""
	}
	if p, err := exec.LookPath("weed"); err == nil {
		return p, ""
	}
	if cache, err := os.UserCacheDir(); err == nil {
		// .ci/weed names the binary by the SeaweedFS version it built.
		found, _ := filepath.Glob(filepath.Join(cache, "ferry", "weed*"))
		for _, p := range slices.Backward(found) {
			if !strings.HasSuffix(p, ".tmp") {
				return p, ""
			}
		}
	}
	return "", "SeaweedFS (weed) is not installed: `bash .ci/weed` builds it into ~/.cache/ferry (about 5 minutes), or set FERRY_WEED"
}

// Need skips (or, with FERRY_REQUIRE_WEED=1, fails) t when weed is absent.
func Need(t testing.TB) string {
	t.Helper()
	bin, why := Binary()
	if bin == "" {
		if os.Getenv("FERRY_REQUIRE_WEED") == "1" {
			t.Fatalf("%s (FERRY_REQUIRE_WEED=1)", why)
		}
		t.Skip(why)
	}
	return bin
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var shared struct {
	once  sync.Once
	store *Store
	err   error
}

// Shared returns one store for the whole test binary (weed takes seconds to
// start); each caller should use its own bucket prefix or bucket.
func Shared(t testing.TB) *Store {
	t.Helper()
	bin := Need(t)
	shared.once.Do(func() { shared.store, shared.err = start(bin) })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.store
}

// Start runs a store of t's own, stopped when t ends.
func Start(t testing.TB) *Store {
	t.Helper()
	bin := Need(t)
	s, err := start(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// ports hands out free loopback ports, each distinct: a port stays bound
// until release, or the kernel could hand the same one out twice.
type ports struct{ held []net.Listener }

func (p *ports) next() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	p.held = append(p.held, l)
	return l.Addr().(*net.TCPAddr).Port
}

// release frees the ports for the processes about to bind them.
func (p *ports) release() {
	for _, l := range p.held {
		l.Close()
	}
	p.held = nil
}

func start(bin string) (*Store, error) {
	dir, err := os.MkdirTemp("", "ferry-weed-")
	if err != nil {
		return nil, err
	}
	s := &Store{Bucket: "ferry", AccessKey: "ferrytest", SecretKey: "ferrytestsecret", Dir: dir}
	var free ports
	s3port := free.next()
	s.Endpoint = "http://127.0.0.1:" + strconv.Itoa(s3port)
	args := []string{"mini", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir=" + dir,
		"-admin.ui=false", "-webdav=false", "-master.telemetry=false",
		"-s3.port.iceberg=0", "-s3.port.lance=0",
		"-s3.port=" + strconv.Itoa(s3port),
	}
	for _, p := range []string{"master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc", "s3.port.grpc"} {
		args = append(args, fmt.Sprintf("-%s=%d", p, free.next()))
	}
	free.release()
	p := &proc{name: "mini", bin: bin, args: args, logPath: filepath.Join(dir, "weed.log"),
		env: []string{"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey, "S3_BUCKET=" + s.Bucket}}
	s.procs = []*proc{p}
	if err := p.start(); err != nil {
		s.Stop()
		return nil, err
	}
	// weed mini creates the bucket, then prints its welcome: ready.
	if err := waitFor(90*time.Second, func() error {
		if !p.running() {
			return errExited
		}
		if b, _ := os.ReadFile(p.logPath); !strings.Contains(string(b), "running and ready") {
			return errors.New("not ready")
		}
		return nil
	}); err != nil {
		s.Stop()
		return nil, fmt.Errorf("weed mini did not start within 90 s: %v\n%s", err, p.tail())
	}
	return s, nil
}

// Env is the environment a ferry process needs to reach the store, with
// every other AWS_* variable of the machine cleared.
func (s *Store) Env() []string {
	return append(cleanEnv(),
		"AWS_ACCESS_KEY_ID="+s.AccessKey, "AWS_SECRET_ACCESS_KEY="+s.SecretKey,
		"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL="+s.Endpoint,
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

// SetEnv sets Env in the test process itself (for in-process clients).
func (s *Store) SetEnv(t testing.TB) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for _, kv := range s.Env() {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, v)
		}
	}
}

// cleanEnv is the process environment without the machine's AWS_* settings.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

// Stop ends the store and removes its data.
func (s *Store) Stop() {
	for _, p := range slices.Backward(s.procs) {
		p.stop()
	}
	os.RemoveAll(s.Dir)
}

// StopShared stops the store Shared started; call it from TestMain.
func StopShared() {
	if shared.store != nil {
		shared.store.Stop()
	}
}

// Client is an S3 client of the store, for tests that look at the bucket
// behind ferry's back (multipart uploads left in progress, raw keys).
func (s *Store) Client() *awss3.Client {
	return awss3.New(awss3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		// As ferry does: SeaweedFS wants no trailing checksums.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// Uploads counts the multipart uploads in progress under prefix.
func (s *Store) Uploads(t testing.TB, prefix string) int {
	t.Helper()
	out, err := s.Client().ListMultipartUploads(context.Background(), &awss3.ListMultipartUploadsInput{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatalf("listing multipart uploads: %v", err)
	}
	return len(out.Uploads)
}

// Kill ends a store that Start made at once, as when its machine loses
// power; its data stays for Restart.
func (s *Store) Kill(t testing.TB) {
	t.Helper()
	for _, p := range slices.Backward(s.procs) {
		p.signal(os.Kill, 10*time.Second)
	}
}

// Restart starts a store Kill ended on the same ports and data, and waits
// until its gateway answers a listing of the bucket.
func (s *Store) Restart(t testing.TB) {
	t.Helper()
	for _, p := range s.procs {
		if err := p.start(); err != nil {
			t.Fatal(err)
		}
	}
	if err := waitFor(90*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := s.Client().ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), MaxKeys: aws.Int32(1)})
		return err
	}); err != nil {
		t.Fatalf("weed did not answer within 90 s of its restart: %v\n%s", err, s.procs[0].tail())
	}
}
