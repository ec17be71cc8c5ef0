package fhir

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

const (
	obsCategory  = "http://terminology.hl7.org/CodeSystem/observation-category"
	condCategory = "http://terminology.hl7.org/CodeSystem/condition-category"
)

// scopeCase is one request under one token: the expected status and, for
// 200, the exact "Type/id" sets of matches and included resources and
// whether included resources were reported withheld (D-6).
type scopeCase struct {
	name, token, path string
	status            int
	code              string // issue code when status is not 200
	want, include     []string
	withheld          bool
}

// sampleFacts are ids and codes picked from the sample data by the oracle.
type sampleFacts struct {
	labObs, vitalObs, otherLabObs, otherObs string // 355's lab and non-lab, chad's lab and one without sharedLab
	sharedLab                               string // system|code of a lab test 355 and other patients have
	vitalOnly                               string // system|code 355 has only on non-lab Observations
	chadShared                              string // system|code chad and other patients have
	problem, encDiag                        string // 355's problem-list-item and encounter-diagnosis Conditions
	otherShared                             string // an Observation of another patient with code sharedLab
}

func pickFacts(t *testing.T) sampleFacts {
	var f sampleFacts
	obs := func(p string, keep func(sampleEntry) bool) []sampleEntry {
		var out []sampleEntry
		for _, e := range sampleEntries(t) {
			if e.Type == "Observation" && e.inCompartmentOf(p) && keep(e) {
				out = append(out, e)
			}
		}
		return out
	}
	isLab := func(e sampleEntry) bool { return has(e.Category, obsCategory+"|laboratory") }
	sharedWith := func(p, code string) string {
		for _, e := range sampleEntries(t) {
			if e.Type == "Observation" && !e.inCompartmentOf(p) && slices.Contains(e.Code, code) {
				return e.ID
			}
		}
		return ""
	}
	labs, nonLabs := obs(p355, isLab), obs(p355, func(e sampleEntry) bool { return !isLab(e) })
	f.labObs, f.vitalObs = labs[0].ID, nonLabs[0].ID
	f.otherLabObs = obs(chad, isLab)[0].ID
	for _, e := range labs {
		if f.otherShared = sharedWith(p355, e.Code[0]); f.otherShared != "" {
			f.sharedLab = e.Code[0]
			break
		}
	}
	for _, e := range nonLabs {
		if len(e.Code) > 0 && len(obs(p355, func(l sampleEntry) bool { return isLab(l) && slices.Contains(l.Code, e.Code[0]) })) == 0 {
			f.vitalOnly = e.Code[0]
			break
		}
	}
	for _, e := range obs(chad, func(sampleEntry) bool { return true }) {
		if f.chadShared == "" && sharedWith(chad, e.Code[0]) != "" {
			f.chadShared = e.Code[0]
		}
		if f.otherObs == "" && !slices.Contains(e.Code, f.sharedLab) {
			f.otherObs = e.ID
		}
	}
	for _, e := range sampleEntries(t) {
		if e.Type == "Condition" && e.inCompartmentOf(p355) {
			if has(e.Category, condCategory+"|problem-list-item") {
				f.problem = e.ID
			} else if has(e.Category, condCategory+"|encounter-diagnosis") {
				f.encDiag = e.ID
			}
		}
	}
	if f.sharedLab == "" || f.vitalOnly == "" || f.chadShared == "" || f.problem == "" || f.encDiag == "" || f.otherObs == "" {
		t.Fatalf("sample data lacks the cases the tests need: %+v", f)
	}
	return f
}

// TestScopesOnSampleData checks, on the real sample data, what each token
// may read and search, including _include, _revinclude, chained
// parameters and _has, against sets computed by scanning the Bundles
// (R-SCOPE-05..08, D-4, D-6). The cases are in scopecases_test.go.
func TestScopesOnSampleData(t *testing.T) {
	f := pickFacts(t)
	tokens := fakeVerifier{
		"star":     access("patient/*.read", p355),
		"lab":      access("patient/Observation.rs?category=laboratory", p355),
		"labsys":   access("patient/Observation.rs?category="+url.QueryEscape(obsCategory+"|laboratory"), p355),
		"problems": access("patient/Condition.rs?category=problem-list-item", p355),
		"userpt":   access("user/Patient.rs", ""),
		"sonly":    access("patient/Observation.s", p355),
		"union":    access("patient/Observation.rs?category=laboratory user/Observation.rs?code="+url.QueryEscape(f.sharedLab), p355),
		"labpt":    access("patient/Patient.rs patient/Observation.rs?category=laboratory", p355),
		"chadobs":  access("user/Patient.rs patient/Observation.rs", chad),
	}
	forModes(t, func(t *testing.T, m mode) {
		ts := m.serve(t, sampleStore(t), tokens)
		for _, tc := range scopeCases(t, f) {
			testScopeCase(t, ts, tc)
		}
	})
}

// testScopeCase runs one case of TestScopesOnSampleData.
func testScopeCase(t *testing.T, ts *httptest.Server, tc scopeCase) {
	t.Run(tc.token+"/"+tc.name, func(t *testing.T) {
		got := fetch(t, ts, tc.token, tc.path)
		if got.status != tc.status {
			t.Fatalf("GET %s: status %d (%s), want %d", tc.path, got.status, got.code, tc.status)
		}
		if tc.status != 200 {
			if got.code != tc.code {
				t.Errorf("issue code %q, want %q", got.code, tc.code)
			}
			return
		}
		t.Logf("%d matches, %d included, withheld %v", len(got.ids), len(got.include), got.withheld)
		if !slices.Equal(got.ids, tc.want) {
			t.Errorf("GET %s: matches differ from the sample data\n got  %d %s\n want %d %s",
				tc.path, len(got.ids), abbrev(got.ids), len(tc.want), abbrev(tc.want))
		}
		if !slices.Equal(got.include, tc.include) {
			t.Errorf("GET %s: included differ\n got  %s\n want %s", tc.path, abbrev(got.include), abbrev(tc.include))
		}
		if got.withheld != tc.withheld {
			t.Errorf("GET %s: withheld outcome = %v, want %v (D-6)", tc.path, got.withheld, tc.withheld)
		}
	})
}

func abbrev(ids []string) string {
	if len(ids) > 8 {
		return strings.Join(ids[:8], " ") + " ..."
	}
	return strings.Join(ids, " ")
}
