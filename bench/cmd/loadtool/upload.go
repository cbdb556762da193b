package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// upload sends a file by PUT or multipart POST with large buffers, so that
// the figure shows the server's pace rather than curl's 64 KiB upload
// buffer; prints "status seconds MB/s".
func upload(args []string) error {
	fs := flag.NewFlagSet("upload", flag.ExitOnError)
	u := fs.String("url", "", "PUT: the target path; POST: the folder")
	file := fs.String("file", "", "file to send")
	mode := fs.String("mode", "put", "put or post")
	fs.Parse(args)
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	tr := &http.Transport{WriteBufferSize: 1 << 20, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	var req *http.Request
	switch *mode {
	case "put":
		req, err = http.NewRequest(http.MethodPut, *u, bufReader{f})
		req.ContentLength = st.Size()
	case "post":
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			part, err := mw.CreateFormFile("file", filepath.Base(*file))
			if err == nil {
				_, err = io.CopyBuffer(part, bufReader{f}, make([]byte, 1<<20))
			}
			if err == nil {
				err = mw.Close()
			}
			pw.CloseWithError(err)
		}()
		req, err = http.NewRequest(http.MethodPost, *u, pr)
		if req != nil {
			req.Header.Set("Content-Type", mw.FormDataContentType())
		}
	default:
		return errors.New("upload: -mode is put or post")
	}
	if err != nil {
		return err
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	secs := time.Since(start).Seconds()
	fmt.Printf("%d %.3f %.1f\n", resp.StatusCode, secs, float64(st.Size())/secs/1e6)
	return nil
}

// bufReader hides *os.File's WriterTo/ReaderFrom so copies use the 1 MiB
// buffers above instead of a sendfile path the transport cannot take.
type bufReader struct{ r io.Reader }

func (b bufReader) Read(p []byte) (int, error) { return b.r.Read(p) }

// sink accepts any request and discards its body: the ceiling an upload
// client reaches on this machine against a server that stores nothing.
func sink(args []string) error {
	fs := flag.NewFlagSet("sink", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:18090", "listen address")
	fs.Parse(args)
	return http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.CopyBuffer(io.Discard, bufReader{r.Body}, make([]byte, 1<<20))
		w.WriteHeader(http.StatusCreated)
	}))
}
