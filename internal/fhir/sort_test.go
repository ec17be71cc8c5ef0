package fhir

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// TestSort: _sort orders a search across every page (the paging links
// keep it), by Observation's date (effective[x]) descending or ascending,
// over the sample data, and keeps to what the token may search.
func TestSort(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		ts := m.serve(t, sampleStore(t), fakeVerifier{"lab": access("patient/Observation.rs?category=laboratory", p355)})
		want := oracleIDs(t, in("Observation", p355).and(category("laboratory")))
		for _, tc := range []struct {
			path string
			desc bool
		}{
			{"/Observation?_sort=-date&_count=7", true},
			{"/Observation?_sort=date,-_lastUpdated&_count=7", false},
		} {
			t.Run(tc.path, func(t *testing.T) {
				var ids []string
				var dates []time.Time
				next := ts.URL + "/fhir" + tc.path
				for next != "" {
					status, body := get(t, next, "lab", nil)
					if status != 200 {
						t.Fatalf("GET %s: %d %s", next, status, body)
					}
					var b struct {
						Link  []struct{ Relation, URL string }
						Entry []struct {
							Resource struct {
								ResourceType, ID  string
								EffectiveDateTime string
								EffectivePeriod   struct{ Start, End string }
							}
						}
					}
					if err := json.Unmarshal(body, &b); err != nil {
						t.Fatal(err)
					}
					next = ""
					for _, l := range b.Link {
						if l.Relation == "next" {
							next = localURL(ts, l.URL)
						}
					}
					for _, e := range b.Entry {
						// The date to compare: ascending sorts by a resource's
						// earliest value, descending by its latest.
						v := e.Resource.EffectiveDateTime
						if v == "" && tc.desc {
							v = e.Resource.EffectivePeriod.End
						} else if v == "" {
							v = e.Resource.EffectivePeriod.Start
						}
						d, err := time.Parse(time.RFC3339, v)
						if err != nil {
							t.Fatalf("%s/%s: effective[x] %q: %v", e.Resource.ResourceType, e.Resource.ID, v, err)
						}
						ids = append(ids, e.Resource.ResourceType+"/"+e.Resource.ID)
						dates = append(dates, d)
					}
				}
				if got := slices.Sorted(slices.Values(ids)); !slices.Equal(got, want) {
					t.Fatalf("%d results, want the token's %d lab observations", len(got), len(want))
				}
				sorted := slices.IsSortedFunc(dates, func(a, b time.Time) int {
					if tc.desc {
						return b.Compare(a)
					}
					return a.Compare(b)
				})
				if !sorted || dates[0].Equal(dates[len(dates)-1]) {
					t.Errorf("dates are not in %s order across pages (first %s, last %s)",
						map[bool]string{true: "descending", false: "ascending"}[tc.desc], dates[0], dates[len(dates)-1])
				}
			})
		}
	})
}

// TestSortRefusals: a malformed _sort is 400 whatever the handling.
func TestSortRefusals(t *testing.T) {
	ts := newTestServer(t, sampleStore(t), fakeVerifier{"pt": access("patient/*.rs", p355)})
	for _, q := range []string{"_sort=", "_sort=-", "_sort=date,", "_sort=date&_sort=-date", "_sort=date,date,date,date,date,date"} {
		status, body := get(t, ts.URL+"/fhir/Observation?"+q, "pt", nil)
		if status != 400 || outcomeCode(t, body) != "invalid" {
			t.Errorf("%s: status %d (%s), want 400 invalid", q, status, body)
		}
	}
}
