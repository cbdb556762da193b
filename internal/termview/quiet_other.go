//go:build !linux

package termview

import "os"

// quietControls changes nothing here: a "^C" echoed by the terminal may
// leave a garbled line above the summary.
func quietControls(*os.File) func() { return func() {} }
