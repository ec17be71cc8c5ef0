package scopetext

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/language"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func TestExplain(t *testing.T) {
	c := newCatalog(t)
	const (
		thisPatient = " This covers only the record of the patient you chose for the app."
		asYou       = " It acts as you, with your access."
		onItsOwn    = " It does this on its own, without a person using it."
	)
	warnQuery := c.locales[0].Warnings[warnQuery]
	tests := []struct {
		name  string
		scope string
		want  Text
	}{
		{"offline access says it continues", "offline_access", Text{
			Short: "Keep access when you're not using it",
			Long:  "The app keeps the access you give it even when you are not using the app. This continues until you take access back.",
		}},
		{"whole record includes later kinds (R-SCOPE-21)", "patient/*.rs", Text{
			Short: "See all of your health record",
			Long:  "The app can see all of your health record, including kinds of data added later." + thisPatient,
		}},
		{"v1 read equals rs", "patient/*.read", Text{
			Short: "See all of your health record",
			Long:  "The app can see all of your health record, including kinds of data added later." + thisPatient,
		}},
		{"clinician", "user/Encounter.rs", Text{
			Short: "See your patients' visits and hospital stays",
			Long:  "The app can see visits and hospital stays of any patient you have access to." + asYou,
		}},
		{"backend", "system/Observation.rs", Text{
			Short: "See all patients' test results and measurements",
			Long:  "The app can see test results and measurements for any patient whose records are kept here." + onItsOwn,
		}},
		{"write only never says see", "patient/MedicationRequest.c", Text{
			Short: "Add your prescriptions",
			Long:  "The app can add your prescriptions." + thisPatient,
		}},
		{"v1 write", "patient/Condition.write", Text{
			Short: "Add, change and delete your health problems",
			Long:  "The app can add, change and delete your health problems and conditions." + thisPatient,
		}},
		{"see and change", "patient/Medication.ru", Text{
			Short: "See and change your medicine details",
			Long:  "The app can see and change your medicine details." + thisPatient,
		}},
		{"all permissions", "patient/AllergyIntolerance.cruds", Text{
			Short: "See, add, change and delete your allergies and intolerances",
			Long:  "The app can see, add, change and delete your allergies and intolerances." + thisPatient,
		}},
		{"bare category", "patient/Observation.rs?category=laboratory", Text{
			Short: "See your lab results",
			Long:  "The app can see your lab results." + thisPatient,
		}},
		{"category with system", "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs", Text{
			Short: "See your vital signs",
			Long:  "The app can see your vital signs such as blood pressure and weight." + thisPatient,
		}},
		{"category alternatives", "patient/Observation.rs?category=laboratory,vital-signs,laboratory", Text{
			Short: "See your lab results and vital signs",
			Long:  "The app can see your lab results and vital signs such as blood pressure and weight." + thisPatient,
		}},
		{"code with system", "patient/Observation.rs?code=http://loinc.org|4548-4", Text{
			Short: "See your HbA1c results",
			Long:  "The app can see your HbA1c results (long-term blood sugar)." + thisPatient,
		}},
		{"bare code", "patient/Observation.rs?code=29463-7", Text{
			Short: "See your body weight measurements",
			Long:  "The app can see your body weight measurements." + thisPatient,
		}},
		{"condition code", "patient/Condition.rs?code=http://snomed.info/sct|44054006", Text{
			Short: "See your records of type 2 diabetes",
			Long:  "The app can see your records of type 2 diabetes." + thisPatient,
		}},
		{"report category", "patient/DiagnosticReport.rs?category=http://loinc.org|LP29684-5", Text{
			Short: "See your imaging reports",
			Long:  "The app can see your imaging reports." + thisPatient,
		}},
		{"unknown system", "patient/Observation.rs?category=http://example.org|laboratory", unexplained(
			"See some of your test results and measurements",
			"The app can see some of your test results and measurements, chosen by a rule we can't put simply."+thisPatient,
			warnQuery)},
		{"empty system", "patient/Observation.rs?category=|laboratory", unexplained(
			"See some of your test results and measurements",
			"The app can see some of your test results and measurements, chosen by a rule we can't put simply."+thisPatient,
			warnQuery)},
		{"modifier", "patient/Observation.rs?category:not=laboratory", unexplained(
			"See some of your test results and measurements",
			"The app can see some of your test results and measurements, chosen by a rule we can't put simply."+thisPatient,
			warnQuery)},
		{"two parameters", "patient/Observation.rs?category=laboratory&date=ge2020", unexplained(
			"See some of your test results and measurements",
			"The app can see some of your test results and measurements, chosen by a rule we can't put simply."+thisPatient,
			warnQuery)},
		{"repeated parameter means and", "patient/Observation.rs?category=laboratory&category=vital-signs", unexplained(
			"See some of your test results and measurements",
			"The app can see some of your test results and measurements, chosen by a rule we can't put simply."+thisPatient,
			warnQuery)},
		{"empty alternative", "patient/Observation.rs?category=laboratory,", unexplained(
			"See some of your test results and measurements",
			"The app can see some of your test results and measurements, chosen by a rule we can't put simply."+thisPatient,
			warnQuery)},
		{"category of another type", "patient/Condition.rs?category=laboratory", unexplained(
			"See some of your health problems",
			"The app can see some of your health problems and conditions, chosen by a rule we can't put simply."+thisPatient,
			warnQuery)},
		{"query on every type", "user/*.rs?category=laboratory", unexplained(
			"See some of your patients' records",
			"The app can see some of the health records you have access to, chosen by a rule we can't put simply."+asYou,
			warnQuery)},
		{"unknown type", "patient/Spaceship.rs", unexplained(
			"See your data of an unknown kind",
			"The app can see your data of an unknown kind."+thisPatient,
			c.locales[0].Warnings[warnUnknownType])},
		{"malformed", "patient/Observation.sr", unexplained(
			"A request that is not written correctly",
			"The app's request is not written correctly. The server will refuse it.",
			c.locales[0].Warnings[warnMalformed])},
		{"unknown", "launch/location", unexplained(
			"Access this server does not recognize",
			"The app asks for something this server does not recognize. The app will not get it.",
			c.locales[0].Warnings[warnUnknown])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.Scope = tt.scope
			if tt.want.Warning == "" {
				tt.want.Explainable = true
			}
			got := c.Explain(tt.scope, language.English)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Explain(%q) mismatch (-want +got):\n%s", tt.scope, diff)
			}
		})
	}
}

func unexplained(short, long, warning string) Text {
	return Text{Short: short, Long: long, Warning: warning}
}

func TestExplainLanguageFallback(t *testing.T) {
	c := newCatalog(t)
	tests := []struct {
		lang language.Tag
		want string
	}{
		{language.MustParse("fr-CA"), "Voir vos résultats d'analyses"},
		{language.MustParse("de-AT"), "Ihre Laborergebnisse ansehen"},
		{language.MustParse("es-419"), "Ver sus resultados de laboratorio"},
		{language.Japanese, "See your lab results"},
		{language.Und, "See your lab results"},
	}
	for _, tt := range tests {
		if got := c.Explain("patient/Observation.rs?category=laboratory", tt.lang).Short; got != tt.want {
			t.Errorf("Explain(..., %v).Short = %q, want %q", tt.lang, got, tt.want)
		}
	}
}

func TestSupportedScopesAreExplainable(t *testing.T) {
	c := newCatalog(t)
	scopes := c.SupportedScopes()
	for _, want := range []string{"openid", "fhirUser", "launch/patient", "offline_access", "patient/*.rs", "patient/*.read", "user/*.rs", "user/*.read"} {
		if !strings.Contains(" "+strings.Join(scopes, " ")+" ", " "+want+" ") {
			t.Errorf("SupportedScopes() = %v, lacks %q", scopes, want)
		}
	}
	for _, lang := range c.Languages() {
		for _, s := range scopes {
			if x := c.Explain(s, lang); !x.Explainable || x.Warning != "" {
				t.Errorf("Explain(%q, %v) = %+v, want explainable", s, lang, x)
			}
		}
	}
	scopes[0] = "changed"
	if c.SupportedScopes()[0] == "changed" {
		t.Error("SupportedScopes() returned a shared slice")
	}
}

// TestWriteOnlyNeverSees checks that a scope without read or search never
// uses the language's verb for seeing.
func TestWriteOnlyNeverSees(t *testing.T) {
	c := newCatalog(t)
	for i, lang := range c.Languages() {
		see := c.locales[i].Verbs.See
		for _, s := range []string{"patient/Observation.c", "patient/Observation.cud", "user/*.write", "system/Patient.ud", "patient/Observation.d?category=laboratory"} {
			x := c.Explain(s, lang)
			for _, text := range []string{x.Short, x.Long} {
				for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !('a' <= r && r <= 'z') }) {
					if w == see {
						t.Errorf("Explain(%q, %v) = %q, says %q for a write-only scope", s, lang, text, see)
					}
				}
			}
		}
	}
}

// goldenScopes are rendered into testdata/<lang>.golden.
var goldenScopes = []string{
	"openid", "fhirUser", "profile", "launch", "launch/patient", "launch/encounter",
	"offline_access", "online_access",
	"patient/*.rs", "patient/*.read", "patient/*.cruds", "user/*.rs", "user/*.read", "system/*.rs", "system/*.cud",
	"patient/Observation.rs", "patient/Observation.s",
	"patient/Observation.rs?category=laboratory",
	"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs",
	"patient/Observation.rs?category=social-history,sdoh",
	"patient/Observation.rs?code=http://loinc.org|4548-4",
	"patient/Observation.rs?code=85354-9,29463-7",
	"patient/Condition.rs?category=problem-list-item",
	"patient/Condition.rs?category=http://terminology.hl7.org/CodeSystem/condition-category|encounter-diagnosis",
	"patient/DocumentReference.rs?category=clinical-note",
	"patient/DiagnosticReport.rs?category=LAB",
	"patient/DiagnosticReport.rs?category=http://terminology.hl7.org/CodeSystem/v2-0074|RAD",
	"patient/MedicationRequest.c", "patient/MedicationRequest.rs",
	"patient/AllergyIntolerance.cruds", "patient/Immunization.read",
	"patient/Encounter.rs", "patient/Patient.r", "user/Patient.rs", "user/Practitioner.rs",
	"system/Group.rs", "user/Observation.rs?category=laboratory",
	"patient/Observation.rs?code:in=http://example.org/vs",
	"patient/Observation.rs?category=laboratory&date=ge2024-01-01",
	"patient/Spaceship.rs",
	"patient/Observation.rsx",
	"launch/location",
}

func TestGolden(t *testing.T) {
	c := newCatalog(t)
	for _, lang := range c.Languages() {
		t.Run(lang.String(), func(t *testing.T) {
			var b strings.Builder
			for _, s := range goldenScopes {
				x := c.Explain(s, lang)
				fmt.Fprintf(&b, "scope:       %s\nshort:       %s\nlong:        %s\nexplainable: %t\n", x.Scope, x.Short, x.Long, x.Explainable)
				if x.Warning != "" {
					fmt.Fprintf(&b, "warning:     %s\n", x.Warning)
				}
				b.WriteString("\n")
			}
			path := filepath.Join("testdata", lang.String()+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("%s mismatch (-want +got), run go test -update if intended:\n%s", path, diff)
			}
		})
	}
}

// FuzzExplain checks that any scope string gives a usable text: a one-line
// Short, a Long of at most two sentences, and a Warning exactly when it is
// not explainable.
func FuzzExplain(f *testing.F) {
	for _, s := range goldenScopes {
		f.Add(s)
	}
	c := newCatalog(f)
	f.Fuzz(func(t *testing.T, scope string) {
		for _, lang := range c.Languages() {
			x := c.Explain(scope, lang)
			if x.Scope != scope {
				t.Errorf("Explain(%q).Scope = %q", scope, x.Scope)
			}
			if x.Short == "" || strings.ContainsAny(x.Short, "\r\n{}") || len([]rune(x.Short)) > maxShortRunes(c, lang) {
				t.Errorf("Explain(%q, %v).Short = %q", scope, lang, x.Short)
			}
			if n := sentences(x.Long); n < 1 || n > 2 {
				t.Errorf("Explain(%q, %v).Long = %q: %d sentences", scope, lang, x.Long, n)
			}
			if x.Explainable == (x.Warning != "") {
				t.Errorf("Explain(%q, %v): Explainable %t with Warning %q", scope, lang, x.Explainable, x.Warning)
			}
		}
	})
}

// TestTooManyAlternatives checks that a query whose named values do not
// fit on one line is not explainable, in every language.
func TestTooManyAlternatives(t *testing.T) {
	c := newCatalog(t)
	const scope = "user/Observation.cruds?category=laboratory,vital-signs,social-history,survey,activity,imaging"
	for _, lang := range c.Languages() {
		x := c.Explain(scope, lang)
		if x.Explainable || x.Warning == "" || len([]rune(x.Short)) > maxShortRunes(c, lang) {
			t.Errorf("Explain(%q, %v) = %+v, want not explainable with a one-line Short", scope, lang, x)
		}
	}
	if x := c.Explain("patient/Observation.rs?category=laboratory,vital-signs", language.English); !x.Explainable {
		t.Errorf("two alternatives: Explain = %+v, want explainable", x)
	}
}
