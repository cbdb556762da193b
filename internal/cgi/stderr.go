package cgi

import (
	"bytes"
	"log/slog"
	"sync"
)

// maxStderrLine is the longest stderr line logged as one record; a longer
// one is logged in pieces, so a script cannot make ferry hold unbounded
// memory by never writing a newline.
const maxStderrLine = 4 << 10

// lineLogger turns a script's stderr into one Warn record per line, tagged
// with the script (through the logger's attributes). The access-log handler
// escapes control characters, so a script cannot forge log lines.
type lineLogger struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxStderrLine - len(l.buf)
			if len(p) < room {
				l.buf = append(l.buf, p...)
				return n, nil
			}
			l.buf = append(l.buf, p[:room]...)
			p = p[room:]
			l.emit()
			continue
		}
		l.buf = append(l.buf, p[:i]...)
		p = p[i+1:]
		l.emit()
	}
	return n, nil
}

// Close logs an unfinished last line.
func (l *lineLogger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit()
	}
	return nil
}

func (l *lineLogger) emit() {
	line := bytes.TrimSuffix(l.buf, []byte("\r"))
	l.log.Warn("cgi stderr", "line", string(line))
	l.buf = l.buf[:0]
}
