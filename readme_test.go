package ferry

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README is the first thing a new user follows; these are the ways it
// misled one (issue 11, item 20).
func TestReadme(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	module := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(mod), "\n", 2)[0], "module"))

	// The two commands stay first.
	if !strings.HasPrefix(readme, "# ferry\n\n```\ngo run ./cmd/ferry ") || !strings.Contains(readme[:200], "\ngo test ./...") {
		t.Errorf("the README no longer opens with the two commands:\n%.200s", readme)
	}
	// Every file it points at ships in the repository: a clone has nothing
	// outside it.
	for _, m := range regexp.MustCompile("(?:\\]\\(|`)((?:\\.\\./|docs/)[^)`\\s]*)").FindAllStringSubmatch(readme, -1) {
		if strings.HasPrefix(m[1], "../") {
			t.Errorf("the README points outside the repository: %s", m[1])
			continue
		}
		if _, err := os.Stat(m[1]); err != nil {
			t.Errorf("the README points at %s: %v", m[1], err)
		}
	}
	if _, err := os.Stat("docs/SPEC.md"); err != nil {
		t.Errorf("the contract is not in the repository: %v", err)
	}
	if want := "go install " + module + "/cmd/ferry@latest"; !strings.Contains(readme, want) {
		t.Errorf("no install instructions (%s)", want)
	}
	if !strings.Contains(readme, "every interface") {
		t.Error("the README does not say that ferry listens on every interface by default")
	}
	// A drop box lets people add files, not delete or replace others'.
	for _, line := range strings.Split(readme, "\n") {
		if strings.Contains(line, "drop box") && (strings.Contains(line, " -w ") || !strings.Contains(line, "--upload")) {
			t.Errorf("the drop box recipe gives more than uploads: %s", line)
		}
	}
}
