package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestConfigExample checks that 'ferry config example' names every key of
// every table and that, uncommented whole, it changes nothing.
func TestConfigExample(t *testing.T) {
	a := &app{env: func(string) (string, bool) { return "", false }}
	root := a.commands()
	var out bytes.Buffer
	writeExample(&out, root)
	uncommented := regexp.MustCompile(`(?m)^# ([a-z0-9-]+ = .*)$`).ReplaceAllString(out.String(), "$1")
	path := filepath.Join(t.TempDir(), "ferry.toml")
	if err := os.WriteFile(path, []byte(uncommented), 0o644); err != nil {
		t.Fatal(err)
	}
	for table, c := range tableCommands(root) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if fileKey(f.Name) && !strings.Contains(out.String(), "\n# "+f.Name+" = ") {
				t.Errorf("[%s] %s missing from the example", table, f.Name)
			}
		})
		if err := c.ParseFlags([]string{"--config", path}); err != nil {
			t.Fatal(err)
		}
		if err := a.settle(c, nil); err != nil {
			t.Fatalf("[%s]: the example, uncommented, fails: %v", table, err)
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if where, ok := a.from[f.Name]; fileKey(f.Name) && (!ok || !strings.HasPrefix(where, path+":")) {
				t.Errorf("[%s] %s not set by the file (from %q)", table, f.Name, where)
			}
			if fileKey(f.Name) && f.Value.String() != f.DefValue && !repeatable(f) {
				t.Errorf("[%s] %s = %q from the example, default %q", table, f.Name, f.Value, f.DefValue)
			}
		})
	}
}
