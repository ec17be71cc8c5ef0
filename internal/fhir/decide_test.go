package fhir

import (
	"strings"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// TestInteractionPermission checks the permission letter each interaction
// needs (R-SCOPE-05).
func TestInteractionPermission(t *testing.T) {
	want := map[interaction]smart.Permission{
		interRead: smart.Read, interVRead: smart.Read, interHistoryInstance: smart.Read,
		interSearchType: smart.Search, interHistoryType: smart.Search, interSearchSystem: smart.Search,
		interHistorySystem: smart.Search, interCreate: smart.Create, interUpdate: smart.Update, interDelete: smart.Delete,
	}
	for _, in := range interactions {
		if got := in.permission(); got != want[in] {
			t.Errorf("%v.permission() = %v, want %v", in, got, want[in])
		}
	}
}

// renderDecision renders a decision as "all", or its clauses joined by
// " | ", each "patient=P" and the rendered filters.
func renderDecision(d decision) string {
	if d.all {
		return "all"
	}
	var parts []string
	for _, c := range d.grants {
		var s []string
		if c.Patient != "" {
			s = append(s, "patient="+c.Patient)
		}
		if f := renderFilters(c.Filters); f != "" {
			s = append(s, f)
		}
		parts = append(parts, strings.Join(s, " "))
	}
	return strings.Join(parts, " | ")
}

// TestDecide covers every interaction for SMART v1 and v2 scopes in the
// patient, user and system contexts, with and without a patient context,
// and the union rule for several covering scopes (R-SCOPE-05..07, D-4).
// letters are the permissions the scopes grant on typ; every interaction
// needing another is refused with 403, every one needing one of them gets
// the decision want ("" when it must be refused though covered).
func TestDecide(t *testing.T) {
	d := testDefs(t)
	const lab = "category[laboratory]"
	for _, tc := range []struct {
		name, scopes, patient, typ, letters, want string
	}{
		{"v1 patient read", "patient/*.read", "P", "Observation", "rs", "patient=P"},
		{"v1 patient read without patient context", "patient/*.read", "", "Observation", "rs", ""},
		{"v1 patient write", "patient/*.write", "P", "Observation", "cud", "patient=P"},
		{"v1 patient all on a non-compartment type", "patient/*.*", "P", "Organization", "cruds", "all"},
		{"v1 patient read of own Patient", "patient/Patient.read", "P", "Patient", "rs", "patient=P"},
		{"v1 user read", "user/*.read", "", "Observation", "rs", "all"},
		{"v1 user write with a patient context", "user/Observation.write", "P", "Observation", "cud", "all"},
		{"v1 system all", "system/*.*", "", "Condition", "cruds", "all"},
		{"v2 patient rs", "patient/Observation.rs", "P", "Observation", "rs", "patient=P"},
		{"v2 other type not covered", "patient/Observation.rs", "P", "Condition", "", ""},
		{"v2 search only", "patient/Observation.s", "P", "Observation", "s", "patient=P"},
		{"v2 read only", "patient/Observation.r", "P", "Observation", "r", "patient=P"},
		{"v2 create only", "patient/Observation.c", "P", "Observation", "c", "patient=P"},
		{"v2 update and delete", "user/Observation.ud", "", "Observation", "ud", "all"},
		{"v2 system rs", "system/Observation.rs", "", "Observation", "rs", "all"},
		{"v2 query scope", "patient/Observation.cruds?category=laboratory", "P", "Observation", "cruds", "patient=P " + lab},
		{"v2 query scope with system|code", "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
			"P", "Observation", "rs", "patient=P category[http://terminology.hl7.org/CodeSystem/observation-category|laboratory]"},
		{"v2 user query scope", "user/Observation.rs?category=laboratory", "", "Observation", "rs", lab},
		{"union of two query scopes", "patient/Observation.rs?category=laboratory patient/Observation.rs?category=vital-signs",
			"P", "Observation", "rs", "patient=P " + lab + " | patient=P category[vital-signs]"},
		{"union with an unrestricted user scope is all", "patient/Observation.rs?category=laboratory user/Observation.rs",
			"P", "Observation", "rs", "all"},
		{"union with a plain patient scope", "patient/Observation.rs?category=laboratory patient/Observation.rs",
			"P", "Observation", "rs", "patient=P " + lab + " | patient=P"},
		{"duplicate clauses once", "patient/*.read patient/Observation.rs", "P", "Observation", "rs", "patient=P"},
		{"unsupported query grants nothing", "patient/Observation.rs?code:text=x", "P", "Observation", "rs", ""},
		{"unsupported query beside a supported one", "patient/Observation.rs?code:text=x patient/Observation.rs?category=laboratory",
			"P", "Observation", "rs", "patient=P " + lab},
		{"wildcard query on a type without the parameter", "patient/*.rs?category=laboratory", "P", "Patient", "rs", ""},
		{"result parameter in a query grants nothing", "patient/Observation.rs?_count=1", "P", "Observation", "rs", ""},
		{"chain in a query grants nothing", "patient/Observation.rs?patient.gender=male", "P", "Observation", "rs", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := access(tc.scopes, tc.patient)
			for _, in := range interactions {
				dec, err := d.decide(a, tc.typ, in, testNow)
				letter := string(permLetter(in.permission()))
				switch {
				case !strings.Contains(tc.letters, letter) || tc.want == "":
					if err == nil || outcomeStatus(err) != 403 {
						t.Errorf("%v: decision %q, %v; want 403", in, renderDecision(dec), err)
					}
				case err != nil:
					t.Errorf("%v: %v; want %q", in, err, tc.want)
				case renderDecision(dec) != tc.want:
					t.Errorf("%v: decision %q, want %q", in, renderDecision(dec), tc.want)
				}
			}
		})
	}
}

// permLetter is the v2 letter of p.
func permLetter(p smart.Permission) byte {
	for i := range 5 {
		if p == 1<<i {
			return "cruds"[i]
		}
	}
	return '?'
}

func outcomeStatus(err error) int {
	if ae, ok := err.(*apiError); ok {
		return ae.Status
	}
	return 0
}

// TestDecisionPermits checks the decision applied to single resources, as
// read, vread, update and delete apply it to the stored resource and
// create and update to the new content: a resource is permitted when any
// covering scope's clause (compartment AND query) matches it.
func TestDecisionPermits(t *testing.T) {
	d := testDefs(t)
	obs := func(patient, category string, date string) store.Resource {
		lo, hi := must2(dateRange(date))
		return store.Resource{Type: "Observation", ID: "o", Patients: []string{patient}, Index: []store.IndexEntry{
			{Param: "category", System: "http://terminology.hl7.org/CodeSystem/observation-category", Value: category},
			{Param: "date", Low: lo, High: hi}}}
	}
	labP, vitalP, labQ := obs("P", "laboratory", "2020-05-01"), obs("P", "vital-signs", "2021"), obs("Q", "laboratory", "2020")
	for _, tc := range []struct {
		name, scopes string
		in           interaction
		want         []bool // labP, vitalP, labQ
	}{
		{"patient read", "patient/Observation.rs", interRead, []bool{true, true, false}},
		{"patient create (new content)", "patient/Observation.c", interCreate, []bool{true, true, false}},
		{"patient update (stored and new)", "patient/Observation.u", interUpdate, []bool{true, true, false}},
		{"patient delete", "patient/Observation.d", interDelete, []bool{true, true, false}},
		{"query scope vread", "patient/Observation.rs?category=laboratory", interVRead, []bool{true, false, false}},
		{"query scope on system|code", "patient/Observation.r?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
			interHistoryInstance, []bool{true, false, false}},
		{"query scope with wrong system", "patient/Observation.r?category=urn:x|laboratory", interRead, []bool{false, false, false}},
		{"date query scope", "patient/Observation.c?date=ge2021", interCreate, []bool{false, true, false}},
		{"union across patient and user", "patient/Observation.r?category=vital-signs user/Observation.r?category=laboratory",
			interRead, []bool{true, true, true}},
		{"user update", "user/Observation.u", interUpdate, []bool{true, true, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec, err := d.decide(access(tc.scopes, "P"), "Observation", tc.in, testNow)
			if err != nil {
				t.Fatalf("decide: %v", err)
			}
			for i, r := range []store.Resource{labP, vitalP, labQ} {
				if got := dec.permits(r); got != tc.want[i] {
					t.Errorf("permits(%s) = %v, want %v", []string{"labP", "vitalP", "labQ"}[i], got, tc.want[i])
				}
			}
		})
	}
}

func must2(lo, hi time.Time, err error) (time.Time, time.Time) {
	if err != nil {
		panic(err)
	}
	return lo, hi
}
