package echo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"mime/multipart"
	"net/http/httptest"
	"testing"
	"unicode/utf8"
)

func FuzzBody(f *testing.F) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.SetBoundary("b0undary")
	mw.WriteField("name", "v")
	fw, _ := mw.CreateFormFile("f", "a.txt")
	fw.Write([]byte("abc"))
	mw.Close()
	multi := mw.FormDataContentType()

	f.Add(multi, buf.Bytes(), false)
	f.Add(multi, buf.Bytes()[:buf.Len()/2], false)
	f.Add(multi, buf.Bytes(), true)
	f.Add("multipart/form-data", []byte("--x\r\n\r\n--x--"), false)
	f.Add("multipart/form-data; boundary=b0undary", []byte("--b0undary\r\nContent-Disposition: form-data; name=\"\x1b\"; filename*=UTF-8''%e2%82%ac\r\n\r\n\x00\r\n--b0undary--\r\n"), false)
	f.Add("application/x-www-form-urlencoded", []byte("a=1&b=%zz&&c;d=%e2%82"), false)
	f.Add("application/x-www-form-urlencoded; charset=utf-8", []byte("=&=&a"), true)
	f.Add("text/plain", []byte("hello"), false)
	f.Add("", []byte{}, false)

	f.Fuzz(func(t *testing.T, contentType string, body []byte, limited bool) {
		opts := Options{}
		if limited {
			opts.MaxBody = 64
		}
		h := NewHandler(opts)
		for _, target := range []string{"/?format=json", "/"} {
			req := httptest.NewRequest("POST", target, bytes.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			over := limited && len(body) > 64
			switch {
			case rec.Code == 413 && over:
				continue
			case rec.Code != 200 || over:
				t.Fatalf("status %d for %d bytes (limited %v): %q", rec.Code, len(body), limited, rec.Body)
			}
			out := rec.Body.Bytes()
			if target == "/" {
				if !utf8.Valid(out) {
					t.Fatalf("text report is not UTF-8: %q", out)
				}
				for _, b := range out {
					if b < 0x20 && b != '\n' || b == 0x7f {
						t.Fatalf("raw control byte %#x in text report: %q", b, out)
					}
				}
				continue
			}
			var rep Report
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("bad JSON: %v: %s", err, out)
			}
			if rep.Body.Size != int64(len(body)) {
				t.Fatalf("size = %d, want %d", rep.Body.Size, len(body))
			}
			if rep.Body.Form == nil || rep.Body.Files == nil {
				t.Fatalf("null form or files: %s", out)
			}
			if sum := sha256.Sum256(body); rep.Body.SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("sha256 = %s, want %x", rep.Body.SHA256, sum)
			}
			if rep.Body.Text != nil && *rep.Body.Text != string(body) {
				t.Fatalf("text = %q, want the body %q", *rep.Body.Text, body)
			}
			if rep.Body.Text == nil && len(body) <= MaxText && isText(body) {
				t.Fatalf("text body %q not shown", body)
			}
		}
	})
}
