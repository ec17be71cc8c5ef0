package fhir

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParseResource: whatever a client sends as a resource, validation
// and stamping either refuse it with an OperationOutcome error or store
// valid JSON of the right type and id, whose compartments are valid ids.
func FuzzParseResource(f *testing.F) {
	d := testDefs(f)
	for _, seed := range []string{
		`{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/355"}}`,
		`{"resourceType":"Observation","id":"a","meta":{"versionId":"9"},"performer":[{"reference":"http://x.test/fhir/Practitioner/1"}]}`,
		`{"resourceType":"Observation","subject":{"reference":"#c1"},"contained":[{"resourceType":"Patient","id":"c1"}]}`,
		`{"resourceType":"Observation","effectiveDateTime":"2020-01-01","valueQuantity":{"value":1.50000000000000000001}}`,
		`{"resourceType":"Observation","subject":{"reference":"Patient/../x"}}`,
		`{"resourceType":"Patient"}`, `[]`, `{"resourceType":"Observation","meta":3}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := d.parseResource(body, "Observation")
		var ae *apiError
		if err != nil {
			if !errors.As(err, &ae) || ae.Status != 400 {
				t.Fatalf("parseResource error %v is not a 400 OperationOutcome", err)
			}
			return
		}
		r, err := d.stamp(res, "x", "1", testNow)
		if err != nil {
			if !errors.As(err, &ae) {
				t.Fatalf("stamp error %v is not an OperationOutcome", err)
			}
			return
		}
		var back struct {
			ResourceType, ID string
			Meta             struct{ VersionID string }
		}
		if err := json.Unmarshal(r.JSON, &back); err != nil || back.ResourceType != "Observation" || back.ID != "x" || back.Meta.VersionID != "1" {
			t.Fatalf("stored %q (%v)", r.JSON, err)
		}
		for _, p := range r.Patients {
			if !validID(p) {
				t.Fatalf("compartment %q is not an id", p)
			}
		}
	})
}
