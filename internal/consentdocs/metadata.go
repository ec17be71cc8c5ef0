package consentdocs

import (
	"encoding/json"
	"fmt"
	"io/fs"

	"github.com/smartlaunch/smartlaunch/sampledata"
	"github.com/smartlaunch/smartlaunch/smart"
	"github.com/smartlaunch/smartlaunch/smart/scopetext"
)

// MetadataVersion is the semantic version of the scope description
// metadata. Raise MAJOR when a member is removed or renamed or its meaning
// changes; MINOR when something old consumers may ignore is added (a
// member, a language, more scopes); PATCH when only the wording of texts
// changes. The published document of a version never changes: the test
// TestMetadataVersionPinned holds a digest of it and fails until the
// version is raised when the content changes.
const MetadataVersion = "1.0.0"

// Metadata is the scope description metadata document, described by
// docs/scope-metadata.schema.json.
type Metadata struct {
	Version     string   `json:"version"`
	GeneratedBy string   `json:"generated_by"`
	Languages   []string `json:"languages"`
	Scopes      []Scope  `json:"scopes"`
}

// Scope is one described scope.
type Scope struct {
	Scope string `json:"scope"`
	// Pattern is true when the resource type is "*", so the scope stands
	// for every kind of data.
	Pattern bool `json:"pattern"`
	// Kind is "context", "resource" or "query".
	Kind  string          `json:"kind"`
	Texts map[string]Text `json:"texts"`
}

// Text is the description of a scope in one language.
type Text struct {
	Short       string `json:"short"`
	Long        string `json:"long"`
	Explainable bool   `json:"explainable"`
	Warning     string `json:"warning,omitempty"`
}

// Scope kinds.
const (
	kindContext  = "context"
	kindResource = "resource"
	kindQuery    = "query"
)

// contexts are the scope contexts, in the order of the SMART guide.
var contexts = []string{"patient", "user", "system"}

// permissionSets are the permission suffixes the metadata lists for each
// context and resource type: read and search, everything, create only,
// search only.
var permissionSets = []string{"rs", "cruds", "c", "s"}

// queryExample is a query-based scope the documentation shows, with what
// it demonstrates.
type queryExample struct {
	Scope string
	Note  string
}

// queryExamples shows how query-based scopes are described: names the
// catalog knows (a category, with or without its code system, a code,
// several alternatives) and queries it cannot say simply.
var queryExamples = []queryExample{
	{"patient/Observation.rs?category=laboratory", "A category the catalog knows, written bare."},
	{"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs", "The same kind of query with its code system."},
	{"patient/Observation.rs?category=laboratory,vital-signs", "Several alternatives, separated by commas as in a FHIR search."},
	{"patient/Condition.rs?category=problem-list-item", "A category of another kind of data."},
	{"patient/Observation.rs?code=http://loinc.org|85354-9", "A code the catalog knows (a LOINC code)."},
	{"patient/Observation.rs?status=final", "A search parameter the catalog cannot name: shown with a warning and the raw scope."},
	{"patient/Observation.rs?category=laboratory&date=ge2020-01-01", "Several parameters: shown with a warning and the raw scope."},
}

// compartmentTypes returns the resource types of the FHIR R4 patient
// compartment definition (sampledata), in its order.
func compartmentTypes() ([]string, error) {
	b, err := fs.ReadFile(sampledata.FS, "definitions/compartmentdefinition-patient.json")
	if err != nil {
		return nil, fmt.Errorf("consentdocs: %w", err)
	}
	var def struct {
		Resource []struct {
			Code string `json:"code"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(b, &def); err != nil {
		return nil, fmt.Errorf("consentdocs: compartment definition: %w", err)
	}
	types := make([]string, 0, len(def.Resource))
	for _, r := range def.Resource {
		if r.Code != "" {
			types = append(types, r.Code)
		}
	}
	if len(types) == 0 {
		return nil, fmt.Errorf("consentdocs: compartment definition lists no resource types")
	}
	return types, nil
}

// metadataScopes lists, in the document's order and without repeats, the
// scopes the metadata describes: the context scopes, the scopes
// SupportedScopes advertises, each context with "*" and each compartment
// type crossed with permissionSets, then queryExamples.
func metadataScopes(texts *scopetext.Catalog, types []string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range smart.ContextScopes {
		add(s)
	}
	for _, s := range texts.SupportedScopes() {
		add(s)
	}
	for _, ctx := range contexts {
		for _, typ := range append([]string{"*"}, types...) {
			for _, p := range permissionSets {
				add(ctx + "/" + typ + "." + p)
			}
		}
	}
	for _, q := range queryExamples {
		add(q.Scope)
	}
	return out
}

// buildMetadata describes every scope of metadataScopes in every catalog
// language.
func buildMetadata(texts *scopetext.Catalog, types []string) Metadata {
	m := Metadata{Version: MetadataVersion, GeneratedBy: "smartlaunch"}
	langs := texts.Languages()
	for _, l := range langs {
		m.Languages = append(m.Languages, l.String())
	}
	for _, raw := range metadataScopes(texts, types) {
		s := Scope{Scope: raw, Kind: kindContext, Texts: make(map[string]Text, len(langs))}
		if !smart.IsContextScope(raw) {
			s.Kind = kindResource
			if p, err := smart.ParseScope(raw); err == nil {
				s.Pattern = p.ResourceType == "*"
				if len(p.Query) > 0 {
					s.Kind = kindQuery
				}
			}
		}
		for i, l := range langs {
			t := texts.Explain(raw, l)
			s.Texts[m.Languages[i]] = Text{Short: t.Short, Long: t.Long, Explainable: t.Explainable, Warning: t.Warning}
		}
		m.Scopes = append(m.Scopes, s)
	}
	return m
}
