package rootfs

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// direntBufs hold getdents buffers between listings. 64 KiB takes a
// 10,000-entry folder in 5 calls rather than the 40 of os.File's 8 KiB.
var direntBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// readDir reads the folder with getdents and stats each listed name with
// fstatat relative to the folder's descriptor. Compared with os.File.ReadDir
// it allocates one string per listed entry and nothing else (no DirEntry, no
// FileInfo), and never stats the names the policy hides. The stat itself is
// the same one syscall per entry: Linux has no other way to learn sizes and
// times, and that syscall is most of a big listing's cost.
//
// The descriptor is used through SyscallConn rather than Fd, which would put
// the file in blocking mode for the rest of its life; Control also keeps the
// descriptor from being closed and reused while the loop runs.
func (f *FS) readDir(dir *os.File, name string) ([]Entry, error) {
	rc, err := dir.SyscallConn()
	if err != nil {
		return f.readDirPortable(dir, name)
	}
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	var out []Entry
	var rerr error
	if err := rc.Control(func(fd uintptr) {
		out, rerr = f.readDirFd(int(fd), name, *bp)
	}); err != nil {
		return nil, err
	}
	return out, rerr
}

// Offsets in struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16,
// d_type u8, then the NUL-terminated name.
const (
	direntReclen = 16
	direntName   = 19
)

func (f *FS) readDirFd(fd int, dirName string, buf []byte) ([]Entry, error) {
	var out []Entry
	var st unix.Stat_t
	// The folder's own size says roughly how many entries it holds (ext4
	// spends at least 24 bytes on a short name, tmpfs counts 20 per
	// entry), so the slice is allocated once rather than doubled a dozen
	// times for a big folder; a guess too high is bounded.
	if unix.Fstat(fd, &st) == nil && st.Size > 24*64 {
		out = make([]Entry, 0, min(st.Size/24, 16<<10))
	}
	err := f.eachName(fd, dirName, buf, func(nm string) error {
		var err error
		for {
			err = unix.Fstatat(fd, nm, &st, unix.AT_SYMLINK_NOFOLLOW)
			if err != unix.EINTR {
				break
			}
		}
		if err != nil {
			if err == unix.ENOENT {
				return nil // deleted since getdents
			}
			return &fs.PathError{Op: "fstatat", Path: nm, Err: err}
		}
		e := Entry{Name: nm}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			e.Size = st.Size
		case unix.S_IFDIR:
			e.IsDir = true
		case unix.S_IFLNK:
			if e, ok := f.symlinkEntry(dirName, nm); ok {
				out = append(out, e)
			}
			return nil
		default:
			return nil // FIFOs, devices, sockets
		}
		// As os.Stat does, so the times are the same as before.
		e.ModTime = time.Unix(st.Mtim.Unix())
		out = append(out, e)
		return nil
	})
	return out, err
}

// eachName calls fn with every name of the folder open as fd but "." and
// "..", in the order getdents gives them, until fn returns an error.
func (f *FS) eachName(fd int, dirName string, buf []byte, fn func(name string) error) error {
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "readdirent", Path: dirName, Err: err}
		}
		if n <= 0 {
			return nil
		}
		for rec := buf[:n]; len(rec) >= direntName; {
			reclen := int(binary.NativeEndian.Uint16(rec[direntReclen:]))
			if reclen < direntName || reclen > len(rec) {
				break
			}
			nb := rec[direntName:reclen]
			rec = rec[reclen:]
			if i := bytes.IndexByte(nb, 0); i >= 0 {
				nb = nb[:i]
			}
			// "." and ".." are dropped before any allocation or syscall.
			if len(nb) == 0 || nb[0] == '.' && (len(nb) == 1 || len(nb) == 2 && nb[1] == '.') {
				continue
			}
			if err := fn(string(nb)); err != nil {
				return err
			}
		}
	}
}

// readNames is ReadNames on the descriptor, as readDir is ReadDir.
func (f *FS) readNames(dir *os.File, name string) ([]string, error) {
	rc, err := dir.SyscallConn()
	if err != nil {
		return f.readNamesPortable(dir)
	}
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	var out []string
	var rerr error
	if err := rc.Control(func(fd uintptr) {
		rerr = f.eachName(int(fd), name, *bp, func(nm string) error {
			out = append(out, nm)
			return nil
		})
	}); err != nil {
		return nil, err
	}
	return out, rerr
}

// openIn opens a member of the folder open as dir with one openat relative
// to its descriptor: no walk from the root, and O_NOFOLLOW so that the open
// cannot leave the folder. ok is false when that is not the whole answer
// (a symlink, which must be resolved under the policy, or an error other
// than absence); the caller then opens the member from the root.
func (f *FS) openIn(dir *os.File, member string) (file *os.File, ok bool, err error) {
	rc, err := dir.SyscallConn()
	if err != nil {
		return nil, false, nil
	}
	fd := -1
	var oerr error
	if err := rc.Control(func(dfd uintptr) {
		for {
			// O_NONBLOCK as in Open: a FIFO put there since the folder was
			// read must not hang the request.
			fd, oerr = unix.Openat(int(dfd), member, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if oerr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return nil, false, nil
	}
	switch {
	case oerr == nil:
		return os.NewFile(uintptr(fd), member), true, nil
	case oerr == unix.ENOENT:
		return nil, true, fs.ErrNotExist
	}
	return nil, false, nil
}
