package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestAuditExport: operator commands that change clients are recorded in
// the audit trail, and "audit export" writes it as FHIR AuditEvent
// resources, one a line, filtered by type (issue 12 item 6).
func TestAuditExport(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, nil, &out, io.Discard)
		return out.String(), err
	}
	for _, args := range [][]string{
		{"client", "add", "--data", data, "--id", "clinic", "--type", "confidential-symmetric", "--redirect-uri", "https://clinic.example/cb"},
		{"client", "rotate-secret", "--data", data, "--id", "clinic"},
		{"client", "update", "--data", data, "--id", "clinic", "--name", "Clinic"},
		{"client", "remove", "--data", data, "--id", "clinic"},
	} {
		if _, err := cli(args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	type event struct{ subtype, client, detail, action string }
	export := func(args ...string) []event {
		t.Helper()
		out, err := cli(append([]string{"audit", "export", "--data", data, "--base-url", "https://smart.example.org"}, args...)...)
		if err != nil {
			t.Fatalf("audit export %v: %v", args, err)
		}
		var evs []event
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var ae struct {
				ResourceType string
				Action       string
				Subtype      []struct{ Code string }
				Agent        []struct {
					Who struct {
						Identifier struct{ System, Value string }
					}
				}
				Entity []struct {
					Detail []struct{ ValueString string }
				}
			}
			if err := json.Unmarshal(sc.Bytes(), &ae); err != nil || ae.ResourceType != "AuditEvent" {
				t.Fatalf("line %q: %v, want an AuditEvent", sc.Text(), err)
			}
			if len(ae.Agent) != 1 || ae.Agent[0].Who.Identifier.System != "https://smart.example.org/clients" ||
				len(ae.Entity) != 1 || len(ae.Entity[0].Detail) != 1 {
				t.Fatalf("line %q: want one app agent and one entity detail", sc.Text())
			}
			evs = append(evs, event{ae.Subtype[0].Code, ae.Agent[0].Who.Identifier.Value, ae.Entity[0].Detail[0].ValueString, ae.Action})
		}
		return evs
	}
	want := []event{
		{"client.registered", "clinic", "cli", "C"},
		{"client.changed", "clinic", "secret_rotated", "U"},
		{"client.changed", "clinic", "updated", "U"},
		{"client.changed", "clinic", "removed", "U"},
	}
	if got := export(); !slices.Equal(got, want) {
		t.Errorf("export = %+v, want %+v", got, want)
	}
	if got := export("--type", "client.registered"); !slices.Equal(got, want[:1]) {
		t.Errorf("export --type client.registered = %+v, want %+v", got, want[:1])
	}
	if got := export("--since", "2999-01-01T00:00:00Z"); len(got) != 0 {
		t.Errorf("export --since the future = %+v, want nothing", got)
	}
	if _, err := cli("keys", "rotate", "--data", data); err != nil {
		t.Fatalf("keys rotate: %v", err)
	}
	out, err := cli("audit", "export", "--data", data, "--type", "keys.rotated")
	if err != nil || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"type":"kid","valueString":"`) {
		t.Errorf("export --type keys.rotated after keys rotate = %q (%v), want one event naming the new key ids", out, err)
	}
	if _, err := cli("audit", "export", "--data", data, "--since", "yesterday"); err == nil {
		t.Error("--since yesterday: no error")
	}
}
