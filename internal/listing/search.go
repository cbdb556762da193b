package listing

import (
	"bufio"
	"strconv"
	"strings"
)

// searchNote says how many names a search found and, when a bound stopped
// it, that there may be more.
func searchNote(n int, s *Search) string {
	var b strings.Builder
	switch n {
	case 0:
		b.WriteString("No names match")
	case 1:
		b.WriteString("1 name matches")
	default:
		b.WriteString(strconv.Itoa(n) + " names match")
	}
	b.WriteString(" “" + s.Query + "”")
	switch s.Limit {
	case "results":
		b.WriteString(": the first " + strconv.Itoa(n) + " shown; narrow the search to see others")
	case "folders":
		b.WriteString(": the search stopped after visiting its limit of folders; search a subfolder to see more")
	case "time":
		b.WriteString(": the search ran out of time; search a subfolder to see more")
	default:
		b.WriteString(".")
	}
	return b.String()
}

// writeHits writes a search's results: one row per entry with its path
// below the page's folder as link and text. The rows carry no data-name,
// so the page's script offers none of its per-row actions (rename,
// delete), which act on names of this folder.
func writeHits(w *bufio.Writer, entries []Entry) error {
	for i := range entries {
		e := &entries[i]
		p := e.Path
		if p == "" {
			p = e.Name
		}
		if w.Available() < 16*len(p)+512 {
			if err := w.Flush(); err != nil {
				return err
			}
		}
		row := w.AvailableBuffer()
		row = append(row, `<tr class="hit" data-kind="`...)
		row = append(row, KindOf(*e)...)
		row = append(row, `"><td class="n"><a href="`...)
		for j, seg := range strings.Split(p, "/") {
			if j > 0 {
				row = append(row, '/')
			}
			row = appendEntryHref(row, seg, false)
		}
		if e.IsDir {
			row = append(row, '/')
		}
		row = append(row, `">`...)
		row = appendHTML(row, p)
		row = appendRowEnd(row, e)
		if _, err := w.Write(row); err != nil {
			return err
		}
	}
	return nil
}
