package cli

import (
	"fmt"
	"io"

	"github.com/ferry-sh/ferry/internal/qrcode"
)

// printQR shows the best URL (the first the banner lists: a non-loopback
// address when there is one) as a QR code, for a phone to scan.
func printQR(w io.Writer, urls []string) {
	if len(urls) == 0 {
		return
	}
	fmt.Fprintf(w, "scan to open %s\n", urls[0])
	qrcode.Terminal(w, urls[0])
}
