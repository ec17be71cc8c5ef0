package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keysTable runs "keys list" on data and returns its rows, each split
// into its columns (KID ALGORITHM STATE SIGNS-FROM VERIFIES-UNTIL AT-REST).
func keysTable(t *testing.T, data string) [][]string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"keys", "list", "--data", data}, nil, &out, io.Discard); err != nil {
		t.Fatalf("keys list: %v", err)
	}
	var rows [][]string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n")[1:] {
		l = strings.Replace(l, "(not yet recorded)", "(not-yet-recorded)", 1)
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

// matchFrom reports whether the SIGNS-FROM values got match want: "never"
// for never, "t" for a time.
func matchFrom(got, want string) bool {
	g, w := strings.Fields(got), strings.Fields(want)
	if len(g) != len(w) {
		return false
	}
	for i := range g {
		if (w[i] == "never") != (g[i] == "never") {
			return false
		}
	}
	return true
}

// column returns column i of every row.
func column(rows [][]string, i int) string {
	var out []string
	for _, r := range rows {
		out = append(out, r[i])
	}
	return strings.Join(out, " ")
}

// TestKeysRotate: "keys rotate" publishes a next key of each algorithm
// that signs a day later, once; "keys rotate --now" adds keys that sign at
// once, withdraws the next keys (retired, never signing) and the old ones
// retire; "keys list" shows each key's state. A running server keeps
// accepting the tokens it signed before.
func TestKeysRotate(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	base, stop := startServe(t, data)
	defer stop()
	tok := launch(t, base)
	rotate := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"keys", "rotate", "--data", data}, args...), nil, &out, io.Discard); err != nil {
			t.Fatalf("keys rotate %v: %v", args, err)
		}
		return out.String()
	}
	tests := []struct {
		name   string
		args   []string // of keys rotate; nil: none run
		states string   // the STATE column, oldest key first
		// from is the SIGNS-FROM column of the keys beyond the first two
		// ("never" for a withdrawn key, "t" for a time); "" for any.
		from string
	}{
		{"before", nil, "signing signing", ""},
		{"rotate", []string{}, "signing signing next next", "t t"},
		{"rotate again: the next keys stay", []string{}, "signing signing next next", "t t"},
		{"rotate --now", []string{"--now"}, "retiring retiring retired retired signing signing", "never never t t"},
	}
	for _, tt := range tests {
		if tt.args != nil {
			out := rotate(tt.args...)
			if !strings.Contains(out, "tokens signed with the old keys stay valid") {
				t.Errorf("%s: keys rotate printed %q", tt.name, out)
			}
		}
		rows := keysTable(t, data)
		if got := column(rows, 2); got != tt.states {
			t.Errorf("%s: states %q, want %q", tt.name, got, tt.states)
		}
		if got := column(rows[min(2, len(rows)):], 3); tt.from != "" && !matchFrom(got, tt.from) {
			t.Errorf("%s: SIGNS-FROM %q, want %q", tt.name, got, tt.from)
		}
		if got := column(rows, 5); strings.Contains(got, "encrypted") {
			t.Errorf("%s: keys encrypted without a secret: %s", tt.name, got)
		}
	}
	if got := fhirStatus(t, base, tok.AccessToken); got != http.StatusOK {
		t.Errorf("a token signed before the rotations: %d, want 200", got)
	}
}

// TestKeysEncryption: with a key-encryption secret, keys stored in the
// clear are encrypted and new ones are stored encrypted; commands without
// the secret, or with a wrong one, refuse the keys (serve does not start)
// and write nothing; serve with the secret, named by a configuration
// file's encryption_key_env, starts and signs.
func TestKeysEncryption(t *testing.T) {
	t.Setenv(keyEncryptionEnv, "") // restored after the test
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	right, wrong, short := filepath.Join(dir, "kek"), filepath.Join(dir, "wrong"), filepath.Join(dir, "short")
	for f, v := range map[string]string{right: strings.Repeat("k", 44) + "\n", wrong: strings.Repeat("w", 44), short: "s3cret"} {
		if err := os.WriteFile(f, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	rotate := func(args ...string) error {
		return run(ctx, append([]string{"keys", "rotate", "--data", data}, args...), nil, io.Discard, io.Discard)
	}
	if err := rotate("--now"); err != nil {
		t.Fatalf("keys rotate --now: %v", err)
	}
	if got := column(keysTable(t, data), 5); got != "plaintext plaintext plaintext plaintext" {
		t.Fatalf("at rest without a secret: %s", got)
	}
	if err := rotate("--key-encryption-key-file", right); err != nil {
		t.Fatalf("keys rotate with the secret: %v", err)
	}
	const sealed = "encrypted encrypted encrypted encrypted encrypted encrypted"
	if got := column(keysTable(t, data), 5); got != sealed {
		t.Fatalf("at rest after a rotation with the secret: %s", got)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no secret", []string{"--now"}, "no key-encryption secret is configured"},
		{"wrong secret", []string{"--now", "--key-encryption-key-file", wrong}, "does not open the stored signing keys"},
		{"short secret", []string{"--key-encryption-key-file", short}, "at least 32 bytes"},
		{"missing secret file", []string{"--key-encryption-key-file", filepath.Join(dir, "none")}, "no such file"},
	} {
		if err := rotate(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: keys rotate = %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	if n := len(keysTable(t, data)); n != 6 {
		t.Errorf("%d keys after the refused rotations, want 6", n)
	}

	config := writeConfig(t, "version: 1\nkeys:\n  encryption_key_env: MY_KEK\n")
	t.Setenv("MY_KEK", strings.Repeat("w", 44))
	err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--config", config}, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "does not open the stored signing keys") {
		t.Fatalf("serve with a wrong secret = %v, want a refusal", err)
	}
	os.Setenv(keyEncryptionEnv, "") // the config file set it; t.Setenv restores it
	t.Setenv("MY_KEK", strings.Repeat("k", 44))
	base, stop := startServe(t, data, "--config", config)
	defer stop()
	tok := launch(t, base)
	if got := fhirStatus(t, base, tok.AccessToken); got != http.StatusOK {
		t.Errorf("a token of the server with the secret: %d, want 200", got)
	}
	if n := len(getJSON(t, base+"/.well-known/jwks.json")["keys"].([]any)); n != 6 {
		t.Errorf("JWKS holds %d keys, want 6 (retiring, signing and next of each algorithm)", n)
	}
	if got := column(keysTable(t, data), 5); got != sealed {
		t.Errorf("at rest after serve: %s", got)
	}
}
