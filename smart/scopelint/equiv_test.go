package scopelint

import (
	"testing"

	"github.com/smartlaunch/smartlaunch/smart"
)

func parseAll(t *testing.T, s string) []smart.Scope {
	t.Helper()
	set := smart.ParseScopes(s)
	if err := set.Err(); err != nil || len(set.Unknown)+len(set.Other) > 0 {
		t.Fatalf("%q: want resource scopes only (%v)", s, err)
	}
	return set.Resources
}

// TestEquivalent checks the checker the suggestion is held to: scopes
// combine as a union (R-SCOPE-10), v1 suffixes mean v2 letters
// (R-SCOPE-07), and a query restricts (R-SCOPE-12) so it never equals its
// unqueried scope or another query.
func TestEquivalent(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"same", "patient/Observation.rs", "patient/Observation.rs", true},
		{"union of letters (R-SCOPE-10)", "patient/Observation.r patient/Observation.s", "patient/Observation.rs", true},
		{"v1 read is rs (R-SCOPE-07)", "patient/Observation.read", "patient/Observation.rs", true},
		{"v1 write is cud", "patient/Observation.write", "patient/Observation.cud", true},
		{"v1 star is cruds", "patient/*.*", "patient/*.cruds", true},
		{"covered scope adds nothing", "patient/*.rs patient/Observation.r", "patient/*.rs", true},
		{"order does not matter", "patient/Observation.rs user/Condition.c", "user/Condition.c patient/Observation.rs", true},
		{"empty sets", "", "", true},
		{"fewer letters", "patient/Observation.r", "patient/Observation.rs", false},
		{"other context", "patient/Observation.rs", "user/Observation.rs", false},
		{"other type", "patient/Observation.rs", "patient/Condition.rs", false},
		{"wildcard is more than every named type", "patient/Observation.rs patient/Condition.rs", "patient/*.rs", false},
		{"query is narrower than no query", "patient/Observation.rs?category=laboratory", "patient/Observation.rs", false},
		{"different queries", "patient/Observation.rs?category=laboratory", "patient/Observation.rs?category=vital-signs", false},
		{"query letters union", "patient/Observation.r?category=laboratory patient/Observation.s?category=laboratory",
			"patient/Observation.rs?category=laboratory", true},
		{"query parameter order", "patient/Observation.rs?a=1&b=2", "patient/Observation.rs?b=2&a=1", true},
		{"query merged into unqueried is wider", "patient/Observation.s patient/Observation.r?category=laboratory",
			"patient/Observation.rs", false},
		{"query covered by unqueried", "patient/Observation.rs patient/Observation.r?category=laboratory", "patient/Observation.rs", true},
		{"wildcard with query", "patient/*.rs?_security=x", "patient/*.rs", false},
		{"something and nothing", "patient/Observation.c", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := parseAll(t, tt.a), parseAll(t, tt.b)
			if got := equivalent(a, b); got != tt.want {
				t.Errorf("equivalent(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if got := equivalent(b, a); got != tt.want {
				t.Errorf("equivalent(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
			}
		})
	}
}
