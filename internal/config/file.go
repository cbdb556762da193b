package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Setting is one key of a config file, its value spelled as a flag takes
// it: Values has one element, or one per element of an array.
type Setting struct {
	Table  string // "" (the top level), "echo" or "time"
	Key    string
	Values []string
	Array  bool // the value was an array
	Line   int
}

// FileError is a config file that cannot be read as settings: its name,
// the line, and what is wrong.
type FileError struct {
	Name string
	Line int
	Msg  string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg)
	}
	return e.Name + ": " + e.Msg
}

// ParseFile reads a TOML config file (named name in messages) into its
// settings, in the file's order. Which keys exist is for the caller, who
// knows the flags; here every key is a simple name with a string, number,
// boolean or array of those as its value.
func ParseFile(name string, data []byte) ([]Setting, error) {
	// The decoder checks the whole document first (syntax, keys given
	// twice) and reports where it stopped.
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			return nil, &FileError{name, line, strings.TrimPrefix(de.Error(), "toml: ")}
		}
		return nil, &FileError{name, 0, err.Error()}
	}
	// The parser then gives each key in order, with its line.
	var p unstable.Parser
	p.Reset(data)
	var out []Setting
	table := ""
	for p.NextExpression() {
		e := p.Expression()
		var parts []string
		line := 0
		for it := e.Key(); it.Next(); {
			if line == 0 {
				line = p.Shape(it.Node().Raw).Start.Line
			}
			parts = append(parts, string(it.Node().Data))
		}
		key := strings.Join(parts, ".")
		switch e.Kind {
		case unstable.Table:
			if len(parts) != 1 || !knownTable(key) {
				return nil, &FileError{name, line, fmt.Sprintf("unknown table [%s]: use [echo] or [time], or none for the file server", key)}
			}
			table = key
			continue
		case unstable.ArrayTable:
			return nil, &FileError{name, line, fmt.Sprintf("unknown table [[%s]]", key)}
		case unstable.KeyValue:
		default:
			continue
		}
		if len(parts) != 1 || key == "" {
			return nil, &FileError{name, line, fmt.Sprintf("unknown key %q (keys are flag names, without dots)", key)}
		}
		raw := doc[key]
		if table != "" {
			sub, _ := doc[table].(map[string]any)
			raw = sub[key]
		}
		if raw == nil {
			return nil, &FileError{name, line, fmt.Sprintf("%s: no value", key)}
		}
		s := Setting{Table: table, Key: key, Line: line}
		if arr, ok := raw.([]any); ok {
			s.Array = true
			for _, v := range arr {
				text, err := scalar(v)
				if err != nil {
					return nil, &FileError{name, line, fmt.Sprintf("%s: %v", key, err)}
				}
				s.Values = append(s.Values, text)
			}
		} else {
			text, err := scalar(raw)
			if err != nil {
				return nil, &FileError{name, line, fmt.Sprintf("%s: %v", key, err)}
			}
			s.Values = []string{text}
		}
		out = append(out, s)
	}
	if err := p.Error(); err != nil {
		return nil, &FileError{name, 0, err.Error()}
	}
	return out, nil
}

// knownTable reports whether a config file may have this table: the top
// level holds the file server's keys, [echo] and [time] those of the two
// siblings.
func knownTable(name string) bool { return name == "echo" || name == "time" }

// scalar spells a TOML value as a flag would take it.
func scalar(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return "", errors.New("not a number ferry can use")
		}
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case []any:
		return "", errors.New("an array inside an array")
	case map[string]any:
		return "", errors.New("a table is no value here")
	default:
		return "", fmt.Errorf("a %T is no value here (durations and sizes are strings: \"90s\", \"500M\")", v)
	}
}
