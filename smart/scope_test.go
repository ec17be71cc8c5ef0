package smart

import (
	"errors"
	"slices"
	"testing"
)

func TestParseScope(t *testing.T) {
	tests := []struct {
		raw     string
		ctx     string
		typ     string
		perms   string
		v1      bool
		query   string
		wantErr bool
		notRes  bool
	}{
		{raw: "patient/Observation.rs", ctx: "patient", typ: "Observation", perms: "rs"},
		{raw: "user/*.cruds", ctx: "user", typ: "*", perms: "cruds"},
		{raw: "system/Patient.r", ctx: "system", typ: "Patient", perms: "r"},
		{raw: "patient/*.read", ctx: "patient", typ: "*", perms: "rs", v1: true}, // R-SCOPE-07
		{raw: "user/Observation.write", ctx: "user", typ: "Observation", perms: "cud", v1: true},
		{raw: "patient/*.*", ctx: "patient", typ: "*", perms: "cruds", v1: true},
		{raw: "patient/Observation.rs?category=laboratory", ctx: "patient", typ: "Observation", perms: "rs", query: "category=laboratory"}, // R-SCOPE-12
		{raw: "patient/Observation.dus", wantErr: true},                                                                                    // R-SCOPE-06, R-SCOPE-08: out of order
		{raw: "patient/Observation.rr", wantErr: true},
		{raw: "patient/Observation.", wantErr: true},
		{raw: "patient/Observation.x", wantErr: true},
		{raw: "patient/observation.rs", wantErr: true},
		{raw: "patient/.rs", wantErr: true},
		{raw: "patient/Observation", wantErr: true},
		{raw: "patient/*.read?code=1", wantErr: true},
		{raw: "patient/Observation.rs?", wantErr: true},
		{raw: "openid", notRes: true},
		{raw: "launch/patient", notRes: true},
		{raw: "offline_access", notRes: true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			s, err := ParseScope(tt.raw)
			switch {
			case tt.notRes:
				if !errors.Is(err, ErrNotResourceScope) {
					t.Fatalf("err = %v, want ErrNotResourceScope", err)
				}
				return
			case tt.wantErr:
				if err == nil || errors.Is(err, ErrNotResourceScope) {
					t.Fatalf("err = %v, want a syntax error", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if s.Context != tt.ctx || s.ResourceType != tt.typ || s.Permissions.String() != tt.perms || s.V1 != tt.v1 || s.Query.Encode() != tt.query {
				t.Errorf("got %s/%s.%s v1=%v q=%q, want %s/%s.%s v1=%v q=%q",
					s.Context, s.ResourceType, s.Permissions, s.V1, s.Query.Encode(), tt.ctx, tt.typ, tt.perms, tt.v1, tt.query)
			}
		})
	}
}

func TestAllowsAndCovers(t *testing.T) {
	must := func(s string) Scope {
		sc, err := ParseScope(s)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	if !must("patient/*.rs").Allows(Read, "Observation") || must("patient/*.rs").Allows(Create, "Observation") {
		t.Error("patient/*.rs: read allowed and create refused expected")
	}
	if must("patient/Observation.c").Allows(Read, "Observation") {
		t.Error("write does not imply read (R-SCOPE-11)")
	}
	covers := []struct {
		a, b string
		want bool
	}{
		{"patient/*.cruds", "patient/Observation.rs", true},
		{"patient/*.cruds", "patient/*.read", true},
		{"patient/*.rs", "patient/Observation.rs?category=laboratory", true},
		{"patient/Observation.rs?category=laboratory", "patient/Observation.rs", false},
		{"patient/*.rs", "user/Observation.rs", false},
		{"patient/Observation.r", "patient/Observation.rs", false},
		{"patient/Condition.rs", "patient/Observation.rs", false},
	}
	for _, c := range covers {
		if got := must(c.a).Covers(must(c.b)); got != c.want {
			t.Errorf("%s covers %s = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestPermit(t *testing.T) {
	got := Permit("openid launch/patient patient/Observation.rs openid patient/*.read user/*.rs bogus patient/Observation.dus",
		"openid launch/patient patient/*.cruds")
	want := []string{"openid", "launch/patient", "patient/Observation.rs", "patient/*.read"}
	if !slices.Equal(got, want) {
		t.Errorf("Permit = %v, want %v", got, want)
	}
}

func TestParseScopesDedupes(t *testing.T) {
	set := ParseScopes("openid  openid patient/*.rs patient/*.rs patient/x.rs")
	if len(set.Other) != 1 || len(set.Resources) != 1 || len(set.Invalid) != 1 {
		t.Errorf("ParseScopes = %+v, want one of each", set)
	}
}

// FuzzParseScope: any input either parses into a scope whose parts are
// well-formed or is rejected; it never panics.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"patient/Observation.rs", "user/*.read", "patient/Observation.rs?category=a|b&code=c",
		"system/*.cruds", "launch/patient", "patient/.rs", "patient/*.*", "user/X.dus", "patient/A.r?%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s, err := ParseScope(raw)
		if err != nil {
			return
		}
		if s.Permissions == 0 || s.Permissions > 31 || s.ResourceType == "" || s.Raw != raw {
			t.Fatalf("ParseScope(%q) = %+v: accepted but malformed", raw, s)
		}
		if s.Context != "patient" && s.Context != "user" && s.Context != "system" {
			t.Fatalf("context %q", s.Context)
		}
		_ = ParseScopes(raw + " " + raw)
	})
}
