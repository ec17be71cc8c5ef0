package fhir

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestHistorySystem: GET /_history needs a search permission and shows
// only what the token could search — across types, narrowed by query-based
// scopes and _type, every page followed.
func TestHistorySystem(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		ts := m.serve(t, sampleStore(t), fakeVerifier{
			"lab":  access("patient/Observation.rs?category=laboratory", p355),
			"pt":   access("patient/*.rs", p355),
			"read": access("patient/Patient.r", p355),
		})
		for _, tc := range []struct {
			name, token, path string
			status            int
			want              []string
		}{
			{"query-based scope", "lab", "/_history?_count=40", 200, oracleIDs(t, in("Observation", p355).and(category("laboratory")))},
			{"_type", "pt", "/_history?_type=Condition,Encounter&_count=40", 200,
				oracleIDs(t, in("Condition", p355).or(in("Encounter", p355)))},
			{"read without search", "read", "/_history", 403, nil},
			{"a _type the token may not search", "lab", "/_history?_type=Condition", 403, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var got []string
				next := ts.URL + "/fhir" + tc.path
				for next != "" {
					status, body := get(t, next, tc.token, nil)
					if status != tc.status {
						t.Fatalf("GET %s: %d, want %d", next, status, tc.status)
					}
					if status != 200 {
						return
					}
					var b struct {
						Type  string
						Link  []struct{ Relation, URL string }
						Entry []struct {
							Resource struct{ ResourceType, ID string }
							Request  struct{ Method, URL string }
						}
					}
					if err := json.Unmarshal(body, &b); err != nil || b.Type != "history" {
						t.Fatalf("not a history Bundle (%v): %.200s", err, body)
					}
					next = ""
					for _, l := range b.Link {
						if l.Relation == "next" {
							next = localURL(ts, l.URL)
						}
					}
					for _, e := range b.Entry {
						if e.Request.Method == "" {
							t.Errorf("entry %s/%s has no request", e.Resource.ResourceType, e.Resource.ID)
						}
						got = append(got, e.Resource.ResourceType+"/"+e.Resource.ID)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, tc.want) {
					t.Errorf("%d resources, want %d", len(got), len(tc.want))
				}
			})
		}
	})
}
