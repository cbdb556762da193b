//go:build !unix

package local

import "io/fs"

func fileID(fs.FileInfo) any { return nil }

func version(fs.FileInfo) (string, bool) { return "", false }
