package weedtest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// Counting is a proxy in front of a store that counts the requests made
// to it by method, so a test can see what a read costs in round trips.
type Counting struct {
	Endpoint string
	mu       sync.Mutex
	reqs     map[string]int
}

// NewCounting starts a Counting proxy to the store at endpoint, stopped
// when the test ends.
func NewCounting(t testing.TB, endpoint string) *Counting {
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c := &Counting{reqs: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.reqs[r.Method]++
		c.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c.Endpoint = srv.URL
	return c
}

// Reset returns the counts so far and starts again from zero.
func (c *Counting) Reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.reqs
	c.reqs = map[string]int{}
	return r
}
