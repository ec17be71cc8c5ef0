package fhir

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/smartlaunch/smartlaunch/sampledata"
)

// TestEverything: Patient $everything answers the Patient and its
// compartment, limited to what the token's scopes let it search (A-92:
// "results limited to P1 and to scoped types"), another patient is 404
// as for a read, and operations the access decision does not model are
// refused, not passed on (A-92: "unmodelled operations denied by
// default").
func TestEverything(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		ts := m.serve(t, sampleStore(t), fakeVerifier{
			"pt":    access("patient/*.rs", p355),
			"lab":   access("patient/Patient.r patient/Observation.rs?category=laboratory", p355),
			"user":  access("user/*.rs", ""),
			"noPat": access("patient/Observation.rs", p355),
			"chad":  access("patient/*.rs", chad),
		})
		// The compartment is what the CompartmentDefinition says: types it
		// lists without a parameter (Device in R4) are not in it, however
		// they reference the patient.
		comp, err := readCompartment(sampledata.FS)
		if err != nil {
			t.Fatal(err)
		}
		inCompartment := func(p string) pred {
			return func(e sampleEntry) bool {
				return (e.Type == "Patient" || len(comp[e.Type]) > 0) && e.inCompartmentOf(p)
			}
		}
		all355 := oracleIDs(t, inCompartment(p355))
		if len(all355) < 50 || !slices.Contains(all355, "Patient/"+p355) {
			t.Fatalf("oracle: %d resources in 355's compartment", len(all355))
		}
		for _, tc := range []struct {
			name, token, path string
			status            int
			code              string
			want              []string
		}{
			{"instance", "pt", "/Patient/355/$everything", 200, "", all355},
			{"type level uses the token's patient", "pt", "/Patient/$everything", 200, "", all355},
			{"query-based scope limits it", "lab", "/Patient/355/$everything", 200, "",
				oracleIDs(t, in("Patient", p355).or(in("Observation", p355).and(category("laboratory"))))},
			{"_type", "pt", "/Patient/355/$everything?_type=Observation,Condition", 200, "",
				oracleIDs(t, in("Observation", p355).or(in("Condition", p355)))},
			{"user token names the patient", "user", "/Patient/355/$everything", 200, "", all355},
			{"another patient is 404 (A-92)", "chad", "/Patient/355/$everything", 404, "not-found", nil},
			{"user token without a patient", "user", "/Patient/$everything", 400, "not-supported", nil},
			{"no Patient read", "noPat", "/Patient/355/$everything", 403, "forbidden", nil},
			{"unknown _type", "pt", "/Patient/355/$everything?_type=Spaceship", 400, "invalid", nil},
			{"$export is not modelled", "user", "/$export", 400, "not-supported", nil},
			{"Patient $export", "pt", "/Patient/$export", 400, "not-supported", nil},
			{"instance operation", "pt", "/Observation/x/$validate", 400, "not-supported", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := get(t, ts.URL+"/fhir"+tc.path, tc.token, nil)
				if status != tc.status {
					t.Fatalf("status %d, want %d: %.300s", status, tc.status, body)
				}
				if status != 200 {
					if c := outcomeCode(t, body); c != tc.code {
						t.Errorf("issue code %q, want %q", c, tc.code)
					}
					return
				}
				var b bundleJSON
				if err := json.Unmarshal(body, &b); err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, e := range b.Entry {
					var r struct{ ResourceType, ID string }
					if err := json.Unmarshal(e.Resource, &r); err != nil {
						t.Fatal(err)
					}
					got = append(got, r.ResourceType+"/"+r.ID)
				}
				slices.Sort(got)
				if !slices.Equal(got, tc.want) || b.Total != len(tc.want) {
					t.Errorf("%d resources (total %d), want %d", len(got), b.Total, len(tc.want))
					for _, id := range tc.want {
						if !slices.Contains(got, id) {
							t.Errorf("missing %s", id)
							break
						}
					}
					for _, id := range got {
						if !slices.Contains(tc.want, id) {
							t.Errorf("extra %s", id)
							break
						}
					}
				}
			})
		}
		resp, _ := do(t, "POST", ts.URL+"/fhir/Patient/355/$everything", "pt", "", nil)
		if resp.StatusCode != 405 {
			t.Errorf("POST $everything: %d, want 405", resp.StatusCode)
		}
	})
}
