package scopetext

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/text/language"
)

// newCatalog returns a parsed catalog or stops the test.
func newCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := New()
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return c
}

// patientCompartmentTypes returns the 145 resource types of FHIR R4's
// patient compartment definition, the types a scope can name.
func patientCompartmentTypes(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "sampledata", "definitions", "compartmentdefinition-patient.json"))
	if err != nil {
		t.Fatal(err)
	}
	var def struct {
		Resource []struct {
			Code string `json:"code"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(b, &def); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, r := range def.Resource {
		types = append(types, r.Code)
	}
	if len(types) != 145 {
		t.Fatalf("compartment definition lists %d types, want 145", len(types))
	}
	return types
}

func TestLanguages(t *testing.T) {
	c := newCatalog(t)
	got := c.Languages()
	want := []language.Tag{language.English, language.Spanish, language.French, language.German}
	if !slices.Equal(got, want) {
		t.Errorf("Languages() = %v, want %v", got, want)
	}
	got[0] = language.Japanese
	if c.Languages()[0] != language.English {
		t.Error("Languages() returned the catalog's own slice")
	}
}

func TestMatch(t *testing.T) {
	c := newCatalog(t)
	tests := []struct {
		name, header string
		want         language.Tag
	}{
		{"canadian french first", "fr-CA,fr;q=0.9", language.French},
		{"single regional tag", "fr-CA", language.French},
		{"austrian german", "de-AT", language.German},
		{"latin american spanish", "es-419", language.Spanish},
		{"british english", "en-GB,en;q=0.8", language.English},
		{"quality order", "ja;q=0.9,de;q=0.5,es;q=0.8", language.Spanish},
		{"unsupported language", "ja", language.English},
		{"empty", "", language.English},
		{"wildcard", "*", language.English},
		{"garbage", "!!not a; language,,", language.English},
		{"bad quality", "de;q=abc", language.English},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Match(tt.header); got != tt.want {
				t.Errorf("Match(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

// TestEveryTypeHasAName checks that each resource type a scope can name
// has its own plain name in every language, not a fallback to English.
func TestEveryTypeHasAName(t *testing.T) {
	c := newCatalog(t)
	types := patientCompartmentTypes(t)
	for i, l := range c.locales {
		lang := c.tags[i]
		seen := map[string]string{}
		for _, typ := range types {
			name := l.Resources[typ]
			if name == "" {
				t.Errorf("%v: %s has no name", lang, typ)
				continue
			}
			if other, dup := seen[name]; dup {
				t.Errorf("%v: %s and %s share the name %q", lang, other, typ, name)
			}
			seen[name] = typ
			if _, long := nameForms(name); c.ResourceName(typ, lang) != long {
				t.Errorf("ResourceName(%s, %v) = %q, want %q", typ, lang, c.ResourceName(typ, lang), long)
			}
		}
		if len(l.Resources) != len(types) {
			t.Errorf("%v: %d names, want %d (one per compartment type)", lang, len(l.Resources), len(types))
		}
	}
}

// TestCatalogsComplete checks that every language defines everything
// English does, so the English fallback is never needed.
func TestCatalogsComplete(t *testing.T) {
	c := newCatalog(t)
	en := c.locales[0]
	for i, l := range c.locales[1:] {
		lang := c.tags[i+1]
		missing := func(what string, enKeys []string, has func(string) bool) {
			for _, k := range enKeys {
				if !has(k) {
					t.Errorf("%v lacks %s %q", lang, what, k)
				}
			}
		}
		nonEmpty := func(m map[string]string) func(string) bool { return func(k string) bool { return m[k] != "" } }
		entryOK := func(m map[string]entry) func(string) bool {
			return func(k string) bool { return m[k].Short != "" && m[k].Long != "" }
		}
		missing("short template", sortedKeys(en.Short), nonEmpty(l.Short))
		missing("long template", sortedKeys(en.Long), nonEmpty(l.Long))
		missing("context scope", sortedKeys(en.Context), entryOK(l.Context))
		missing("special", sortedKeys(en.Special), entryOK(l.Special))
		missing("warning", sortedKeys(en.Warnings), nonEmpty(l.Warnings))
		missing("query text", sortedKeys(en.Queries), nonEmpty(l.Queries))
		if l.Verbs.See == "" || l.Verbs.Add == "" || l.Verbs.Change == "" || l.Verbs.Delete == "" {
			t.Errorf("%v lacks a verb: %+v", lang, l.Verbs)
		}
		if l.And == "" || l.Separator == "" || l.UnknownKind == "" || l.AllData == "" {
			t.Errorf("%v lacks and, separator, unknown_kind or all_data", lang)
		}
	}
}

func TestResourceName(t *testing.T) {
	c := newCatalog(t)
	tests := []struct {
		typ  string
		lang language.Tag
		want string
	}{
		{"Encounter", language.English, "visits and hospital stays"},
		{"Observation", language.English, "test results and measurements"},
		{"MedicationRequest", language.English, "prescriptions"},
		{"Encounter", language.MustParse("de-CH"), "Arztbesuche und Krankenhausaufenthalte"},
		{"Immunization", language.Spanish, "vacunas"},
		{"Immunization", language.Japanese, "vaccinations"},
		{"*", language.English, "everything in the health record"},
		{"NotAType", language.English, "data of an unknown kind"},
	}
	for _, tt := range tests {
		if got := c.ResourceName(tt.typ, tt.lang); got != tt.want {
			t.Errorf("ResourceName(%q, %v) = %q, want %q", tt.typ, tt.lang, got, tt.want)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
