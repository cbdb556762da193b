package preview

import (
	"bytes"
	"html/template"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
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
)

// pageFit adapts a document to its place in a listing: its headings go two
// levels down (the page's <h1> is the folder, the README's own title is an
// <h2>), and images from other hosts become links to them, since the page's
// Content-Security-Policy would refuse to load them and a listing must not
// tell another server who is looking at it.
type pageFit struct{}

func (pageFit) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	var remote []*ast.Image
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			n.Level = min(n.Level+2, 6)
		case *ast.Image:
			if offSite(string(n.Destination)) {
				remote = append(remote, n)
			}
		}
		return ast.WalkContinue, nil
	})
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
