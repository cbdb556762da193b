package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseFile(t *testing.T) {
	got, err := ParseFile("f.toml", []byte(`# a comment
port = 8_080
bind = ["127.0.0.1", "::1"]
hidden = true
idle-exit = "90s"
"max-upload" = '1.5G'
rate = 1.5

[echo]
max-body = "1M"

[time]
idle-timeout = "5m"
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Setting{
		{"", "port", []string{"8080"}, false, 2},
		{"", "bind", []string{"127.0.0.1", "::1"}, true, 3},
		{"", "hidden", []string{"true"}, false, 4},
		{"", "idle-exit", []string{"90s"}, false, 5},
		{"", "max-upload", []string{"1.5G"}, false, 6},
		{"", "rate", []string{"1.5"}, false, 7},
		{"echo", "max-body", []string{"1M"}, false, 10},
		{"time", "idle-timeout", []string{"5m"}, false, 13},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseFile:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		line      int
		says      string
	}{
		{"syntax", "port = 1\nbind = \n", 2, "start of value"},
		{"twice", "port = 1\nport = 2\n", 2, "port"},
		{"unknown table", "port = 1\n\n[serve]\n", 3, "[serve]"},
		{"nested table", "[echo.tls]\n", 1, "[echo.tls]"},
		{"array table", "[[echo]]\n", 1, "[[echo]]"},
		{"dotted key", "a.b = 1\n", 1, `"a.b"`},
		{"inline table", "port = {a = 1}\n", 1, "table"},
		{"nested array", "bind = [[\"a\"]]\n", 1, "array inside an array"},
		{"date", "idle-exit = 1979-05-27\n", 1, "strings"},
		{"nan", "port = nan\n", 1, "not a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("f.toml", []byte(tc.doc))
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FileError", err)
			}
			if fe.Line != tc.line || !strings.Contains(fe.Msg, tc.says) || strings.Contains(err.Error(), "\n") ||
				!strings.HasPrefix(err.Error(), "f.toml:") {
				t.Errorf("err = %q (line %d), want line %d and %q, on one line", err, fe.Line, tc.line, tc.says)
			}
		})
	}
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte("port = 8000\nbind = [\"::1\"]\n[echo]\nmax-body = \"1M\"\n"))
	f.Add([]byte("a.b.c = [1, [2]]\n[[x]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		settings, err := ParseFile("f.toml", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error of more than one line: %q", err)
			}
			return
		}
		for _, s := range settings {
			if s.Line < 1 || s.Key == "" || (!s.Array && len(s.Values) != 1) {
				t.Errorf("setting %+v", s)
			}
		}
	})
}
