package manpage

import (
	"bytes"
	"os"
	"strings"
	"testing"
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
	for _, want := range []string{".TH \"FERRY\" \"1\"", ".SH OPTIONS", "--upload", ".SS ferry echo", "--max-body", ".SS ferry time", "--idle-timeout",
		".SS ferry completion SHELL", ".SH ENVIRONMENT", "FERRY_"} {
		if !strings.Contains(page, want) {
			t.Errorf("ferry.1 lacks %q", want)
		}
	}
}
