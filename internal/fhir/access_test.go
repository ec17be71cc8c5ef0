package fhir

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
)

// TestScopeEnforcement covers SMART App Launch 2.1 scope rules on reads
// and searches over the sample data.
func TestScopeEnforcement(t *testing.T) {
	chadObs, otherObs := firstObs(t, chad), firstObs(t, p355)
	tokens := fakeVerifier{
		"patient-v2":       access("launch/patient patient/Observation.rs patient/Patient.r", chad),
		"patient-v1":       access("patient/*.read", chad),
		"patient-no-ctx":   access("patient/Observation.rs", ""),
		"patient-read":     access("patient/Observation.r", chad),
		"user":             access("user/*.rs", ""),
		"user-and-patient": access("patient/Observation.rs user/Observation.rs", chad),
		"granular":         access("patient/Observation.rs?category=laboratory", chad),
		"granular-bad":     access("patient/Observation.rs?code:text=x", chad),
		"conditions-only":  access("patient/Condition.rs", chad),
	}
	ts := newTestServer(t, sampleStore(t), tokens)
	chadLab := count(t, func(e sampleEntry) bool {
		return e.Type == "Observation" && e.Patient == chad && has(e.Category, "laboratory")
	})
	chadAll := count(t, func(e sampleEntry) bool { return e.Type == "Observation" && e.Patient == chad })
	allObs := count(t, func(e sampleEntry) bool { return e.Type == "Observation" })
	labObs := ""
	for _, e := range sampleEntries(t) {
		if e.Type == "Observation" && e.Patient == chad && !has(e.Category, "laboratory") {
			labObs = e.ID // a non-laboratory Observation of Chad
			break
		}
	}
	for _, tc := range []struct {
		name, token, path string
		status            int
		total             int // for searches with status 200; -1 to skip
		code              string
	}{
		{"no token", "", "/Observation/" + chadObs, 401, -1, "login"},
		{"bad token", "nope", "/Observation/" + chadObs, 401, -1, "login"},
		{"patient reads own Observation", "patient-v2", "/Observation/" + chadObs, 200, -1, ""},
		{"patient reads own Patient", "patient-v2", "/Patient/" + chad, 200, -1, ""},
		{"patient reads another patient's Observation", "patient-v2", "/Observation/" + otherObs, 404, -1, "not-found"},
		{"patient reads another Patient", "patient-v2", "/Patient/" + p355, 404, -1, "not-found"},
		{"patient search confined", "patient-v2", "/Observation", 200, chadAll, ""},
		{"patient search of another patient is empty", "patient-v2", "/Observation?patient=" + p355, 200, 0, ""},
		{"patient search of Patient is own", "patient-v1", "/Patient", 200, 1, ""},
		{"patient/Patient.r cannot search", "patient-v2", "/Patient", 403, -1, "forbidden"},
		{"type not granted", "patient-v2", "/Condition?patient=" + chad, 403, -1, "forbidden"},
		{"read not granted on type", "conditions-only", "/Observation/" + chadObs, 403, -1, "forbidden"},
		{"v1 patient/*.read reads", "patient-v1", "/Observation/" + chadObs, 200, -1, ""},
		{"v1 patient/*.read searches", "patient-v1", "/Observation", 200, chadAll, ""},
		{"v1 patient/*.read refuses another patient", "patient-v1", "/Observation/" + otherObs, 404, -1, "not-found"},
		{"v1 patient scope sees non-compartment types", "patient-v1", "/Organization?_count=1", 200, -1, ""},
		{"patient scope without patient context", "patient-no-ctx", "/Observation", 403, -1, "forbidden"},
		{"read-only scope cannot search", "patient-read", "/Observation", 403, -1, "forbidden"},
		{"read-only scope can read", "patient-read", "/Observation/" + chadObs, 200, -1, ""},
		{"user scope sees all", "user", "/Observation", 200, allObs, ""},
		{"user scope reads any", "user", "/Observation/" + otherObs, 200, -1, ""},
		{"union of a user and a patient scope (any scope allows)", "user-and-patient", "/Observation/" + otherObs, 200, -1, ""},
		{"granular scope filters search", "granular", "/Observation", 200, chadLab, ""},
		{"granular scope hides other categories on read", "granular", "/Observation/" + labObs, 404, -1, "not-found"},
		{"unsupported granular query", "granular-bad", "/Observation", 403, -1, "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, http.MethodGet, ts.URL+"/fhir"+tc.path, tc.token, "", nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %.300s", resp.StatusCode, tc.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != contentType {
				t.Errorf("Content-Type = %q", ct)
			}
			if tc.code != "" {
				if got := outcomeCode(t, body); got != tc.code {
					t.Errorf("issue code = %q, want %q", got, tc.code)
				}
			}
			if tc.status == 200 && tc.total >= 0 {
				if b := decodeBundle(t, body); b.Total != tc.total {
					t.Errorf("total = %d, want %d", b.Total, tc.total)
				}
			}
		})
	}
}

// outcomeCode returns issue[0].code of an OperationOutcome (checking
// severity error).
func outcomeCode(t *testing.T, body []byte) string {
	t.Helper()
	var oo fhirwire.OperationOutcome
	if err := json.Unmarshal(body, &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
		t.Fatalf("not an OperationOutcome (%v): %.300s", err, body)
	}
	if oo.Issue[0].Severity != "error" {
		t.Errorf("severity = %q, want error", oo.Issue[0].Severity)
	}
	return oo.Issue[0].Code
}
