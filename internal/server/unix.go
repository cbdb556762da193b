package server

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// UnixPrefix marks a --bind value that names a Unix socket ("unix:/run/ferry.sock"),
// the usual way to sit behind a reverse proxy on the same machine.
const UnixPrefix = "unix:"

// UnixPath returns the socket path of a unix: bind, and whether it is one.
func UnixPath(bind string) (string, bool) {
	return strings.CutPrefix(bind, UnixPrefix)
}

// splitUnix separates Unix socket binds from address binds.
func splitUnix(binds []string) (tcp, unix []string) {
	for _, b := range binds {
		if p, ok := UnixPath(b); ok {
			unix = append(unix, p)
		} else {
			tcp = append(tcp, b)
		}
	}
	return tcp, unix
}

// socketMode lets the owner and the group (the proxy's, once the operator
// puts it there) connect, and nobody else.
const socketMode = 0o660

// ListenUnix opens a Unix socket at path with mode 0660. A socket file left
// by a ferry that died (nothing accepts on it) is replaced; one a live
// server listens on is refused, as is any other kind of file. Closing the
// listener removes the socket file.
func ListenUnix(path string) (net.Listener, error) {
	if st, err := os.Lstat(path); err == nil {
		if st.Mode().Type() != fs.ModeSocket {
			return nil, errors.New("a file that is not a socket is in the way")
		}
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return nil, errors.New("another server is listening on it")
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, err
		}
		// Stale: nobody accepts on it any more.
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return nil, err
	}
	// bind(2) applies the umask; the mode is set at once, before the
	// banner announces the socket.
	if err := os.Chmod(path, socketMode); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// IsUnix reports whether ln listens on a Unix socket.
func IsUnix(ln net.Listener) bool { return ln.Addr().Network() == "unix" }
