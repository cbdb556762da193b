package sharelink

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// MinSecret is the shortest secret accepted, in bytes.
const MinSecret = 16

// SecretFile returns a loader of the secret kept in file: read on first
// use, or, when the file does not exist, made (32 random bytes as hex, mode
// 0600, its folder 0700 if missing). Rotating the secret is replacing the
// file and restarting: every link made before stops working. Several nodes
// sharing a store share links when they are given the same file.
func SecretFile(file string) func() ([]byte, error) {
	return sync.OnceValues(func() ([]byte, error) {
		b, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
				return nil, fmt.Errorf("share links: %w", err)
			}
			var raw [32]byte
			rand.Read(raw[:])
			fresh := []byte(hex.EncodeToString(raw[:]) + "\n")
			f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err == nil {
				_, err = f.Write(fresh)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					os.Remove(file)
					return nil, fmt.Errorf("share links: %w", err)
				}
				return bytes.TrimSpace(fresh), nil
			}
			if !errors.Is(err, fs.ErrExist) {
				return nil, fmt.Errorf("share links: %w", err)
			}
			// Another process made it meanwhile: use theirs.
			b, err = os.ReadFile(file)
		}
		if err != nil {
			return nil, fmt.Errorf("share links: %w", err)
		}
		b = bytes.TrimSpace(b)
		if len(b) < MinSecret {
			return nil, fmt.Errorf("share links: the secret in %s is shorter than %d bytes", file, MinSecret)
		}
		return b, nil
	})
}

// DefaultSecretFile is where the command line keeps the secret unless
// told otherwise: ferry/share-secret in the user's configuration folder.
func DefaultSecretFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "ferry", "share-secret"), nil
}
