// Command gofs is the benchmark's baseline: Go's bare http.FileServer with
// nothing in front of it, the floor ferry's extra checks are measured against.
package main

import (
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	dir := flag.String("dir", ".", "folder to serve")
	flag.Parse()
	// No timeouts, no logging: the stock server as most Go programs run it.
	log.Fatal(http.ListenAndServe(*addr, http.FileServer(http.Dir(*dir))))
}
