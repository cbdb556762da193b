package sharelink

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/mount"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
)

// Prefix is where links are served, under the handler's reserved path.
const Prefix = "/.ferry/s/"

// API answers /.ferry/shares: POST makes a link (JSON or a form: path,
// expires, downloads), GET lists the caller's links, DELETE
// /.ferry/shares/ID revokes one, and a form's POST of revoke=ID does too
// (the status page's button, which works without script).
type API struct {
	Links *Manager
	// Tree is what clients may see (the policy layer): a link is made
	// only to an entry that is there.
	Tree storage.Tree
	// User is the verified name of the request's client, "" for none.
	User func(r *http.Request) string
	// Reads reports whether the request's client may read a URL path.
	Reads  func(r *http.Request, p string) bool
	Logger *slog.Logger
}

// Shown is a link as the API and the status page show it to its maker.
type Shown struct {
	Link
	// URL is the link, absolute as this request reached the server; Href
	// the same from the server's root (with any mount prefix).
	URL  string `json:"url"`
	Href string `json:"href"`
}

// Show adds the link's URLs for the request r.
func Show(r *http.Request, l Link) Shown {
	p := Prefix + l.Token + "/"
	if !l.Dir() {
		p += url.PathEscape(path.Base(l.Name()))
	}
	href := (&url.URL{Path: mount.Prefix(r)}).EscapedPath() + p
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return Shown{Link: l, URL: scheme + "://" + r.Host + href, Href: href}
}

// Serve answers a request for /.ferry/shares; rest is what follows it
// ("" or "/ID").
func (a *API) Serve(w http.ResponseWriter, r *http.Request, rest string) {
	user := a.User(r)
	if user == "" {
		httperr.Write(w, r, http.StatusForbidden, "share links are made by users who signed in")
		return
	}
	id := strings.TrimPrefix(rest, "/")
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		if id != "" {
			httperr.Write(w, r, http.StatusNotFound, "")
			return
		}
		links, err := a.Links.List(r.Context(), user)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		out := make([]Shown, 0, len(links))
		for _, l := range links {
			out = append(out, Show(r, l))
		}
		writeJSON(w, r, http.StatusOK, map[string]any{"links": out})
	case r.Method == http.MethodDelete && id != "":
		if err := a.Links.Revoke(r.Context(), user, id); err != nil {
			a.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && id == "":
		a.post(w, r, user)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST, DELETE")
		httperr.Write(w, r, http.StatusMethodNotAllowed, "")
	}
}

// request is what a client asks for.
type request struct {
	Path      string `json:"path"`
	Expires   string `json:"expires"`   // a duration: 1h, 24h, 168h (default 24h)
	Downloads int    `json:"downloads"` // 0 or absent: no limit
	Revoke    string `json:"revoke"`
}

func (a *API) post(w http.ResponseWriter, r *http.Request, user string) {
	var req request
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body := http.MaxBytesReader(w, r.Body, 16<<10)
	switch ct {
	case "application/json":
		data, err := io.ReadAll(body)
		if err == nil {
			err = json.Unmarshal(data, &req)
		}
		if err != nil {
			httperr.Write(w, r, http.StatusBadRequest, "the body is not a JSON object of path, expires and downloads")
			return
		}
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseForm(); err != nil {
			httperr.Write(w, r, http.StatusBadRequest, "unreadable form")
			return
		}
		req.Path, req.Expires, req.Revoke = r.PostForm.Get("path"), r.PostForm.Get("expires"), r.PostForm.Get("revoke")
		if d := strings.TrimSpace(r.PostForm.Get("downloads")); d != "" {
			n, err := strconv.Atoi(d)
			if err != nil {
				httperr.Write(w, r, http.StatusBadRequest, "downloads must be a number")
				return
			}
			req.Downloads = n
		}
	default:
		httperr.Write(w, r, http.StatusUnsupportedMediaType, "send JSON or a form")
		return
	}
	if req.Revoke != "" {
		if err := a.Links.Revoke(r.Context(), user, req.Revoke); err != nil {
			a.fail(w, r, err)
			return
		}
		// The status page's form: back to it.
		w.Header().Set("Location", "status")
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	ttl := 24 * time.Hour
	if req.Expires != "" {
		d, err := time.ParseDuration(req.Expires)
		if err != nil {
			httperr.Write(w, r, http.StatusBadRequest, "expires must be a duration such as 1h, 24h or 168h")
			return
		}
		ttl = d
	}
	p, status, msg := a.target(r, req.Path)
	if status != 0 {
		httperr.Write(w, r, status, msg)
		return
	}
	l, err := a.Links.Create(r.Context(), user, p, ttl, req.Downloads)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if a.Logger != nil {
		a.Logger.Info("share link made", "user", user, "path", p, "expires", l.Expires, "downloads", l.Downloads)
	}
	writeJSON(w, r, http.StatusCreated, Show(r, l))
}

// target checks the entry a link is asked for: a path that parses, that
// the client may read, and that exists as what its spelling says (a
// trailing slash for a folder).
func (a *API) target(r *http.Request, p string) (string, int, string) {
	if p == "" || !strings.HasPrefix(p, "/") {
		return "", http.StatusBadRequest, "path must be the entry's path from the top, such as /docs/ or /a.txt"
	}
	name, dir, err := rootfs.ParseURLPath((&url.URL{Path: p}).EscapedPath())
	if err != nil || name == rootfs.Reserved || strings.HasPrefix(name, rootfs.Reserved+"/") {
		return "", http.StatusBadRequest, "invalid path"
	}
	clean := "/"
	if name != "." {
		clean = "/" + name
		if dir {
			clean += "/"
		}
	}
	if !a.Reads(r, clean) {
		return "", http.StatusForbidden, "you may not read " + clean
	}
	info, err := a.Tree.Stat(r.Context(), name)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, storage.ErrNotDir) {
		return "", http.StatusNotFound, "no such file or folder"
	}
	if err != nil {
		return "", http.StatusServiceUnavailable, "the store is not answering; try again later"
	}
	if info.IsDir != (dir || name == ".") {
		if info.IsDir {
			return "", http.StatusBadRequest, "a folder's path ends in /"
		}
		return "", http.StatusBadRequest, "a file's path does not end in /"
	}
	return clean, 0, ""
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrNotOwner):
		httperr.Write(w, r, http.StatusNotFound, "no share link of yours by that id")
	case errors.Is(err, ErrTooMany):
		httperr.Write(w, r, http.StatusTooManyRequests, err.Error())
	case errors.Is(err, storage.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		httperr.Note(w, httperr.CauseStorage)
		httperr.Write(w, r, http.StatusServiceUnavailable, "the store is not answering; try again later")
	default:
		var ie *InputError
		if errors.As(err, &ie) {
			httperr.Write(w, r, http.StatusBadRequest, ie.Msg)
			return
		}
		// No secret (an unwritable configuration folder), a store that
		// refuses writes: the operator learns why from the log.
		if a.Logger != nil {
			a.Logger.Warn("share links", "err", err)
		}
		httperr.Write(w, r, http.StatusServiceUnavailable, "share links are not available on this server now")
	}
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	data, _ := json.MarshalIndent(v, "", "  ")
	data = append(data, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}
