package manpage

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ferry-sh/ferry/internal/cli"
)

// TestManPageCurrent fails when ferry.1 no longer matches the flags and
// commands it is generated from.
func TestManPageCurrent(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b); err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("../../../ferry.1")
	if err != nil || !bytes.Equal(have, b.Bytes()) {
		t.Fatalf("ferry.1 is stale (%v): regenerate it with 'go generate ./internal/cli/manpage' (or 'go run ./cmd/ferry-man -o ferry.1') and commit it", err)
	}
	page := b.String()
	for _, want := range []string{".TH FERRY 1", ".SH OPTIONS", `\fB\-\-upload\fR`, ".SS ferry echo", `\-\-max\-body`, ".SS ferry time", `\-\-idle\-timeout`,
		".SS ferry completion SHELL", ".SH ENVIRONMENT", "FERRY_"} {
		if !strings.Contains(page, want) {
			t.Errorf("ferry.1 lacks %q", want)
		}
	}
}

// TestManPageRenders reads ferry.1 as man shows it and finds every flag of
// every command there as --help names it ("-p, --port N"), and the
// variables' underscores (a Markdown step once printed FERRY_CONFIG as
// FERRYCONFIG).
func TestManPageRenders(t *testing.T) {
	man, err := exec.LookPath("man")
	if err != nil {
		if os.Getenv("FERRY_REQUIRE_TOOLS") == "1" {
			t.Fatal("man is not installed (apt-get install man-db) (FERRY_REQUIRE_TOOLS=1)")
		}
		t.Skip("man is not installed; apt-get install man-db to run this test")
	}
	cmd := exec.Command(man, "-l", "../../../ferry.1")
	cmd.Env = append(os.Environ(), "MANWIDTH=200", "MANPAGER=cat", "PAGER=cat", "LANG=C.UTF-8")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("man -l ferry.1: %v", err)
	}
	text := string(out)
	for _, want := range []string{"FERRY_CONFIG=FILE", "FERRY_* variables", "FERRY_<FLAG>", "ferry echo [flags]", "ferry time [flags]", "ferry hash-password [flags]"} {
		if !strings.Contains(text, want) {
			t.Errorf("man shows no %q", want)
		}
	}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			value, _ := pflag.UnquoteUsage(f)
			want := "--" + f.Name
			if f.Shorthand != "" {
				want = "-" + f.Shorthand + ", " + want
			}
			if value != "" {
				want += " " + value
			}
			if !strings.Contains(text, "\n       "+want+"\n") && !strings.Contains(text, "\n       "+want+" ") {
				t.Errorf("man shows no %q (of %s)", want, c.CommandPath())
			}
		})
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() && sub.Name() != "completion" {
				walk(sub)
			}
		}
	}
	walk(cli.Command())
}
