package ferry_test

import (
	"bufio"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-sh/ferry"
)

// exampleDir makes a small folder to serve.
func exampleDir() string {
	dir, err := os.MkdirTemp("", "ferry-example-")
	if err != nil {
		log.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello from ferry\n"), 0o644)
	return dir
}

func get(method, url string) (int, string) {
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Serve a folder under a prefix of your own ServeMux.
func Example_prefix() {
	dir := exampleDir()
	defer os.RemoveAll(dir)

	files, err := ferry.New(dir, ferry.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer files.Close()

	mux := http.NewServeMux()
	mux.Handle("/files/", http.StripPrefix("/files", files))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	status, body := get("GET", srv.URL+"/files/hello.txt")
	fmt.Print(status, " ", body)
	// Output: 200 hello from ferry
}

// Add a custom FUNC method, as Python's do_FUNC does; it shows up in Allow.
func ExampleHandler_HandleMethod() {
	dir := exampleDir()
	defer os.RemoveAll(dir)

	files, err := ferry.New(dir, ferry.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer files.Close()
	files.HandleMethod("FUNC", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "FUNC called on %s\n", r.URL.Path)
	}))

	srv := httptest.NewServer(files)
	defer srv.Close()

	_, body := get("FUNC", srv.URL+"/anything")
	fmt.Print(body)
	resp, _ := http.DefaultClient.Do(must(http.NewRequest("OPTIONS", srv.URL+"/", nil)))
	fmt.Println(resp.Header.Get("Allow"))
	// Output:
	// FUNC called on /anything
	// GET, HEAD, OPTIONS, FUNC
}

// Add your own /stats route beside the file server.
func ExampleHandler_Stats() {
	dir := exampleDir()
	defer os.RemoveAll(dir)

	files, err := ferry.New(dir, ferry.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer files.Close()

	mux := http.NewServeMux()
	mux.Handle("/", files)
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		s := files.Stats()
		json.NewEncoder(w).Encode(map[string]int64{"requests": s.Requests, "downloads": s.Completed})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get("GET", srv.URL+"/hello.txt")
	_, body := get("GET", srv.URL+"/stats")
	fmt.Print(body)
	// Output: {"downloads":1,"requests":1}
}

// Wrap the file server in an authentication check of your own.
func Example_ownAuthentication() {
	dir := exampleDir()
	defer os.RemoveAll(dir)

	files, err := ferry.New(dir, ferry.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer files.Close()

	const token = "Bearer let-me-in"
	guarded := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(token)) != 1 {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		files.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(guarded)
	defer srv.Close()

	status, _ := get("GET", srv.URL+"/hello.txt")
	fmt.Println("without token:", status)
	req := must(http.NewRequest("GET", srv.URL+"/hello.txt", nil))
	req.Header.Set("Authorization", token)
	resp, _ := http.DefaultClient.Do(req)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println("with token:", resp.StatusCode, strings.TrimSpace(string(b)))
	// Output:
	// without token: 401
	// with token: 200 hello from ferry
}

func must(r *http.Request, err error) *http.Request {
	if err != nil {
		log.Fatal(err)
	}
	return r
}

// Serve the line-protocol time service on a listener you made.
func ExampleServeTime() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ferry.ServeTime(ctx, ln, ferry.TimeOptions{}) }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(conn, "SECONDS")
	line, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	secs, _ := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	fmt.Println("within a minute of now:", time.Since(time.Unix(secs, 0)).Abs() < time.Minute)

	stop()
	fmt.Println("stopped:", <-done)
	// Output:
	// within a minute of now: true
	// stopped: <nil>
}

// Mount the request inspector beside your own routes.
func ExampleNewEchoHandler() {
	mux := http.NewServeMux()
	mux.Handle("/echo/", ferry.NewEchoHandler(ferry.EchoOptions{MaxBody: 1 << 20}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/echo/x?a=1&format=json", "application/x-www-form-urlencoded", strings.NewReader("name=v"))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var report struct {
		Method string
		Path   string
		Query  map[string][]string
		Body   struct {
			Size int
			Form map[string][]string
		}
	}
	json.NewDecoder(resp.Body).Decode(&report)
	fmt.Println(report.Method, report.Path, report.Query["a"], report.Body.Size, report.Body.Form["name"])
	// Output: POST /echo/x [1] 6 [v]
}
