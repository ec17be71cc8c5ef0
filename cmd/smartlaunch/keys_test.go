package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeysRotate: "keys rotate" adds a key of each algorithm, which "keys
// list" shows as the signing ones, while a running server keeps accepting
// the tokens it signed before.
func TestKeysRotate(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	base, stop := startServe(t, data)
	defer stop()
	tok := launch(t, base)
	list := func() []string {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"keys", "list", "--data", data}, nil, &out, io.Discard); err != nil {
			t.Fatalf("keys list: %v", err)
		}
		return strings.Split(strings.TrimSpace(out.String()), "\n")[1:]
	}
	before := list()
	if len(before) != 2 || strings.Count(strings.Join(before, "\n"), "yes") != 2 {
		t.Fatalf("keys before the rotation:\n%s", strings.Join(before, "\n"))
	}
	if err := run(context.Background(), []string{"keys", "rotate", "--data", data}, nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("keys rotate: %v", err)
	}
	after := list()
	if len(after) != 4 || strings.HasSuffix(after[0], "yes") || strings.HasSuffix(after[1], "yes") ||
		!strings.HasSuffix(after[2], "yes") || !strings.HasSuffix(after[3], "yes") {
		t.Errorf("keys after the rotation (old first, the new ones signing):\n%s", strings.Join(after, "\n"))
	}
	if got := fhirStatus(t, base, tok.AccessToken); got != http.StatusOK {
		t.Errorf("a token signed before the rotation: %d, want 200", got)
	}
}
