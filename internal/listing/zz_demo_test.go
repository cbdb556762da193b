//go:build demo

package listing

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoServer(t *testing.T) {
	root := "/tmp/demo-root"
	assets := http.StripPrefix("/.ferry/assets/", AssetHandler())
	http.ListenAndServe("127.0.0.1:8099", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Logf("%s %s %s", r.Method, r.URL, r.Header.Get("Destination"))
		if strings.HasPrefix(r.URL.Path, "/.ferry/assets/") {
			assets.ServeHTTP(w, r)
			return
		}
		p := filepath.Join(root, filepath.FromSlash(r.URL.Path))
		switch r.Method {
		case "PUT":
			os.MkdirAll(filepath.Dir(p), 0o755)
			if _, err := os.Stat(p); err == nil {
				http.Error(w, "409 Conflict", 409)
				return
			}
			f, _ := os.Create(p)
			io.Copy(f, r.Body)
			f.Close()
			w.WriteHeader(201)
			return
		case "MKCOL":
			if err := os.Mkdir(p, 0o755); err != nil {
				http.Error(w, "409 Conflict", 409)
				return
			}
			w.WriteHeader(201)
			return
		case "DELETE":
			os.RemoveAll(p)
			w.WriteHeader(204)
			return
		case "MOVE":
			u, _ := url.Parse(r.Header.Get("Destination"))
			d := filepath.Join(root, filepath.FromSlash(u.Path))
			if _, err := os.Stat(d); err == nil {
				http.Error(w, "412 Precondition Failed", 412)
				return
			}
			os.Rename(p, d)
			w.WriteHeader(201)
			return
		}
		fi, err := os.Stat(p)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if !fi.IsDir() {
			http.ServeFile(w, r, p)
			return
		}
		des, _ := os.ReadDir(p)
		pg := &Page{Path: r.URL.Path, Sort: ParseSort(r.URL.Query()), Can: Capabilities{Upload: true, Delete: true, Move: true, Archive: true, MaxUpload: 2 << 20}}
		for _, d := range des {
			i, _ := d.Info()
			pg.Entries = append(pg.Entries, Entry{Name: d.Name(), IsDir: d.IsDir(), Size: i.Size(), ModTime: i.ModTime()})
		}
		pg.Sort.Apply(pg.Entries)
		var buf bytes.Buffer
		if r.URL.Query().Get("format") == "json" {
			pg.WriteJSON(&buf)
		} else {
			pg.WriteHTML(&buf)
		}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		w.Write(buf.Bytes())
	}))
}
