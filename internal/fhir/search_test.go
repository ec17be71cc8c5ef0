package fhir

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	chad = "f120016e-295c-48b8-a7be-34dc0127d7e6" // Synthea, urn:uuid references
	p355 = "355"                                  // Inferno US Core
)

// searchBundle is the part of a searchset Bundle the tests read.
type searchBundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Total        int    `json:"total"`
	Link         []struct {
		Relation, URL string
	} `json:"link"`
	Entry []struct {
		FullURL  string `json:"fullUrl"`
		Resource struct {
			ResourceType, ID string
		} `json:"resource"`
		Search struct{ Mode string } `json:"search"`
	} `json:"entry"`
}

func (b searchBundle) link(rel string) string {
	for _, l := range b.Link {
		if l.Relation == rel {
			return l.URL
		}
	}
	return ""
}

func decodeBundle(t *testing.T, body []byte) searchBundle {
	t.Helper()
	var b searchBundle
	if err := json.Unmarshal(body, &b); err != nil || b.ResourceType != "Bundle" || b.Type != "searchset" {
		t.Fatalf("not a searchset Bundle (%v): %.300s", err, body)
	}
	return b
}

func utc(s string) time.Time { return must(time.Parse(time.RFC3339, s)) }

func TestSearchCounts(t *testing.T) {
	ts := newTestServer(t, sampleStore(t), fakeVerifier{"all": access("user/*.rs", "")})
	obsOf := func(p string, keep func(sampleEntry) bool) func(sampleEntry) bool {
		return func(e sampleEntry) bool { return e.Type == "Observation" && e.Patient == p && keep(e) }
	}
	any := func(sampleEntry) bool { return true }
	y2020, y2021 := utc("2020-01-01T00:00:00Z"), utc("2021-01-01T00:00:00Z")
	for _, tc := range []struct {
		name  string
		query string
		want  func(sampleEntry) bool
	}{
		{"patient", "Observation?patient=" + chad, obsOf(chad, any)},
		{"patient as reference", "Observation?patient=Patient/" + chad, obsOf(chad, any)},
		{"subject", "Observation?subject=Patient/" + chad, obsOf(chad, any)},
		{"subject bare id", "Observation?subject=" + p355, obsOf(p355, any)},
		{"category laboratory", "Observation?patient=" + chad + "&category=laboratory",
			obsOf(chad, func(e sampleEntry) bool { return has(e.Category, "laboratory") })},
		{"category with system", "Observation?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs",
			func(e sampleEntry) bool {
				return e.Type == "Observation" && has(e.Category, "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs")
			}},
		{"category OR", "Observation?patient=" + p355 + "&category=laboratory,vital-signs",
			obsOf(p355, func(e sampleEntry) bool { return has(e.Category, "laboratory") || has(e.Category, "vital-signs") })},
		{"code system|code", "Observation?code=http://loinc.org|8302-2",
			func(e sampleEntry) bool { return e.Type == "Observation" && has(e.Code, "http://loinc.org|8302-2") }},
		{"code without system", "Observation?code=8302-2",
			func(e sampleEntry) bool { return e.Type == "Observation" && has(e.Code, "8302-2") }},
		{"code AND category", "Observation?code=8302-2&category=vital-signs",
			func(e sampleEntry) bool {
				return e.Type == "Observation" && has(e.Code, "8302-2") && has(e.Category, "vital-signs")
			}},
		{"date eq year", "Observation?date=2020",
			dated(func(lo, hi time.Time) bool { return !lo.Before(y2020) && hi.Before(y2021) && !hi.IsZero() })},
		{"date ge", "Observation?date=ge2021-01-01",
			dated(func(lo, hi time.Time) bool { return hi.IsZero() || !hi.Before(y2021) })},
		{"date lt", "Observation?date=lt2020",
			dated(func(lo, hi time.Time) bool { return lo.Before(y2020) })},
		{"date sa", "Observation?date=sa2020",
			dated(func(lo, hi time.Time) bool { return !lo.Before(y2021) })},
		{"date eb", "Observation?date=eb2021",
			dated(func(lo, hi time.Time) bool { return !hi.IsZero() && hi.Before(y2021) })},
		{"date range AND", "Observation?patient=" + chad + "&date=ge2020&date=lt2021",
			func(e sampleEntry) bool {
				return e.Type == "Observation" && e.Patient == chad && e.HasEff &&
					(e.Hi.IsZero() || !e.Hi.Before(y2020)) && e.Lo.Before(y2021)
			}},
		{"_id", "Observation?_id=" + firstObs(t, chad), func(e sampleEntry) bool { return e.Type == "Observation" && e.ID == firstObs(t, chad) }},
		{"status", "Observation?patient=" + chad + "&status=final", obsOf(chad, any)},
		{"Patient by _id", "Patient?_id=" + chad + "," + p355, func(e sampleEntry) bool {
			return e.Type == "Patient" && (e.ID == chad || e.ID == p355)
		}},
		{"count zero", "Observation?patient=" + chad + "&_count=0", obsOf(chad, any)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := count(t, tc.want)
			resp, body := do(t, http.MethodGet, ts.URL+"/fhir/"+tc.query, "all", "", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200: %s", resp.StatusCode, body)
			}
			b := decodeBundle(t, body)
			if b.Total != want {
				t.Errorf("total = %d, want %d", b.Total, want)
			}
			if want == 0 {
				t.Errorf("test case selects nothing; pick another")
			}
		})
	}
}

// dated selects Observations whose effective range satisfies keep.
func dated(keep func(lo, hi time.Time) bool) func(sampleEntry) bool {
	return func(e sampleEntry) bool { return e.Type == "Observation" && e.HasEff && keep(e.Lo, e.Hi) }
}

func firstObs(t *testing.T, patient string) string {
	for _, e := range sampleEntries(t) {
		if e.Type == "Observation" && e.Patient == patient {
			return e.ID
		}
	}
	t.Fatalf("no Observation of %s", patient)
	return ""
}

func TestSearchPaging(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		ts := m.serve(t, sampleStore(t), fakeVerifier{"all": access("user/*.rs", "")})
		want := count(t, func(e sampleEntry) bool { return e.Type == "Observation" && e.Patient == chad })
		next := ts.URL + "/fhir/Observation?patient=" + chad + "&_count=7"
		var ids []string
		pages := 0
		for next != "" {
			resp, body := do(t, http.MethodGet, next, "all", "", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d: %s", next, resp.StatusCode, body)
			}
			b := decodeBundle(t, body)
			if b.Total != want {
				t.Errorf("page %d total = %d, want %d", pages, b.Total, want)
			}
			self := b.link("self")
			if !strings.HasPrefix(self, testBase+"/Observation?") || !strings.Contains(self, "_count=7") {
				t.Errorf("self link = %q", self)
			}
			if prev := b.link("previous"); (pages > 0) != (prev != "") {
				t.Errorf("page %d previous link = %q", pages, prev)
			}
			for _, e := range b.Entry {
				if e.FullURL != testBase+"/Observation/"+e.Resource.ID || e.Search.Mode != "match" {
					t.Errorf("entry fullUrl %q, mode %q", e.FullURL, e.Search.Mode)
				}
				ids = append(ids, e.Resource.ID)
			}
			next = ""
			if l := b.link("next"); l != "" {
				next = localURL(ts, l)
			}
			pages++
		}
		if wantPages := (want + 6) / 7; pages != wantPages {
			t.Errorf("pages = %d, want %d", pages, wantPages)
		}
		if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != want {
			t.Errorf("paged through %d ids (sorted %v), want %d distinct", len(ids), slices.IsSorted(ids), want)
		}
	})
}

func TestSearchPost(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		ts := m.serve(t, sampleStore(t), fakeVerifier{"all": access("user/*.rs", "")})
		want := count(t, func(e sampleEntry) bool {
			return e.Type == "Observation" && e.Patient == chad && has(e.Category, "laboratory")
		})
		form := url.Values{"patient": {chad}, "category": {"laboratory"}}
		resp, body := do(t, http.MethodPost, ts.URL+"/fhir/Observation/_search", "all",
			"application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d: %s", resp.StatusCode, body)
		}
		if b := decodeBundle(t, body); b.Total != want {
			t.Errorf("total = %d, want %d", b.Total, want)
		}
	})
}

// TestCompartmentSearch: GET Patient/{id}/{type} searches the type within
// that patient's compartment, and never beyond what the token may search.
func TestCompartmentSearch(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		ts := m.serve(t, sampleStore(t), fakeVerifier{
			"all":  access("user/*.rs", ""),
			"chad": access("patient/Observation.rs", chad),
		})
		chadObs := oracleIDs(t, in("Observation", chad))
		for _, tc := range []struct {
			name, token, path string
			status            int
			want              []string
		}{
			{"user scope", "all", "/Patient/" + chad + "/Observation?_count=200", 200, chadObs},
			{"another patient's compartment", "chad", "/Patient/" + p355 + "/Observation", 200, nil},
			{"own compartment", "chad", "/Patient/" + chad + "/Observation?_count=200", 200, chadObs},
			{"with a parameter", "all", "/Patient/" + chad + "/Observation?category=laboratory&_count=200", 200,
				oracleIDs(t, in("Observation", chad).and(category("laboratory")))},
			{"a type not granted", "chad", "/Patient/" + chad + "/Condition", 403, nil},
			{"a type outside compartments", "all", "/Patient/" + chad + "/Organization", 404, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ans := fetch(t, ts, tc.token, tc.path)
				if ans.status != tc.status || !slices.Equal(ans.ids, tc.want) {
					t.Errorf("GET %s = %d with %d matches, want %d with %d", tc.path, ans.status, len(ans.ids), tc.status, len(tc.want))
				}
			})
		}
	})
}
