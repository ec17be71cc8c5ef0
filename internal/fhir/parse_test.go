package fhir

import (
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/sampledata"
)

var (
	defsOnce sync.Once
	defs     *definitions
)

func testDefs(t testing.TB) *definitions {
	t.Helper()
	defsOnce.Do(func() { defs = must(loadDefinitions(sampledata.FS)) })
	return defs
}

func TestDateRange(t *testing.T) {
	for _, tc := range []struct {
		in     string
		lo, hi string // RFC3339Nano, UTC
	}{
		{"2019", "2019-01-01T00:00:00Z", "2019-12-31T23:59:59.999999Z"},
		{"2019-02", "2019-02-01T00:00:00Z", "2019-02-28T23:59:59.999999Z"},
		{"2020-02-29", "2020-02-29T00:00:00Z", "2020-02-29T23:59:59.999999Z"},
		{"2019-05-01T10:00", "2019-05-01T10:00:00Z", "2019-05-01T10:00:59.999999Z"},
		{"2019-05-01T10:00:00Z", "2019-05-01T10:00:00Z", "2019-05-01T10:00:00.999999Z"},
		{"2019-05-01T10:00:00-04:00", "2019-05-01T14:00:00Z", "2019-05-01T14:00:00.999999Z"},
		{"2019-05-01T10:00:00.5+01:00", "2019-05-01T09:00:00.5Z", "2019-05-01T09:00:00.599999Z"},
		{"2019-05-01T10:00:00.123456789Z", "2019-05-01T10:00:00.123456789Z", "2019-05-01T10:00:00.123456789Z"},
	} {
		lo, hi, err := dateRange(tc.in)
		if err != nil {
			t.Errorf("dateRange(%q): %v", tc.in, err)
			continue
		}
		if got, want := lo.Format(time.RFC3339Nano)+" "+hi.Format(time.RFC3339Nano), tc.lo+" "+tc.hi; got != want {
			t.Errorf("dateRange(%q) = %s, want %s", tc.in, got, want)
		}
	}
	for _, bad := range []string{"", "19", "2019-13", "2019-02-30", "2019-05-01T", "2019-05-01T25:00", "2019-05-01 10:00", "yesterday"} {
		if _, _, err := dateRange(bad); err == nil {
			t.Errorf("dateRange(%q): no error", bad)
		}
	}
}

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		in     string
		ok     bool
		base   string
		steps  string
		as, is string
	}{
		{"Observation.code", true, "Observation", "code", "", ""},
		{"Observation.subject.where(resolve() is Patient)", true, "Observation", "subject", "", "Patient"},
		{"(RiskAssessment.occurrence as dateTime)", true, "RiskAssessment", "occurrence", "dateTime", ""},
		{"MedicationRequest.dosageInstruction.timing.event", true, "MedicationRequest", "dosageInstruction.timing.event", "", ""},
		{"Observation.code.where(system='x')", false, "", "", "", ""},
		{"Observation", false, "", "", "", ""},
		{"Patient.name.given.first()", false, "", "", "", ""},
	} {
		p, ok := parsePath(tc.in)
		if ok != tc.ok || ok && (p.base != tc.base || strings.Join(p.steps, ".") != tc.steps || p.as != tc.as || p.resolveIs != tc.is) {
			t.Errorf("parsePath(%q) = %+v, %v", tc.in, p, ok)
		}
	}
}

func TestIndex(t *testing.T) {
	res := map[string]any{
		"resourceType": "Observation", "id": "o1", "status": "final",
		"category":        []any{map[string]any{"coding": []any{map[string]any{"system": "cat", "code": "laboratory"}}}},
		"code":            map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "1-8"}, map[string]any{"code": "x"}}},
		"subject":         map[string]any{"reference": "Patient/p1"},
		"performer":       []any{map[string]any{"reference": "Practitioner/d1"}, map[string]any{"reference": "http://other/fhir/Patient/p2/_history/3"}},
		"effectivePeriod": map[string]any{"start": "2020-05-01"},
	}
	r, err := testDefs(t).index(res)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"_id||o1": true, "status||final": true, "category|cat|laboratory": true,
		"code|http://loinc.org|1-8": true, "code||x": true, "patient||Patient/p1": true, "subject||Patient/p1": true,
		"performer||Practitioner/d1": true, "performer||Patient/p2": true, "date": true}
	got := map[string]bool{}
	for _, e := range r.Index {
		if e.IsDate() {
			got["date"] = e.Low.Equal(time.Date(2020, 5, 1, 0, 0, 0, 0, time.UTC)) && e.High.IsZero()
			continue
		}
		got[e.Param+"|"+e.System+"|"+e.Value] = true
	}
	if len(got) != len(want) {
		t.Errorf("index = %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("index lacks %s: %v", k, r.Index)
		}
	}
	if strings.Join(r.Patients, ",") != "p1,p2" {
		t.Errorf("Patients = %v, want [p1 p2]", r.Patients)
	}
}

func TestParseSearch(t *testing.T) {
	d := testDefs(t)
	for _, tc := range []struct {
		query string
		want  string // rendered filters
	}{
		{"code=a,b", "code[a b]"},
		{"code=http://loinc.org|1-8", "code[http://loinc.org|1-8]"},
		{"code=|x", "code[|x]"},
		{`code=a\,b`, "code[a,b]"},
		{"patient=p1", "patient[Patient/p1]"},
		{"patient=http://x/fhir/Patient/p1", "patient[Patient/p1]"},
		{"date=ge2020&date=lt2021", "date[ge2020-01-01] date[lt2021-01-01]"},
		{"_id=a&_count=5&_offset=10&_format=json", "_id[a]"},
	} {
		params := must(url.ParseQuery(tc.query))
		s, err := d.parseSearch("Observation", params, true, testNow)
		if err != nil {
			t.Errorf("parseSearch(%q): %v", tc.query, err)
			continue
		}
		if got := renderFilters(s.Filters); got != tc.want {
			t.Errorf("parseSearch(%q) = %s, want %s", tc.query, got, tc.want)
		}
	}
}

func renderFilters(fs []store.Filter) string {
	var parts []string
	for _, f := range fs {
		var alts []string
		for _, m := range f.Any {
			switch {
			case m.Prefix != "":
				alts = append(alts, m.Prefix+m.Low.Format(time.DateOnly))
			case m.HasSystem:
				alts = append(alts, m.System+"|"+m.Value)
			default:
				alts = append(alts, m.Value)
			}
		}
		parts = append(parts, f.Param+"["+strings.Join(alts, " ")+"]")
	}
	return strings.Join(parts, " ")
}

// FuzzParseSearch checks that no query string makes the search parser
// panic, under strict or lenient handling, and that what it accepts is
// within the limits: every filter has alternatives, chained and _has
// queries are one level deep over known types, includes name known types,
// and strict handling never leaves a parameter out.
func FuzzParseSearch(f *testing.F) {
	for _, seed := range []string{
		"patient=123&category=laboratory", "code=http://loinc.org|8302-2,|x,y", "date=ge2019-05&date=lt2020-01-01T10:00:00Z",
		"date=ap2019", "_count=10&_offset=20", `code=a\,b\|c\\`, "subject=Patient/1", "_id=a,b,c", "code=%ff",
		"date=2019-05-01T10:00:00.123+05:30", "status=", "_count=1&_count=2", "foo=bar",
		"_include=Observation:patient", "_include=Observation:subject:Patient", "_include=*", "_include:iterate=Observation:patient",
		"_revinclude=Provenance:target", "patient.gender=male", "subject:Patient.birthdate=ge1950", "subject.name=chad",
		"patient._id=1,2", "patient.organization.name=x", "_has:Observation:patient:code=1234-5", "_has:Observation:subject:date=2020",
		"_has:Observation:patient:_has:x=y", "name=Chad", "family=quig&given=c", "gender=male&birthdate=lt1950",
		"subject:Patient=1", "subject:Group.name=x", "code:text=x", "_sort=date&_summary=count",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	d := testDefs(f)
	f.Fuzz(func(t *testing.T, raw string, strict bool) {
		params, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		for _, typ := range []string{"Observation", "Patient"} {
			s, err := d.parseSearch(typ, params, strict, testNow)
			if err != nil {
				continue
			}
			checkParsed(t, d, raw, s, strict)
		}
	})
}

// checkParsed checks the invariants of an accepted search.
func checkParsed(t *testing.T, d *definitions, raw string, s search, strict bool) {
	if s.Count < 0 || s.Count > maxCount || s.Offset < 0 || len(s.Filters)+len(s.Has) > maxFilters ||
		len(s.Include)+len(s.RevInclude) > maxIncludes {
		t.Errorf("parseSearch(%q) accepted out-of-limit %+v", raw, s)
	}
	if strict && len(s.ignored) > 0 {
		t.Errorf("parseSearch(%q) left out %v under strict handling", raw, s.ignored)
	}
	filters := slices.Clone(s.Filters)
	for _, l := range s.Has {
		if !d.known(l.From.Type) || len(l.From.Filters) != 1 || len(l.From.ReferencedBy) > 0 {
			t.Errorf("parseSearch(%q) gave a bad _has %+v", raw, l)
		}
		filters = append(filters, l.From.Filters...)
	}
	for _, fl := range filters {
		if len(fl.Any) == 0 {
			t.Errorf("parseSearch(%q) gave an empty filter", raw)
		}
		for _, m := range fl.Any {
			if m.Prefix != "" && m.Low.After(m.High) {
				t.Errorf("parseSearch(%q) gave an inverted range %+v", raw, m)
			}
			if m.Target != nil && (!d.known(m.Target.Type) || len(m.Target.Filters) != 1 ||
				slices.ContainsFunc(m.Target.Filters[0].Any, func(m store.Match) bool { return m.Target != nil })) {
				t.Errorf("parseSearch(%q) gave a bad chain %+v", raw, m.Target)
			}
		}
	}
	for _, inc := range append(slices.Clone(s.Include), s.RevInclude...) {
		if !d.known(inc.Source) || len(inc.Targets) == 0 {
			t.Errorf("parseSearch(%q) gave a bad include %+v", raw, inc)
		}
	}
}
