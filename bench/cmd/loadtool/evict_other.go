//go:build !linux

package main

import "errors"

func evict(args []string) error {
	return errors.New("evict: needs Linux (fadvise, mincore)")
}
