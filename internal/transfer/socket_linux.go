package transfer

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// socketInfo: Linux tells how much of what was written the peer acknowledged.
const socketInfo = true

// tcpClose is TCP_CLOSE in tcp_info's state: reset, or closed on both sides.
const tcpClose = 7

var errShortInfo = errors.New("transfer: kernel's tcp_info lacks tcpi_bytes_acked")

// outq is SIOCOUTQ: bytes written to the socket and not yet acknowledged.
func outq(fd int) (int64, error) {
	n, err := unix.IoctlGetInt(fd, unix.SIOCOUTQ)
	return int64(n), err
}

// probeFD reads TCP_INFO for the bytes acknowledged (Linux 4.1 and later)
// and the state, and SIOCOUTQ for the bytes still queued.
func probeFD(fd int) (wire, error) {
	var info unix.TCPInfo
	size := uint32(unsafe.Sizeof(info))
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&info)), uintptr(unsafe.Pointer(&size)), 0)
	if errno != 0 {
		return wire{}, errno
	}
	if uintptr(size) < unsafe.Offsetof(info.Bytes_acked)+unsafe.Sizeof(info.Bytes_acked) {
		return wire{}, errShortInfo
	}
	q, err := outq(fd)
	if err != nil {
		return wire{}, err
	}
	return wire{acked: int64(info.Bytes_acked), queued: q, closed: info.State == tcpClose}, nil
}

func dupFD(fd int) (int, error) { return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) }

func closeFD(fd int) { unix.Close(fd) }
