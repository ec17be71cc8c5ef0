package smart

import (
	"errors"
	"maps"
	"slices"
	"strings"
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
	got := Permit("openid launch/patient patient/Observation.rs openid patient/*.read user/*.rs bogus __ext.x patient/Observation.dus",
		"openid launch/patient patient/*.cruds __ext.x")
	want := []string{"openid", "launch/patient", "patient/Observation.rs", "patient/*.read", "__ext.x"}
	if !slices.Equal(got, want) {
		t.Errorf("Permit = %v, want %v", got, want)
	}
}

func TestParseScopesDedupes(t *testing.T) {
	set := ParseScopes("openid  openid patient/*.rs patient/*.rs patient/x.rs")
	if len(set.Other) != 1 || len(set.Resources) != 1 || len(set.Invalid) != 1 || set.Invalid[0].Scope != "patient/x.rs" {
		t.Errorf("ParseScopes = %+v, want one of each", set)
	}
}

// TestSpecExamples parses every scope example of the SMART 2.1 "Scopes and
// Launch Context" page and the App State page, and checks which
// interactions each allows (R-SCOPE-05..07, R-SCOPE-12, R-SCOPE-18..22).
func TestSpecExamples(t *testing.T) {
	tests := []struct {
		raw       string
		canonical string
		allows    string // permissions on the scope's own type
	}{
		{"patient/Observation.rs", "patient/Observation.rs", "rs"},
		{"patient/Patient.r", "patient/Patient.r", "r"},
		{"patient/Observation.c", "patient/Observation.c", "c"},
		{"patient/*.cruds", "patient/*.cruds", "cruds"},
		{"patient/*.rs", "patient/*.rs", "rs"},
		{"patient/AllergyIntolerance.cruds", "patient/AllergyIntolerance.cruds", "cruds"},
		{"patient/Immunization.read", "patient/Immunization.rs", "rs"},
		{"patient/Observation.read", "patient/Observation.rs", "rs"},
		{"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
			"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory", "rs"},
		{"patient/Basic.cuds", "patient/Basic.cuds", "cuds"},
		{"patient/Basic.cuds?code=https://myapp.example.org|encrypted-phr-access-keys",
			"patient/Basic.cuds?code=https://myapp.example.org|encrypted-phr-access-keys", "cuds"},
		{"patient/Basic.s?code=https://app|1", "patient/Basic.s?code=https://app|1", "s"},
		{"user/Observation.rs", "user/Observation.rs", "rs"},
		{"user/Appointment.cruds", "user/Appointment.cruds", "cruds"},
		{"user/*.cruds", "user/*.cruds", "cruds"},
		{"user/*.rs", "user/*.rs", "rs"},
		{"user/Patient.rs", "user/Patient.rs", "rs"},
		{"user/Basic.cuds", "user/Basic.cuds", "cuds"},
		{"user/Basic.s", "user/Basic.s", "s"},
		{"user/Basic.s?code=https://app|1", "user/Basic.s?code=https://app|1", "s"},
		{"system/Observation.rs", "system/Observation.rs", "rs"},
		{"system/*.rs", "system/*.rs", "rs"},
		{"system/*.cruds", "system/*.cruds", "cruds"},
		{"system/Encounter.cud", "system/Encounter.cud", "cud"},
		{"user/Observation.write", "user/Observation.cud", "cud"},
		{"patient/*.*", "patient/*.cruds", "cruds"},
	}
	perms := []struct {
		letter byte
		p      Permission
	}{{'c', Create}, {'r', Read}, {'u', Update}, {'d', Delete}, {'s', Search}}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			s, err := ParseScope(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.String(); got != tt.canonical {
				t.Errorf("String() = %q, want %q", got, tt.canonical)
			}
			typ := s.ResourceType
			if typ == "*" {
				typ = "Condition"
			}
			for _, p := range perms {
				want := strings.IndexByte(tt.allows, p.letter) >= 0
				if got := s.Allows(p.p, typ); got != want {
					t.Errorf("Allows(%c, %s) = %v, want %v", p.letter, typ, got, want)
				}
			}
			if s.ResourceType != "*" && s.Allows(Read, "SomethingElse") {
				t.Error("a typed scope allows another type")
			}
		})
	}
}

func TestParseScopesKinds(t *testing.T) {
	set := ParseScopes("openid fhirUser launch launch/patient launch/encounter profile offline_access online_access " +
		"__profilePhoto.manage launch/diagnosticreport patient/Observation.dus patient/*.rs")
	if want := []string{"openid", "fhirUser", "launch", "launch/patient", "launch/encounter", "profile", "offline_access", "online_access"}; !slices.Equal(set.Other, want) {
		t.Errorf("Other = %v, want %v", set.Other, want)
	}
	if want := []string{"__profilePhoto.manage", "launch/diagnosticreport"}; !slices.Equal(set.Unknown, want) {
		t.Errorf("Unknown = %v, want %v", set.Unknown, want)
	}
	if len(set.Invalid) != 1 || set.Invalid[0].Scope != "patient/Observation.dus" || set.Err() == nil {
		t.Errorf("Invalid = %v, want the out-of-order scope", set.Invalid)
	}
	if !strings.Contains(set.Err().Error(), "patient/Observation.dus") {
		t.Errorf("error %q does not name the scope", set.Err())
	}
}

// FuzzParseScope: every string either fails to parse or round-trips
// through its canonical form: parsing String() gives the same scope, and
// String() is a fixed point.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"patient/Observation.rs", "user/*.read", "patient/Observation.rs?category=a|b&code=c",
		"system/*.cruds", "launch/patient", "patient/.rs", "patient/*.*", "user/X.dus", "patient/A.r?%zz",
		"patient/Observation.rs?code=a%26b&code=c+d", "patient/A.s?x=%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s, err := ParseScope(raw)
		if err != nil {
			return
		}
		c := s.String()
		s2, err := ParseScope(c)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", c, raw, err)
		}
		if s2.String() != c || s2.Context != s.Context || s2.ResourceType != s.ResourceType ||
			s2.Permissions != s.Permissions || !maps.EqualFunc(s2.Query, s.Query, slices.Equal) {
			t.Fatalf("%q -> %q -> %+v: not a round trip of %+v", raw, c, s2, s)
		}
	})
}
