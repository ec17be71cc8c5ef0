package fhir

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestUnsupportedParameters checks FHIR R4 search §3.1.1.3.1: an
// unsupported parameter is refused with 400 under "Prefer:
// handling=strict", and otherwise left out, with the self link showing only
// the applied parameters and an outcome entry naming the others. Malformed
// values of supported parameters are 400 either way (issue 3, "Bad input").
func TestUnsupportedParameters(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		ts := m.serve(t, sampleStore(t), fakeVerifier{"all": access("user/*.rs", ""), "pt": access("patient/*.read", p355)})
		const strict = "Prefer: handling=strict"
		lab := oracleIDs(t, in("Observation", p355).and(category("laboratory")))
		for _, tc := range []struct {
			name, token, path string
			strictStatus      int      // status under strict handling
			want              []string // lenient matches
			self              []string // parameters in the lenient self link, besides _count and _offset
			ignored           string   // named in the lenient outcome entry
		}{
			{"unknown parameter", "pt", "/Observation?foo=bar&category=laboratory", 400, lab, []string{"category"}, `"foo"`},
			{"unknown modifier", "pt", "/Observation?code:text=x&category=laboratory", 400, lab, []string{"category"}, `"code:text"`},
			{"parameter of another type", "pt", "/Observation?gender=male&category=laboratory", 400, lab, []string{"category"}, `"gender"`},
			{"_sort on a parameter that is not a date", "pt", "/Observation?_sort=code&category=laboratory", 400, lab, []string{"category"}, `"_sort"`},
			{"wildcard _include", "pt", "/Observation?_include=*&category=laboratory", 400, lab, []string{"category"}, `"_include=*"`},
			{"_include:iterate", "pt", "/Observation?_include:iterate=Observation:patient&category=laboratory", 400, lab, []string{"category"}, `"_include:iterate"`},
			{"_include of another type", "pt", "/Observation?_include=Encounter:patient&category=laboratory", 400, lab, []string{"category"}, `"_include=Encounter:patient"`},
			{"two-level chain", "pt", "/Observation?patient.organization.name=x&category=laboratory", 400, lab, []string{"category"}, `"patient.organization.name"`},
			{"nested _has", "pt", "/Patient?_has:Observation:patient:_has:x=y", 400, []string{"Patient/" + p355}, nil, `"_has:Observation:patient:_has:x"`},
			{"supported only", "pt", "/Observation?category=laboratory", 200, lab, []string{"category"}, ""},
			{"system search parameter not common to every type", "pt", "/?_type=Observation,Patient&category=laboratory", 400,
				oracleIDs(t, in("Observation", p355).or(in("Patient", p355))), []string{"_type"}, `"category"`},
			{"type history parameter", "all", "/Organization/_history?_since=2020", 400, oracleIDs(t, ofType("Organization")), nil, `"_since"`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				strictAns := fetch(t, ts, tc.token, tc.path, strict)
				if strictAns.status != tc.strictStatus {
					t.Errorf("strict: status %d, want %d", strictAns.status, tc.strictStatus)
				} else if tc.strictStatus == 400 && strictAns.code != "not-supported" {
					t.Errorf("strict: issue code %q, want not-supported", strictAns.code)
				}
				for _, headers := range [][]string{nil, {"Prefer: handling=lenient"}} {
					got := fetch(t, ts, tc.token, tc.path+"&_count=200", headers...)
					if got.status != 200 {
						t.Fatalf("lenient: status %d (%s), want 200", got.status, got.code)
					}
					if !slices.Equal(got.ids, tc.want) {
						t.Errorf("lenient: %d matches, want %d", len(got.ids), len(tc.want))
					}
					if p := selfParams(t, got.self); !slices.Equal(p, tc.self) {
						t.Errorf("lenient: self link %s has parameters %v, want %v", got.self, p, tc.self)
					}
					if !strings.Contains(got.ignored, tc.ignored) || (tc.ignored == "") != (got.ignored == "") {
						t.Errorf("lenient: outcome names %q, want %q", got.ignored, tc.ignored)
					}
				}
			})
		}
	})
}

// selfParams returns the sorted parameter names of a self link, without
// _count and _offset.
func selfParams(t *testing.T, self string) []string {
	u, err := url.Parse(self)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for k := range u.Query() {
		if k != "_count" && k != offsetParam {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// TestMalformedValues checks that malformed values of supported parameters
// are refused under lenient handling too.
func TestMalformedValues(t *testing.T) {
	ts := newTestServer(t, sampleStore(t), fakeVerifier{"all": access("user/*.rs", "")})
	for _, path := range []string{
		"/Observation?date=yesterday", "/Observation?patient.birthdate=soon", "/Patient?birthdate=xx2020",
		"/Patient?_has:Observation:patient:date=soon", "/Observation?code=", "/Patient?name=",
		"/?_type=Patient&_id=a%2Cb%2C", "/Observation?_count=x",
	} {
		for _, prefer := range []string{"Prefer: handling=lenient", "Prefer: handling=strict"} {
			if got := fetch(t, ts, "all", path, prefer); got.status != 400 || got.code != "invalid" {
				t.Errorf("GET %s (%s): %d %q, want 400 invalid", path, prefer, got.status, got.code)
			}
		}
	}
}

func TestStrictHandlingHeader(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"handling=strict", true}, {"return=minimal, handling=strict", true}, {"handling=\"strict\"", true},
		{"HANDLING = Strict", true}, {"handling=lenient", false}, {"", false}, {"strict", false},
	} {
		r := httptest.NewRequest("GET", "/Observation", nil)
		if tc.header != "" {
			r.Header.Set("Prefer", tc.header)
		}
		if got := strictHandling(r); got != tc.want {
			t.Errorf("strictHandling(Prefer: %s) = %v, want %v", tc.header, got, tc.want)
		}
	}
}
