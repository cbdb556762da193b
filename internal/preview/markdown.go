package preview

import (
	"bytes"
	"html/template"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdown renders CommonMark with GitHub's tables, strikethrough, task lists
// and autolinks. goldmark's HTML renderer is left in its safe mode: raw HTML
// (a <script>, an onerror attribute) is dropped, and links or images whose
// URL is javascript:, vbscript:, file: or a data: URL other than an image
// are written without it. Headings get no id, so none can collide with the
// page's own (#listing). The transformer below keeps the page's outline and
// its promise of no network at run time.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(pageFit{}, 100))),
	// Before GFM's own (500; the lower number wins), so that task boxes
	// are drawn by taskBox.
	goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(taskBox{}, 100))),
)

// taskBox draws a task list's box ("- [x] done") as GFM does, a disabled
// checkbox, but with a name, so that a screen reader says more than
// "checkbox" and axe finds it labelled.
type taskBox struct{}

func (taskBox) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(east.KindTaskCheckBox, func(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			if n.(*east.TaskCheckBox).IsChecked {
				w.WriteString(`<input type="checkbox" checked disabled aria-label="done"> `)
			} else {
				w.WriteString(`<input type="checkbox" disabled aria-label="to do"> `)
			}
		}
		return ast.WalkContinue, nil
	})
}

// pageFit adapts a document to its place in a page: its headings move so
// that its highest is an <h3> (the page's <h1> is the folder, the README's
// or the viewer's title an <h2>), and images from other hosts become links
// to them, since the page's Content-Security-Policy would refuse to load
// them and a listing must not tell another server who is looking at it.
type pageFit struct{}

func (pageFit) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	var remote []*ast.Image
	var headings []*ast.Heading
	top := 6
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			headings = append(headings, n)
			top = min(top, n.Level)
		case *ast.Image:
			if offSite(string(n.Destination)) {
				remote = append(remote, n)
			}
		}
		return ast.WalkContinue, nil
	})
	for _, h := range headings {
		h.Level = min(h.Level+3-top, 6)
	}
	for _, img := range remote {
		link := ast.NewLink()
		link.Destination = img.Destination
		link.Title = img.Title
		for c := img.FirstChild(); c != nil; {
			next := c.NextSibling()
			link.AppendChild(link, c)
			c = next
		}
		if !link.HasChildren() {
			link.AppendChild(link, ast.NewString(img.Destination))
		}
		img.Parent().ReplaceChild(img.Parent(), img, link)
	}
}

// offSite reports whether a URL leaves this server: it has a scheme other
// than data:, or starts with "//".
func offSite(u string) bool {
	u = strings.TrimSpace(u)
	if strings.HasPrefix(u, "//") {
		return true
	}
	i := strings.IndexAny(u, ":/?#")
	return i > 0 && u[i] == ':' && !strings.EqualFold(u[:i], "data")
}

// RenderMarkdown renders Markdown source as an HTML fragment that is safe
// to put in one of ferry's pages.
func RenderMarkdown(src []byte) (template.HTML, error) {
	var buf bytes.Buffer
	buf.Grow(len(src) + len(src)/4)
	if err := markdown.Convert(src, &buf); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}

// renderPlain shows a plain-text file (a README without extension) as it
// is: preformatted and escaped.
func renderPlain(src []byte) template.HTML {
	var b strings.Builder
	b.WriteString(`<pre class="plain">`)
	template.HTMLEscape(&b, bytes.ToValidUTF8(src, []byte("\uFFFD")))
	b.WriteString("</pre>")
	return template.HTML(b.String())
}
