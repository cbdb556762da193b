// Package logfile is the --log-file writer: appends to a file and reopens
// it on demand (SIGHUP), so that logrotate can move the file away and ferry
// goes on in a new one at the same path.
package logfile

import (
	"os"
	"sync"
)

// File appends to the file at a path. Safe for concurrent use.
type File struct {
	path string

	mu sync.Mutex
	f  *os.File
}

// Open opens (creating it, mode 0640) the file at path for appending.
func Open(path string) (*File, error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	return &File{path: path, f: f}, nil
}

func open(path string) (*os.File, error) {
	// O_APPEND: each line lands whole at the end, even with another
	// writer (a second ferry) on the same file.
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
}

// Path is the file's path as given.
func (l *File) Path() string { return l.path }

// Write appends p to the file.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}

// Reopen opens the path anew and from then on writes there; the old file
// is closed. On error the old file stays in use.
func (l *File) Reopen() error {
	f, err := open(l.path)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	return old.Close()
}

// Close closes the file.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}
