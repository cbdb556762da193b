package fileserver

import (
	"net/http"
	"strings"

	"github.com/ferry-sh/ferry/internal/httperr"
	"github.com/ferry-sh/ferry/internal/listing"
	"github.com/ferry-sh/ferry/internal/search"
)

// serveSearch answers ?q=WORDS on a folder: the names below it that
// contain every word, as a listing (HTML or JSON) whose entries carry
// their paths.
func (s *Server) serveSearch(w http.ResponseWriter, r *http.Request, name, q string) {
	words, err := search.Words(q)
	if err != nil {
		httperr.Write(w, r, http.StatusBadRequest, "a search needs one word or more, in at most 256 bytes")
		return
	}
	lim := s.opts.Search
	def := search.DefaultLimits()
	if lim.Results <= 0 {
		lim.Results = def.Results
	}
	if lim.Folders <= 0 {
		lim.Folders = def.Folders
	}
	if lim.Budget <= 0 {
		lim.Budget = def.Budget
	}
	var keep func(string) bool
	if s.opts.Keep != nil {
		keep = s.opts.Keep(r)
	}
	if s.opts.Only != nil {
		inner := keep
		keep = func(n string) bool {
			top, _, _ := strings.Cut(n, "/")
			return s.opts.Only[top] && (inner == nil || inner(n))
		}
	}
	hits, limit, err := search.Walk(r.Context(), s.tree, name, words, lim, keep)
	if err != nil {
		httperr.FromFS(w, r, err)
		return
	}
	page := listing.Page{Path: "/", Can: s.opts.Can, Sort: listing.ParseSort(r.URL.Query()),
		Search: &listing.Search{Query: strings.Join(strings.Fields(q), " "), Limit: limit}, RootName: s.opts.RootName}
	if name != "." {
		page.Path = "/" + name + "/"
	}
	page.QR = s.opts.Links.PageURL(r, page.Path)
	page.Entries = make([]listing.Entry, 0, len(hits))
	for _, h := range hits {
		page.Entries = append(page.Entries, listing.Entry{Name: h.Name, IsDir: h.IsDir, Size: h.Size, ModTime: h.ModTime, Path: h.Path})
	}
	WritePage(w, r, &page)
}
