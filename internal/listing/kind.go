package listing

import "strings"

// Kinds are the values of the rows' data-kind attribute; the stylesheet draws
// an icon for each. They are computed here, from the name alone, so the page
// needs no script for icons and the server never opens the file to sniff it.
const (
	KindFolder  = "folder"
	KindImage   = "image"
	KindVideo   = "video"
	KindAudio   = "audio"
	KindArchive = "archive"
	KindCode    = "code"
	KindText    = "text"
	KindPDF     = "pdf"
	KindFile    = "file" // anything else
)

// kindByExt maps a lower-case extension (without the dot) to a kind. It is
// built once and only read afterwards, so sharing it between requests is safe.
var kindByExt = func() map[string]string {
	m := make(map[string]string)
	add := func(kind, exts string) {
		for _, e := range strings.Fields(exts) {
			m[e] = kind
		}
	}
	add(KindImage, "jpg jpeg jpe jfif png gif webp svg svgz bmp ico tif tiff heic heif avif jxl psd xcf raw cr2 cr3 nef arw dng orf")
	add(KindVideo, "mp4 m4v mkv webm mov avi wmv flv mpg mpeg m2ts mts 3gp ogv vob")
	add(KindAudio, "mp3 m4a aac flac wav ogg oga opus wma aif aiff mid midi ape alac")
	add(KindArchive, "zip tar gz tgz bz2 tbz tbz2 xz txz zst tzst lz lzma lz4 7z rar iso img dmg deb rpm apk jar war cab msi pkg")
	add(KindCode, "go c h cc cpp cxx hh hpp hxx cs java kt kts scala groovy gradle js mjs cjs ts tsx jsx vue svelte "+
		"py pyw rb rs php pl pm lua r swift m mm dart zig nim ex exs erl hrl hs ml mli clj cljs elm "+
		"sh bash zsh fish ps1 psm1 bat cmd sql html htm xhtml css scss sass less json jsonc json5 "+
		"yaml yml toml xml xsl proto graphql gql tf hcl nix asm s mk cmake makefile dockerfile ipynb wasm")
	add(KindText, "txt text md markdown mdx rst adoc asciidoc org tex log csv tsv ini cfg conf env properties "+
		"rtf nfo srt vtt sub doc docx odt epub pages")
	add(KindPDF, "pdf")
	return m
}()

// extensionless names that are well known enough to deserve an icon.
var kindByName = map[string]string{
	"makefile": KindCode, "dockerfile": KindCode, "containerfile": KindCode, "jenkinsfile": KindCode,
	"gemfile": KindCode, "rakefile": KindCode, "vagrantfile": KindCode, "procfile": KindCode,
	"readme": KindText, "license": KindText, "licence": KindText, "copying": KindText,
	"authors": KindText, "changelog": KindText, "notice": KindText, "todo": KindText,
}

// KindOf returns the data-kind of an entry. It allocates nothing for the
// usual short extensions, since it runs once per row.
func KindOf(e Entry) string {
	if e.IsDir {
		return KindFolder
	}
	name := e.Name
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		if len(name) <= 16 {
			if k, ok := lookupLower(kindByName, name); ok {
				return k
			}
		}
		return KindFile
	}
	ext := name[i+1:]
	if ext == "" || len(ext) > 16 {
		return KindFile
	}
	if k, ok := lookupLower(kindByExt, ext); ok {
		return k
	}
	return KindFile
}

// lookupLower looks s up in m after lower-casing ASCII letters (every key is
// ASCII). s is at most 16 bytes; the lookup with string(buf[:n]) does not
// allocate.
func lookupLower(m map[string]string, s string) (string, bool) {
	var buf [16]byte
	n := copy(buf[:], s)
	for j := range n {
		if 'A' <= buf[j] && buf[j] <= 'Z' {
			buf[j] += 'a' - 'A'
		}
	}
	k, ok := m[string(buf[:n])]
	return k, ok
}
