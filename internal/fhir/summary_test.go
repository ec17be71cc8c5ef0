package fhir

import (
	"encoding/json"
	"testing"
)

// TestSummaryCount: _summary=count answers only the total, and the total
// counts only what the token may search — a query-based scope narrows it
// exactly as it narrows the matches, so a count never reveals resources
// the token cannot see (issue 10: "counts and paging cover only readable
// data"). _total is accepted and every total is accurate; unsupported
// summaries are refused.
func TestSummaryCount(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		ts := m.serve(t, sampleStore(t), fakeVerifier{
			"all": access("user/*.rs", ""),
			"pt":  access("patient/*.rs", p355),
			"lab": access("patient/Observation.rs?category=laboratory", p355),
		})
		allObs := len(oracleIDs(t, in("Observation", p355)))
		labObs := len(oracleIDs(t, in("Observation", p355).and(category("laboratory"))))
		orgs := len(oracleIDs(t, ofType("Organization")))
		if labObs == 0 || labObs == allObs {
			t.Fatalf("sample data: %d lab of %d observations; the test needs some of each", labObs, allObs)
		}
		for _, tc := range []struct {
			name, token, path string
			status            int
			code              string // issue code of a refusal
			total             int
		}{
			{"type search", "pt", "/Observation?_summary=count", 200, "", allObs},
			{"query-based scope narrows the count", "lab", "/Observation?_summary=count", 200, "", labObs},
			{"with _total", "lab", "/Observation?_summary=count&_total=accurate", 200, "", labObs},
			{"overrides _count", "pt", "/Observation?_count=5&_summary=count", 200, "", allObs},
			{"system search", "lab", "/?_type=Observation&_summary=count", 200, "", labObs},
			{"type history", "all", "/Organization/_history?_summary=count", 200, "", orgs},
			{"_summary=false is the default", "lab", "/Observation?_summary=false&_count=1", 200, "", labObs},
			{"content summaries are not offered", "pt", "/Observation?_summary=text", 400, "not-supported", 0},
			{"twice", "pt", "/Observation?_summary=count&_summary=count", 400, "invalid", 0},
			{"bad _total", "pt", "/Observation?_total=all", 400, "invalid", 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := get(t, ts.URL+"/fhir"+tc.path, tc.token, nil)
				if status != tc.status {
					t.Fatalf("status %d, want %d: %s", status, tc.status, body)
				}
				if tc.status != 200 {
					if code := outcomeCode(t, body); code != tc.code {
						t.Errorf("issue code %q, want %q", code, tc.code)
					}
					return
				}
				var b bundleJSON
				if err := json.Unmarshal(body, &b); err != nil || b.ResourceType != "Bundle" {
					t.Fatalf("not a Bundle (%v): %s", err, body)
				}
				wantEntries := 0
				if tc.name == "_summary=false is the default" {
					wantEntries = 1
				}
				if b.Type != "searchset" && b.Type != "history" || b.Total != tc.total || len(b.Entry) != wantEntries {
					t.Errorf("%s Bundle with total %d and %d entries, want total %d and %d entries",
						b.Type, b.Total, len(b.Entry), tc.total, wantEntries)
				}
			})
		}
	})
}
