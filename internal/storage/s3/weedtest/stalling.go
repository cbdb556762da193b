package weedtest

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Stalling is a fake S3 endpoint on loopback (no weed needed) whose bucket
// holds any object name with a dot asked for, of the given size (and lists
// as empty),
// and whose every GET of an object sends its headers and 100 bytes and then
// nothing, holding the connection
// open, as a store that hangs mid-download does. Ended receives the path
// of each GET whose connection the client gave up. Every upload (a PUT of
// an object or of a part) is taken in without its body being read, as a
// store that hangs mid-upload does; its socket's receive buffer is small,
// so that the sender stalls after a few KiB whatever loopback's autotuning.
// Stalled receives the path of each such upload.
type Stalling struct {
	Endpoint string
	Ended    chan string
	Stalled  chan string
	// StallListings makes listings stall as downloads do.
	StallListings atomic.Bool
}

// NewStalling starts a Stalling store, stopped when the test ends.
func NewStalling(t testing.TB, size int) *Stalling {
	s := &Stalling{Ended: make(chan string, 16), Stalled: make(chan string, 16)}
	quit := make(chan struct{})
	mod := time.Now().UTC().Format(http.TimeFormat)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		switch {
		case r.Method == http.MethodHead && strings.Count(strings.Trim(r.URL.Path, "/"), "/") == 0:
			return // HeadBucket
		case r.Method == http.MethodPost && r.URL.Query().Has("uploads"):
			h.Set("Content-Type", "application/xml")
			fmt.Fprint(w, `<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>b</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>`)
			return
		case r.Method == http.MethodDelete && r.URL.Query().Has("uploadId"):
			w.WriteHeader(http.StatusNoContent) // AbortMultipartUpload
			return
		case r.Method == http.MethodPut:
			// The body is never read: the sender's writes stall once the
			// socket buffers are full. (The server notices no hang-up
			// while a body is unread, so the handler ends with the test.)
			s.Stalled <- r.URL.Path
			<-quit
			return
		case r.URL.Query().Has("list-type"):
			// Listings answer at once (empty) unless StallListings.
			h.Set("Content-Type", "application/xml")
			const list = `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`
			if !s.StallListings.Load() {
				fmt.Fprint(w, list)
				return
			}
			fmt.Fprint(w, list[:40])
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				s.Ended <- r.URL.Path
			case <-quit:
			}
			return
		case !strings.Contains(path.Base(r.URL.Path), "."):
			// A name without a dot is no object (a folder, if listed).
			w.WriteHeader(http.StatusNotFound)
			return
		case r.Method == http.MethodHead:
			h.Set("Content-Length", fmt.Sprint(size))
			h.Set("ETag", `"e"`)
			h.Set("Last-Modified", mod)
			return
		case r.Method != http.MethodGet:
			http.Error(w, "not in this fake", http.StatusNotImplemented)
			return
		}
		from, to := 0, size-1
		fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &from, &to)
		to = min(to, size-1)
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to, size))
		h.Set("Content-Length", fmt.Sprint(to-from+1))
		h.Set("ETag", `"e"`)
		h.Set("Last-Modified", mod)
		w.WriteHeader(http.StatusPartialContent)
		w.Write(make([]byte, 100))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			s.Ended <- r.URL.Path
		case <-quit:
		}
	}))
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
		})
		return cmp.Or(err, serr)
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() { close(quit); srv.Close() })
	s.Endpoint = srv.URL
	return s
}

// SetEnv gives the AWS SDK credentials for the fake and clears what the
// machine's environment could add (a profile, a CA bundle, an endpoint).
func (s *Stalling) SetEnv(t testing.TB) {
	for _, v := range []string{"AWS_PROFILE", "AWS_CA_BUNDLE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	t.Setenv("AWS_REGION", "us-east-1")
}
