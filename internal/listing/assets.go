package listing

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/ferry-sh/ferry/internal/httperr"
)

// The page's script, stylesheet and icon are compiled in, so a listing works
// offline and under a CSP that only allows 'self'.
//
//go:embed assets
var assetFS embed.FS

// Asset names, as linked from the page (relative to ".ferry/assets/").
const (
	AssetJS      = "app.js"
	AssetCSS     = "app.css"
	AssetFavicon = "favicon.svg"
)

type asset struct {
	data  []byte
	ctype string
	etag  string
}

// AssetHandler serves the embedded assets. The file server mounts it so that
// "<mount>/.ferry/assets/NAME" arrives here with r.URL.Path == "NAME".
//
// Assets change only with the binary, so they carry a strong ETag from their
// content and "no-cache": browsers revalidate (a cheap 304) and never run a
// stale script after an upgrade, without the page needing versioned URLs.
func AssetHandler() http.Handler { return assetHandler() }

// assetHandler hashes the assets once, on first use, not per request.
var assetHandler = sync.OnceValue(func() http.Handler {
	assets := make(map[string]asset)
	// The folder is embedded at build time, so reading it cannot fail at
	// run time; an unreadable entry would simply be absent (404).
	dir, _ := assetFS.ReadDir("assets")
	for _, d := range dir {
		if d.IsDir() {
			continue
		}
		data, err := assetFS.ReadFile("assets/" + d.Name())
		if err != nil {
			continue
		}
		sum := sha256.Sum256(data)
		assets[d.Name()] = asset{
			data:  data,
			ctype: contentType(d.Name()),
			etag:  `"` + hex.EncodeToString(sum[:12]) + `"`,
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			httperr.Write(w, r, http.StatusMethodNotAllowed, "")
			return
		}
		a, ok := assets[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			httperr.Write(w, r, http.StatusNotFound, "")
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.ctype)
		h.Set("ETag", a.etag)
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(httperr.ServeContent(w, r, int64(len(a.data))), r, "", time.Time{}, bytes.NewReader(a.data))
	})
})

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return "application/octet-stream"
}
