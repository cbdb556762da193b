package write

import (
	"bufio"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/ferry-sh/ferry/internal/digest"
	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/storage/policy"
	"github.com/ferry-sh/ferry/internal/transfer"
)

const (
	// maxField bounds a non-file form value ferry reads (mkdir=NAME).
	maxField = 4 << 10
	// maxForm bounds an urlencoded body: it only ever carries mkdir.
	maxForm = 64 << 10
	// framing is what a multipart body may carry besides file data
	// (boundaries, part headers, other fields) under --max-upload.
	framing = 1 << 20
)

// Post stores multipart file parts in the folder name, or makes a folder (mkdir=NAME).
func (h *Handler) Post(w http.ResponseWriter, r *http.Request, name string) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	fail := h.fail
	if mt == "multipart/form-data" {
		// Files: an upload, logged as refused or cut short when it fails.
		fail = h.failUpload
	}
	info, ok, err := h.exists(r.Context(), name)
	if err != nil || !ok {
		if err == nil {
			err = refuse(http.StatusNotFound, "no such folder")
		}
		fail(w, r, err)
		return
	}
	if !info.IsDir {
		fail(w, r, refuse(http.StatusConflict, "uploads go to a folder"))
		return
	}
	// A Content-Digest (RFC 9530) covers the whole body as sent, the
	// multipart framing included; as for PUT, nothing is named unless it
	// matches.
	wants, err := digest.FromRequest(r)
	if err != nil {
		fail(w, r, refuse(http.StatusBadRequest, "malformed Content-Digest or Repr-Digest"))
		return
	}
	var check *digest.Reader
	if len(wants) > 0 {
		check = digest.NewReader(r.Body, wants)
		r.Body = readCloser{check, r.Body}
	}
	var created []string
	switch mt {
	case "multipart/form-data":
		created, err = h.postMultipart(r, name, check)
		if err != nil {
			fail(w, r, err)
			return
		}
	case "application/x-www-form-urlencoded":
		created, err = h.postForm(r, name, check)
	default:
		err = refuse(http.StatusUnsupportedMediaType, "send multipart/form-data (files) or a mkdir form")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if httperr.WantsHTML(r) {
		// A browser form: back to the listing (POST/redirect/GET). The
		// Location is relative so that it holds under any mount prefix.
		w.Header().Set("Location", folderLocation(r))
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	lines := make([]string, len(created))
	for i, c := range created {
		lines[i] = "created " + c
	}
	reply(w, http.StatusCreated, lines)
}

// folderLocation is the listing of the folder a request was posted to,
// relative to the request's URL.
func folderLocation(r *http.Request) string {
	p := r.URL.EscapedPath()
	if strings.HasSuffix(p, "/") {
		return "./"
	}
	return "./" + p[strings.LastIndexByte(p, '/')+1:] + "/"
}

// postForm handles the urlencoded new-folder form.
func (h *Handler) postForm(r *http.Request, dir string, check *digest.Reader) ([]string, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxForm+1))
	if err != nil {
		return nil, errBodyCut
	}
	if len(b) > maxForm {
		return nil, refuse(http.StatusRequestEntityTooLarge, "form too large")
	}
	if err := verifyBody(r.Body, check); err != nil {
		return nil, err
	}
	q, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "malformed form")
	}
	if !q.Has("mkdir") {
		return nil, refuse(http.StatusBadRequest, "no mkdir field in the form")
	}
	names, err := h.mkdirNames(dir, q["mkdir"])
	if err != nil {
		return nil, err
	}
	t := h.newTxn()
	defer t.rollback()
	return t.mkdirs(r.Context(), names)
}

// mkdirNames validates the values of mkdir fields: each a single name.
func (h *Handler) mkdirNames(dir string, vals []string) ([]string, error) {
	var out []string
	for _, v := range vals {
		v = strings.TrimSpace(v)
		if err := (policy.Rules{Hidden: h.opts.Hidden}).ValidateName(v); err != nil {
			return nil, err
		}
		full := path.Join(dir, v)
		if err := reserved(full); err != nil {
			return nil, err
		}
		out = append(out, full)
	}
	return out, nil
}

// mkdirs makes the folders of mkdir fields and commits.
func (t *txn) mkdirs(ctx context.Context, names []string) ([]string, error) {
	var created []string
	for _, n := range names {
		if err := t.h.needFolder(ctx, path.Dir(n), "the folder does not exist"); err != nil {
			return nil, err
		}
		if err := t.mkdir(ctx, n); err != nil {
			return nil, err
		}
		created = append(created, n+"/")
	}
	if _, err := t.publish(ctx); err != nil {
		return nil, err
	}
	return created, nil
}

// postMultipart streams a multipart/form-data body part by part: file
// parts into temporary files, mkdir fields noted; then names them all.
func (h *Handler) postMultipart(r *http.Request, dir string, check *digest.Reader) ([]string, error) {
	max := h.opts.MaxUpload
	body := r.Body
	if max > 0 {
		if r.ContentLength > max+framing {
			return nil, errTooLarge
		}
		body = io.NopCloser(&limitReader{r: r.Body, n: max + framing})
	}
	_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	boundary := params["boundary"]
	if boundary == "" {
		return nil, refuse(http.StatusBadRequest, "multipart/form-data without a boundary")
	}
	// multipart.Reader reads through a 4 KiB buffer; a larger one in front
	// of it saves most of the system calls of a big upload (a smaller one
	// when many uploads run at once, as for the copy buffer).
	size := smallBufSize
	if h.takeBig() {
		defer h.releaseBig()
		size = copyBufSize
	}
	mr := multipart.NewReader(bufio.NewReaderSize(body, size), boundary)
	// The transfer is shown from the first file on, under that file's
	// name; its size is the whole body's.
	tr := transfer.FromContext(r.Context())
	tr.Upload(r.URL.Path, 0, r.ContentLength)

	ctx := r.Context()
	if err := h.checkSpace(ctx, dir, r.ContentLength); err != nil {
		return nil, err
	}
	budget := &limitReader{n: max}
	t := h.newTxn()
	defer t.rollback()
	var mkdirVals, created, files []string
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, partErr(err)
		}
		rel, isFile, field, err := disposition(part)
		if err != nil {
			return nil, err
		}
		if !isFile {
			if field == "mkdir" {
				v, err := io.ReadAll(io.LimitReader(part, maxField+1))
				if err != nil {
					return nil, partErr(err)
				}
				if len(v) > maxField {
					return nil, refuse(http.StatusBadRequest, "mkdir value too long")
				}
				mkdirVals = append(mkdirVals, string(v))
			}
			continue
		}
		if rel == "" {
			// An empty file input: browsers send a part without data.
			continue
		}
		// Validate what the client sent, before path.Join would clean
		// "a//b" or "./x" into something acceptable.
		if err := (policy.Rules{Hidden: h.opts.Hidden}).ValidateRelPath(rel); err != nil {
			return nil, err
		}
		final := path.Join(dir, rel)
		if err := reserved(final); err != nil {
			return nil, err
		}
		if err := h.checkTarget(ctx, final); err != nil {
			return nil, err
		}
		if h.opts.Locked != nil {
			if status, msg := h.opts.Locked(r, final); status != 0 {
				return nil, refuse(status, msg)
			}
		}
		// The files before this one are complete.
		if err := t.seal(ctx); err != nil {
			return nil, err
		}
		if len(t.staged) == 0 {
			tr.Upload("/"+final, 0, r.ContentLength)
			tr.Describe(transfer.KindUpload, r.ContentLength)
		}
		var src io.Reader = part
		if max > 0 {
			budget.r = part
			src = budget
		}
		if err := t.stage(ctx, final, src, -1); err != nil {
			return nil, err
		}
		created = append(created, rel)
		files = append(files, final)
	}
	mkdirs, err := h.mkdirNames(dir, mkdirVals)
	if err != nil {
		return nil, err
	}
	if len(t.staged) == 0 && len(mkdirs) == 0 {
		return nil, refuse(http.StatusBadRequest, "no file in the form")
	}
	for _, n := range mkdirs {
		if err := t.mkdir(ctx, n); err != nil {
			return nil, err
		}
		created = append(created, strings.TrimPrefix(n, dir+"/")+"/")
	}
	if err := verifyBody(body, check); err != nil {
		return nil, err
	}
	if _, err := t.publish(ctx); err != nil {
		return nil, err
	}
	for _, f := range files {
		tr.Stored("/" + f)
	}
	return created, nil
}

// verifyBody reads what is left of a body (a multipart epilogue, within the
// size limit) and checks the whole of it against its announced digest.
func verifyBody(body io.Reader, check *digest.Reader) error {
	if check == nil {
		return nil
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		return partErr(err)
	}
	if check.Check() != nil {
		return refuse(http.StatusBadRequest, "the body does not match its Content-Digest or Repr-Digest: nothing was stored")
	}
	return nil
}

// readCloser reads through a checking reader and closes the body beneath.
type readCloser struct {
	io.Reader
	io.Closer
}

// partErr maps a failure to read the multipart stream.
func partErr(err error) error {
	switch {
	case errors.Is(err, errTooLarge):
		return errTooLarge
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errBodyCut
	}
	return refuse(http.StatusBadRequest, "malformed multipart/form-data body")
}

// disposition reads a part's Content-Disposition. The filename is taken as
// sent: Part.FileName would apply filepath.Base and turn the relative path
// of a folder upload ("photos/a.jpg") into a bare name, and would quietly
// accept "../../x" as "x". The caller validates every component instead.
func disposition(p *multipart.Part) (filename string, isFile bool, field string, err error) {
	v := p.Header.Get("Content-Disposition")
	if v == "" {
		return "", false, "", refuse(http.StatusBadRequest, "a part has no Content-Disposition")
	}
	d, params, perr := mime.ParseMediaType(v)
	if perr != nil || d != "form-data" {
		return "", false, "", refuse(http.StatusBadRequest, "malformed Content-Disposition")
	}
	filename, isFile = params["filename"]
	return filename, isFile, params["name"], nil
}
