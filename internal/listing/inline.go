package listing

import (
	"crypto/sha256"
	"encoding/base64"
)

// loaderJS starts the page's scripts. It is inline, allowed by its hash in
// PageCSP, rather than <script src> because mirroring tools fetch every src
// they find and would save ferry's scripts among the shared files; no such
// tool runs script. It holds no "<", which lftp's HTML scanner would read as
// the start of a tag. Insertion order with async off keeps tus.js before
// app.js. It links page.css too, the styles of what only the scripts show,
// so that they do not weigh on every listing.
const loaderJS = `(function () {
  var b = document.body, base = b.getAttribute('data-assets'), names = ['app.js'];
  var css = document.createElement('link');
  css.rel = 'stylesheet';
  css.href = base + 'page.css';
  document.head.appendChild(css);
  if (b.getAttribute('data-can-resume') === '1') names.unshift('tus.js');
  names.forEach(function (n) {
    var s = document.createElement('script');
    s.src = base + n;
    s.async = false;
    document.head.appendChild(s);
  });
})();`

// inlineAssets are what every listing carries in itself: the stylesheet, the
// icon as a data: URL, and the Content-Security-Policy that admits exactly
// them.
type inlineAssets struct {
	style, favicon, csp string
}

// inlined is computed once from the embedded files, which only change with the
// binary; nothing writes to it afterwards.
var inlined = func() inlineAssets {
	css, _ := assetFS.ReadFile("assets/" + AssetCSS)
	icon, _ := assetFS.ReadFile("assets/" + AssetFavicon)
	return inlineAssets{
		style:   string(css),
		favicon: "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(icon),
		csp: "default-src 'none'; script-src 'self' " + sourceHash(loaderJS) +
			"; style-src 'self' " + sourceHash(string(css)) +
			"; img-src 'self' data:; media-src 'self'; frame-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	}
}()

// sourceHash is the CSP source expression of an inline script or style
// (CSP Level 2 §4.2.4): its SHA-256 in base64.
func sourceHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// PageCSP is the Content-Security-Policy of ferry's HTML pages: scripts and
// styles from ferry's own origin, plus the listing's inline stylesheet and
// script loader by their hashes; nothing inline else, nothing from elsewhere.
func PageCSP() string { return inlined.csp }
