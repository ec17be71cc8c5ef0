package fhir

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestElements: _elements cuts the matches of a search (and the versions
// of a history) down to the named top-level elements — "value" keeping
// every value[x] form — plus id, meta and the modifier elements, tags them
// SUBSETTED (FHIR R4 search §3.1.1.5.9), and leaves included resources
// whole. Malformed names are refused.
func TestElements(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		ts := m.serve(t, sampleStore(t), fakeVerifier{"all": access("user/*.rs", ""), "pt": access("patient/*.rs", p355)})
		lab := oracleIDs(t, in("Observation", p355).and(category("laboratory")))
		for _, tc := range []struct {
			name, token, path string
			matches           int
			allowed           []string // the keys a match may have
			mustHave          string   // a key every match has
			includedWhole     string   // a key an included resource keeps
		}{
			{"search", "pt", "/Observation?category=laboratory&_elements=status,value&_count=500", len(lab),
				[]string{"resourceType", "id", "meta", "status", "valueQuantity", "valueCodeableConcept", "valueString"}, "status", ""},
			{"choice type named with [x], and includes left whole", "pt",
				"/Observation?category=laboratory&_elements=value[x]&_include=Observation:patient&_count=500", len(lab),
				[]string{"resourceType", "id", "meta", "valueQuantity", "valueCodeableConcept", "valueString"}, "meta", "name"},
			{"type history", "all", "/Organization/_history?_elements=name&_count=500", len(oracleIDs(t, ofType("Organization"))),
				[]string{"resourceType", "id", "meta", "name"}, "name", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := get(t, ts.URL+"/fhir"+tc.path, tc.token, nil)
				if status != 200 {
					t.Fatalf("status %d: %s", status, body)
				}
				var b struct {
					Link  []struct{ Relation, URL string }
					Entry []struct {
						Resource map[string]json.RawMessage
						Search   struct{ Mode string }
					}
				}
				if err := json.Unmarshal(body, &b); err != nil {
					t.Fatal(err)
				}
				matches, included := 0, 0
				for _, e := range b.Entry {
					if e.Search.Mode == "include" {
						included++
						if _, ok := e.Resource[tc.includedWhole]; !ok {
							t.Errorf("an included %s lost %q", e.Resource["resourceType"], tc.includedWhole)
						}
						continue
					}
					matches++
					for key := range e.Resource {
						if !has(tc.allowed, key) {
							t.Errorf("match %s kept %q", e.Resource["id"], key)
						}
					}
					if _, ok := e.Resource[tc.mustHave]; !ok {
						t.Errorf("match %s lacks %q", e.Resource["id"], tc.mustHave)
					}
					if !strings.Contains(string(e.Resource["meta"]), `"code":"SUBSETTED"`) {
						t.Errorf("match %s is not tagged SUBSETTED: %s", e.Resource["id"], e.Resource["meta"])
					}
				}
				if matches != tc.matches || (tc.includedWhole != "") != (included > 0) {
					t.Errorf("%d matches and %d included, want %d matches", matches, included, tc.matches)
				}
				if len(b.Link) == 0 || !strings.Contains(b.Link[0].URL, "_elements=") {
					t.Errorf("self link %v does not show _elements", b.Link)
				}
			})
		}
		for _, bad := range []string{"Status", "subject.reference", "status,,code", "value[", strings.Repeat("a,", 51) + "a"} {
			status, body := get(t, ts.URL+"/fhir/Observation?_elements="+bad, "pt", nil)
			if status != 400 || outcomeCode(t, body) != "invalid" {
				t.Errorf("_elements=%.20s: status %d, want 400 invalid", bad, status)
			}
		}
	})
}
