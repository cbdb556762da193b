package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/ferry-sh/ferry/internal/config"
)

// TestSpecDocumentsEveryFlag fails when a flag of the file server, echo or
// time is missing from docs/SPEC.md, the contract users read: flags added
// since (--cgi-dir, -d, --http3, --log-file...) went undocumented there.
func TestSpecDocumentsEveryFlag(t *testing.T) {
	spec, err := os.ReadFile("../../docs/SPEC.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(spec)
	serve, echo, tm := config.DefaultServe(), config.DefaultEcho(), config.DefaultTime()
	sets := map[string]*pflag.FlagSet{}
	for name, define := range map[string]func(*pflag.FlagSet){
		"ferry":      func(fs *pflag.FlagSet) { defineServe(fs, &serve) },
		"ferry echo": func(fs *pflag.FlagSet) { defineEcho(fs, &echo) },
		"ferry time": func(fs *pflag.FlagSet) { defineTime(fs, &tm) },
	} {
		sets[name] = pflag.NewFlagSet(name, pflag.ContinueOnError)
		define(sets[name])
	}
	for cmd, f := range sets {
		f.VisitAll(func(f *pflag.Flag) {
			if !strings.Contains(doc, "--"+f.Name+"`") && !strings.Contains(doc, "--"+f.Name+" ") {
				t.Errorf("docs/SPEC.md does not document %s --%s (%s)", cmd, f.Name, f.Usage)
			}
			if f.Shorthand != "" && !strings.Contains(doc, "`-"+f.Shorthand+", --"+f.Name) {
				t.Errorf("docs/SPEC.md does not give -%s as the short form of --%s", f.Shorthand, f.Name)
			}
		})
	}
}
