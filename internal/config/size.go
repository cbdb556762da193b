// Package config holds the plain parsing and validation of option values
// shared by the command line and the library; no I/O.
package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// ParseSize reads a byte size: a whole or decimal number with an optional
// K, M, G or T suffix (powers of 1024; "KB", "KiB" and lower case accepted).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New("empty size")
	}
	t = strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(t), "B"), "I")
	mult := float64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult != 1 {
			t = t[:n-1]
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("invalid size " + strconv.Quote(s) + " (use a number with K, M or G)")
	}
	v := f * mult
	if v >= math.MaxInt64 {
		return 0, errors.New("size " + strconv.Quote(s) + " is too large")
	}
	return int64(v), nil
}

// Size is a byte size as given ("500M"), and its value. The zero Size is
// unset. It is a pflag.Value, so that a bad size is refused where it is
// given (command line, FERRY_* variable or config file).
type Size struct {
	Bytes int64
	text  string
}

// Set parses a size; "" unsets it.
func (s *Size) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		*s = Size{}
		return nil
	}
	n, err := ParseSize(v)
	if err != nil {
		return err
	}
	*s = Size{Bytes: n, text: v}
	return nil
}

// String is the size as given.
func (s Size) String() string { return s.text }

// IsSet reports whether a size was given.
func (s Size) IsSet() bool { return s.text != "" }

// Type names the kind of value in messages.
func (*Size) Type() string { return "size" }
