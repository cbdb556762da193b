package termview

import (
	"os"

	"golang.org/x/sys/unix"
)

// quietControls stops the terminal from echoing control characters as
// "^C" while the view draws: the echo lands where the view's cursor is,
// and the next redraw, which moves up from there without going back to
// the start of the line, leaves a garbled copy of a bar behind. Ctrl-C
// still stops ferry. The returned func restores the settings.
//
// Only a process in the terminal's foreground group may change them (a
// background one would be stopped by SIGTTOU), so elsewhere nothing
// changes.
func quietControls(f *os.File) func() {
	fd := int(f.Fd())
	pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || pgrp != unix.Getpgrp() {
		return func() {}
	}
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil || old.Lflag&unix.ECHOCTL == 0 {
		return func() {}
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHOCTL
	if unix.IoctlSetTermios(fd, unix.TCSETS, &quiet) != nil {
		return func() {}
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }
}
