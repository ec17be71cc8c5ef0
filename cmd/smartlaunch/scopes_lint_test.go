package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartlaunch/smartlaunch/smart/scopelint"
)

func TestScopesLint(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    string // the whole output
		wantErr bool   // any warning fails, so app builds can run the command
	}{
		{
			name: "clean request passes",
			args: []string{"openid", "fhirUser", "launch/patient", "patient/Observation.rs"},
			want: "suggested: openid fhirUser launch/patient patient/Observation.rs\n",
		},
		{
			name: "info only passes (R-SCOPE-10)",
			args: []string{"launch/patient patient/Observation.r patient/Observation.s"},
			want: "info: mergeable: patient/Observation.r and patient/Observation.s can be asked for as patient/Observation.rs, " +
				"which grants the same; keep them apart only to let people allow one and not the other " +
				"(patient/Observation.r patient/Observation.s)\n" +
				"suggested: launch/patient patient/Observation.rs\n",
		},
		{
			name: "redundant and wildcard fail (R-SCOPE-21)",
			args: []string{"patient/Observation.rs", "patient/*.rs"},
			want: "warning: redundant: patient/Observation.rs is already granted by patient/*.rs (patient/Observation.rs patient/*.rs)\n" +
				"warning: broader-than-needed: patient/*.rs asks for every kind of data, including kinds added later; " +
				"list the types the app uses instead (patient/*.rs)\n" +
				"suggested: patient/*.rs\n",
			wantErr: true,
		},
		{
			name: "too many with --max",
			args: []string{"--max", "1", "patient/Observation.rs patient/Condition.rs"},
			want: "warning: too-many: even merged, the request has 2 scopes for data, more than the 1 a person can take in " +
				"on one consent screen; ask only for what the app uses (patient/Observation.rs patient/Condition.rs)\n" +
				"suggested: patient/Observation.rs patient/Condition.rs\n",
			wantErr: true,
		},
		{
			name: "nothing valid",
			args: []string{"patient/Observation.dus"},
			want: `warning: malformed: patient/Observation.dus is not a valid scope (permissions "dus" must be letters of cruds, ` +
				"each once, in that order), so the server refuses or ignores it (patient/Observation.dus)\n" +
				"suggested:\n",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"scopes", "lint"}, tt.args...), nil, &out, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error %v", err, tt.wantErr)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("output:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestScopesLintJSON(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"scopes", "lint", "--json", "patient/Condition.read patient/Condition.rs"}, nil, &out, io.Discard)
	if err == nil {
		t.Error("a redundant scope gave no error")
	}
	var got scopelint.Result
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("--json output %q: %v", out.String(), err)
	}
	want := scopelint.Result{
		Findings: []scopelint.Finding{{
			Kind:     scopelint.KindRedundant,
			Scopes:   []string{"patient/Condition.read", "patient/Condition.rs"},
			Message:  "patient/Condition.read asks for the same as patient/Condition.rs",
			Severity: scopelint.Warning,
		}},
		Suggested: []string{"patient/Condition.rs"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("--json result (-want +got):\n%s", diff)
	}
	for _, key := range []string{`"findings"`, `"kind"`, `"scopes"`, `"message"`, `"severity"`, `"suggested"`} {
		if !strings.Contains(out.String(), key) {
			t.Errorf("--json output lacks %s:\n%s", key, out.String())
		}
	}
}

func TestScopesLintUsage(t *testing.T) {
	for _, args := range [][]string{{"scopes", "lint"}, {"scopes", "lint", "--max", "0", "openid"}, {"scopes", "lint", "--bogus"}} {
		if err := run(context.Background(), args, nil, io.Discard, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
