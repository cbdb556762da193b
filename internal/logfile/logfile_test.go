package logfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReopenAfterRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	os.WriteFile(path, []byte("earlier\n"), 0o644)
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Write([]byte("one\n"))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("two\n")) // still the old file, as logrotate expects until the signal
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("three\n"))
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if string(old) != "earlier\none\ntwo\n" || string(cur) != "three\n" {
		t.Errorf("rotated %q, current %q", old, cur)
	}
}
