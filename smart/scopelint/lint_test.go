package scopelint

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartlaunch/smartlaunch/smart"
	"github.com/smartlaunch/smartlaunch/smart/scopetext"
)

func newCatalog(t testing.TB) *scopetext.Catalog {
	t.Helper()
	c, err := scopetext.New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// brief is a finding without its message, for table comparisons.
type brief struct {
	Kind     string
	Severity Severity
	Scopes   string
}

func briefs(fs []Finding) []brief {
	out := []brief{}
	for _, f := range fs {
		out = append(out, brief{f.Kind, f.Severity, strings.Join(f.Scopes, " ")})
	}
	return out
}

func w(kind, scopes string) brief { return brief{kind, Warning, scopes} }
func i(kind, scopes string) brief { return brief{kind, Info, scopes} }

var lintTests = []struct {
	name    string
	request string
	max     int
	want    []brief
	suggest string
}{
	{"clean request", "openid fhirUser launch/patient patient/Observation.rs patient/Condition.rs",
		0, nil, "openid fhirUser launch/patient patient/Observation.rs patient/Condition.rs"},
	{"malformed (R-SCOPE-06, R-SCOPE-08)", "patient/Observation.dus patient/Observation patient/observation.rs patient/Condition.rs",
		0, []brief{
			w(KindMalformed, "patient/Observation.dus"),
			w(KindMalformed, "patient/Observation"),
			w(KindMalformed, "patient/observation.rs"),
		}, "patient/Condition.rs"},
	{"unknown, but extension scopes are allowed (R-EXT-01)", "launch/patient email __profilePhoto.manage https://ehr.example.org/scopes/x urn:example:x",
		0, []brief{
			w(KindUnknown, "email"),
			i(KindUnexplained, "__profilePhoto.manage"),
			i(KindUnexplained, "https://ehr.example.org/scopes/x"),
			i(KindUnexplained, "urn:example:x"),
		}, "launch/patient __profilePhoto.manage https://ehr.example.org/scopes/x urn:example:x"},
	{"duplicates", "openid openid patient/Observation.rs patient/Observation.rs",
		0, []brief{
			w(KindRedundant, "openid"),
			w(KindRedundant, "patient/Observation.rs"),
		}, "openid patient/Observation.rs"},
	{"covered by a wildcard", "patient/Observation.rs patient/*.rs",
		0, []brief{
			w(KindRedundant, "patient/Observation.rs patient/*.rs"),
			w(KindBroader, "patient/*.rs"),
		}, "patient/*.rs"},
	{"v1 and v2 spellings of one scope (R-SCOPE-07)", "patient/Observation.read patient/Observation.rs",
		0, []brief{w(KindRedundant, "patient/Observation.read patient/Observation.rs")}, "patient/Observation.rs"},
	{"fewer letters of the same type", "patient/Observation.r patient/Observation.rs",
		0, []brief{w(KindRedundant, "patient/Observation.r patient/Observation.rs")}, "patient/Observation.rs"},
	{"merge letters (R-SCOPE-10)", "patient/Observation.r patient/Observation.s",
		0, []brief{i(KindMergeable, "patient/Observation.r patient/Observation.s")}, "patient/Observation.rs"},
	{"merge v1 with v2 into v2", "patient/Condition.read patient/Condition.c",
		0, []brief{
			i(KindMergeable, "patient/Condition.read patient/Condition.c"),
			i(KindWrite, "patient/Condition.read patient/Condition.c"),
		}, "patient/Condition.crs"},
	{"lone v1 scope", "patient/Condition.read",
		0, []brief{i(KindV1Form, "patient/Condition.read")}, "patient/Condition.rs"},
	{"merged letters covered together", "patient/*.r patient/*.s patient/Observation.rs",
		0, []brief{
			w(KindRedundant, "patient/Observation.rs patient/*.r patient/*.s"),
			i(KindMergeable, "patient/*.r patient/*.s"),
			w(KindBroader, "patient/*.r patient/*.s"),
		}, "patient/*.rs"},
	{"part of a type's letters covered by a wildcard", "patient/*.r patient/Observation.r patient/Observation.s",
		0, []brief{
			w(KindRedundant, "patient/Observation.r patient/*.r"),
			w(KindBroader, "patient/*.r"),
		}, "patient/*.r patient/Observation.s"},
	{"query scope covered by the unqueried type", "patient/Observation.rs?category=laboratory patient/Observation.rs",
		0, []brief{w(KindRedundant, "patient/Observation.rs?category=laboratory patient/Observation.rs")}, "patient/Observation.rs"},
	{"query scopes merge only with the same query",
		"patient/Observation.r?category=laboratory patient/Observation.s?category=laboratory patient/Observation.r?category=vital-signs",
		0, []brief{i(KindMergeable, "patient/Observation.r?category=laboratory patient/Observation.s?category=laboratory")},
		"patient/Observation.rs?category=laboratory patient/Observation.r?category=vital-signs"},
	{"an unqueried scope covers the same letters under any query", "patient/Observation.s?category=laboratory patient/Observation.s",
		0, []brief{w(KindRedundant, "patient/Observation.s?category=laboratory patient/Observation.s")}, "patient/Observation.s"},
	{"a query never merges into an unqueried scope", "patient/Observation.s patient/Observation.r?category=laboratory",
		0, nil, "patient/Observation.s patient/Observation.r?category=laboratory"},
	{"different queries stay apart", "patient/Observation.r?category=laboratory patient/Observation.s?category=vital-signs",
		0, nil, "patient/Observation.r?category=laboratory patient/Observation.s?category=vital-signs"},
	{"the same query written in another order", "patient/Observation.r?category=laboratory&code=1 patient/Observation.s?code=1&category=laboratory",
		0, []brief{
			i(KindMergeable, "patient/Observation.r?category=laboratory&code=1 patient/Observation.s?code=1&category=laboratory"),
			w(KindUnexplained, "patient/Observation.r?category=laboratory&code=1 patient/Observation.s?code=1&category=laboratory"),
		}, "patient/Observation.rs?category=laboratory&code=1"},
	{"several types never become a wildcard", "patient/Observation.rs patient/Condition.rs patient/AllergyIntolerance.rs",
		0, nil, "patient/Observation.rs patient/Condition.rs patient/AllergyIntolerance.rs"},
	{"wildcard (R-SCOPE-21, R-SCOPE-23)", "patient/*.rs",
		0, []brief{w(KindBroader, "patient/*.rs")}, "patient/*.rs"},
	{"every letter on every type", "patient/*.cruds",
		0, []brief{
			w(KindBroader, "patient/*.cruds"),
			i(KindBroader, "patient/*.cruds"),
		}, "patient/*.cruds"},
	{"every letter on one type", "patient/Appointment.*",
		0, []brief{
			i(KindV1Form, "patient/Appointment.*"),
			i(KindBroader, "patient/Appointment.*"),
		}, "patient/Appointment.cruds"},
	{"write letters", "patient/Observation.rs patient/Observation.c system/Observation.u",
		0, []brief{
			i(KindMergeable, "patient/Observation.rs patient/Observation.c"),
			w(KindBroader, "system/Observation.u patient/Observation.rs patient/Observation.c"),
			i(KindWrite, "patient/Observation.rs patient/Observation.c"),
		}, "patient/Observation.crs system/Observation.u"},
	{"user/ alongside patient/ for the same type", "launch/patient patient/Observation.rs user/Observation.rs user/Condition.rs",
		0, []brief{w(KindBroader, "user/Observation.rs patient/Observation.rs")},
		"launch/patient patient/Observation.rs user/Observation.rs user/Condition.rs"},
	{"user/ wildcard alongside patient/", "patient/Observation.rs user/*.rs",
		0, []brief{
			w(KindBroader, "user/*.rs"),
			w(KindBroader, "user/*.rs patient/Observation.rs"),
		}, "patient/Observation.rs user/*.rs"},
	{"unexplainable query", "patient/Observation.rs?code=http://loinc.org|99999-9",
		0, []brief{w(KindUnexplained, "patient/Observation.rs?code=http://loinc.org|99999-9")},
		"patient/Observation.rs?code=http://loinc.org|99999-9"},
	{"unexplainable type (a typo)", "patient/Observaton.rs",
		0, []brief{w(KindUnexplained, "patient/Observaton.rs")}, "patient/Observaton.rs"},
	{"too many after merging", "patient/Observation.r patient/Observation.s patient/Condition.rs patient/Encounter.rs",
		2, []brief{
			i(KindMergeable, "patient/Observation.r patient/Observation.s"),
			w(KindTooMany, "patient/Observation.r patient/Observation.s patient/Condition.rs patient/Encounter.rs"),
		}, "patient/Observation.rs patient/Condition.rs patient/Encounter.rs"},
	{"as many as allowed", "patient/Observation.r patient/Observation.s patient/Condition.rs",
		2, []brief{i(KindMergeable, "patient/Observation.r patient/Observation.s")},
		"patient/Observation.rs patient/Condition.rs"},
	{"nothing valid", "patient/x.rs nonsense",
		0, []brief{w(KindMalformed, "patient/x.rs"), w(KindUnknown, "nonsense")}, ""},
}

func TestLint(t *testing.T) {
	cat := newCatalog(t)
	for _, tt := range lintTests {
		t.Run(tt.name, func(t *testing.T) {
			got := Lint([]string{tt.request}, Options{MaxScopes: tt.max, Catalog: cat})
			want := tt.want
			if want == nil {
				want = []brief{}
			}
			if diff := cmp.Diff(want, briefs(got.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if s := strings.Join(got.Suggested, " "); s != tt.suggest {
				t.Errorf("suggested = %q, want %q", s, tt.suggest)
			}
			checkSuggestion(t, []string{tt.request}, got, cat)
			for _, f := range got.Findings {
				if f.Message == "" || strings.HasSuffix(f.Message, ".") || strings.Contains(f.Message, "\n") {
					t.Errorf("%s message %q: want one line with no final period", f.Kind, f.Message)
				}
			}
		})
	}
}

// checkSuggestion checks what every result must hold: the suggestion
// parses with nothing malformed or unknown, grants exactly what the request
// grants, keeps the other scopes, is no longer than the request, and is
// its own suggestion with nothing redundant or mergeable left.
func checkSuggestion(t testing.TB, request []string, got Result, cat *scopetext.Catalog) {
	t.Helper()
	req := smart.ParseScopes(strings.Join(request, " "))
	sug := smart.ParseScopes(strings.Join(got.Suggested, " "))
	if len(sug.Invalid) > 0 {
		t.Fatalf("suggestion %q has malformed scopes: %v", got.Suggested, sug.Err())
	}
	for _, u := range sug.Unknown {
		if !isExtension(u) {
			t.Fatalf("suggestion %q has unknown scope %q", got.Suggested, u)
		}
	}
	if len(sug.Resources)+len(sug.Other)+len(sug.Unknown) != len(got.Suggested) {
		t.Fatalf("suggestion %q repeats a scope", got.Suggested)
	}
	if !equivalent(req.Resources, sug.Resources) {
		t.Fatalf("suggestion %q does not grant exactly what %q grants", got.Suggested, request)
	}
	if !cmp.Equal(req.Other, sug.Other) {
		t.Fatalf("suggestion keeps other scopes %q, want %q", sug.Other, req.Other)
	}
	if len(sug.Resources) > len(req.Resources) {
		t.Fatalf("suggestion %q has more resource scopes than the request", got.Suggested)
	}
	again := Lint(got.Suggested, Options{Catalog: cat, MaxScopes: 1 << 20})
	if !cmp.Equal(again.Suggested, got.Suggested) {
		t.Fatalf("the suggestion's own suggestion = %q, want %q", again.Suggested, got.Suggested)
	}
	for _, f := range again.Findings {
		switch f.Kind {
		case KindMalformed, KindUnknown, KindRedundant, KindMergeable, KindV1Form:
			t.Fatalf("linting suggestion %q: %s finding: %s", got.Suggested, f.Kind, f.Message)
		}
	}
}

func TestLintMessages(t *testing.T) {
	cat := newCatalog(t)
	got := Lint([]string{"patient/*.r", "patient/*.s patient/Observation.rs"}, Options{Catalog: cat})
	want := []string{
		"patient/Observation.rs is already granted by patient/*.r and patient/*.s",
		"patient/*.r and patient/*.s can be asked for as patient/*.rs, which grants the same; keep them apart only to let people allow one and not the other",
		"patient/*.r and patient/*.s ask for every kind of data, including kinds added later; list the types the app uses instead",
	}
	var msgs []string
	for _, f := range got.Findings {
		msgs = append(msgs, f.Message)
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	q := Lint([]string{"patient/Observation.rs?code=http://loinc.org|99999-9"}, Options{Catalog: cat})
	warn := cat.Explain("patient/Observation.rs?code=http://loinc.org|99999-9", cat.Match("en")).Warning
	if len(q.Findings) != 1 || warn == "" || !strings.Contains(q.Findings[0].Message, warn) {
		t.Errorf("unexplainable findings %+v: want one quoting the consent warning %q", q.Findings, warn)
	}
}

func TestLintDefaults(t *testing.T) {
	var request []string
	for _, typ := range []string{"Observation", "Condition", "Encounter", "Procedure", "Immunization",
		"AllergyIntolerance", "MedicationRequest", "DiagnosticReport", "DocumentReference", "CarePlan", "Goal"} {
		request = append(request, "patient/"+typ+".rs")
	}
	got := Lint(request, Options{}) // nil Catalog: the built-in catalogs; MaxScopes 10
	if b := briefs(got.Findings); len(b) != 1 || b[0].Kind != KindTooMany || !got.HasWarnings() {
		t.Errorf("11 scopes with default options: findings %v, want one too-many warning", b)
	}
	if got := Lint(request[:10], Options{}); len(got.Findings) != 0 || got.HasWarnings() {
		t.Errorf("10 scopes with default options: findings %v, want none", briefs(got.Findings))
	}
	if got := Lint(nil, Options{}); got.Findings == nil || got.Suggested == nil {
		t.Errorf("Lint(nil) = %#v, want empty, non-nil slices", got)
	}
}

func FuzzLint(f *testing.F) {
	for _, tt := range lintTests {
		f.Add(tt.request)
	}
	f.Add("patient/Observation.rs?a=%C3%A9&b=+ patient/Observation.c?b=%20&a=é user/*.read system/x.cruds")
	cat := newCatalog(f)
	f.Fuzz(func(t *testing.T, request string) {
		got := Lint([]string{request}, Options{Catalog: cat, MaxScopes: 3})
		if got.Findings == nil || got.Suggested == nil {
			t.Fatalf("nil slices in %#v", got)
		}
		checkSuggestion(t, []string{request}, got, cat)
	})
}
