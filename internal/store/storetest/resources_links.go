package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// search runs q (with a large page) and returns the ids found.
func search(t *testing.T, st store.Store, q store.ResourceQuery) []string {
	t.Helper()
	q.Count = 100
	rs, total, err := st.SearchResources(context.Background(), q)
	if err != nil {
		t.Fatalf("SearchResources: %v", err)
	}
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	if total != len(ids) {
		t.Errorf("total %d, but %d resources", total, len(ids))
	}
	return ids
}

func testResourceIndexRoundTrip(t *testing.T, st store.Store) {
	lo, hi := day(2019, 12, 31)
	want := obs("o1", "p1", "http://loinc.org", "1234-5", "laboratory", lo, hi)
	want.Index = append(want.Index, store.IndexEntry{Param: "date", High: lo}, store.IndexEntry{Param: "name", Value: "x"})
	put(t, st, want)
	got, err := st.GetResource(context.Background(), "Observation", "o1")
	if err != nil {
		t.Fatalf("GetResource: %v", err)
	}
	if len(got.Index) != len(want.Index) {
		t.Fatalf("Index = %v, want %v", got.Index, want.Index)
	}
	for i, e := range want.Index {
		g := got.Index[i]
		if g.Param != e.Param || g.System != e.System || g.Value != e.Value || !g.Low.Equal(e.Low) || !g.High.Equal(e.High) {
			t.Errorf("Index[%d] = %+v, want %+v", i, g, e)
		}
	}
}

// testResourceAnyOf checks the union of clauses that access decisions
// apply, and that store.Clause.Matches agrees with the backend.
func testResourceAnyOf(t *testing.T, st store.Store) {
	fixture := searchFixture(t, st)
	lab := filter("category", val("laboratory"))
	for _, tc := range []struct {
		name    string
		filters []store.Filter
		anyOf   []store.Clause
		want    []string
	}{
		{"two clauses", nil, []store.Clause{{Patient: "p1", Filters: []store.Filter{lab}}, {Filters: []store.Filter{filter("code", val("C"))}}},
			[]string{"a", "c", "e"}},
		{"an empty clause allows all", nil, []store.Clause{{Patient: "p9"}, {}}, []string{"a", "b", "c", "d", "e"}},
		{"no clause matches", nil, []store.Clause{{Patient: "p9"}}, nil},
		{"AND with the query's filters", []store.Filter{filter("code", val("A"))},
			[]store.Clause{{Patient: "p2"}, {Patient: "p1", Filters: []store.Filter{filter("category", val("vital-signs"))}}}, []string{"d"}},
		{"same compartment, different queries", nil,
			[]store.Clause{{Patient: "p1", Filters: []store.Filter{lab}}, {Patient: "p1", Filters: []store.Filter{filter("code", val("B"))}}},
			[]string{"a", "b", "c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := search(t, st, store.ResourceQuery{Type: "Observation", Filters: tc.filters, AnyOf: tc.anyOf})
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			var inGo []string
			for _, r := range fixture {
				if r.Type == "Observation" && (store.Clause{Filters: tc.filters}).Matches(r) &&
					slices.ContainsFunc(tc.anyOf, func(c store.Clause) bool { return c.Matches(r) }) {
					inGo = append(inGo, r.ID)
				}
			}
			if !slices.Equal(inGo, tc.want) {
				t.Errorf("Clause.Matches selects %v, want %v", inGo, tc.want)
			}
		})
	}
}

// testResourceReferences checks chained matches (Match.Target) and
// reverse links (ReferencedBy), with access clauses inside them.
func testResourceReferences(t *testing.T, st store.Store) {
	searchFixture(t, st)
	patient := func(id, gender string) store.Resource {
		return store.Resource{Type: "Patient", ID: id, VersionID: "1", JSON: []byte(`{}`), Patients: []string{id},
			Index: []store.IndexEntry{{Param: "_id", Value: id}, {Param: "gender", Value: gender}}}
	}
	put(t, st, patient("p1", "male"), patient("p2", "female"), patient("p3", "female"))
	target := func(q store.ResourceQuery) store.Filter {
		return store.Filter{Param: "patient", Any: []store.Match{{Target: &q}}}
	}
	males := store.ResourceQuery{Type: "Patient", Filters: []store.Filter{filter("gender", val("male"))}}
	anyGender := store.ResourceQuery{Type: "Patient", Filters: []store.Filter{filter("gender", val("male"), val("female"))},
		AnyOf: []store.Clause{{Patient: "p2"}}}
	codeA := store.ResourceQuery{Type: "Observation", Filters: []store.Filter{filter("code", val("A"))}}
	codeAofP1 := store.ResourceQuery{Type: "Observation", Filters: []store.Filter{filter("code", val("A"))}, AnyOf: []store.Clause{{Patient: "p1"}}}
	for _, tc := range []struct {
		name string
		q    store.ResourceQuery
		want []string
	}{
		{"chain", store.ResourceQuery{Type: "Observation", Filters: []store.Filter{target(males)}}, []string{"a", "b", "c"}},
		{"chain confined by a clause", store.ResourceQuery{Type: "Observation", Filters: []store.Filter{target(anyGender)}}, []string{"d", "e"}},
		{"chain OR a value", store.ResourceQuery{Type: "Observation", Filters: []store.Filter{{Param: "patient",
			Any: []store.Match{{Target: &males}, val("Patient/p2")}}}}, []string{"a", "b", "c", "d", "e"}},
		{"referenced by", store.ResourceQuery{Type: "Patient", ReferencedBy: []store.Link{{Param: "patient", From: codeA}}}, []string{"p1", "p2"}},
		{"referenced by, confined", store.ResourceQuery{Type: "Patient", ReferencedBy: []store.Link{{Param: "patient", From: codeAofP1}}}, []string{"p1"}},
		{"referenced by AND filters", store.ResourceQuery{Type: "Patient", Filters: []store.Filter{filter("gender", val("female"))},
			ReferencedBy: []store.Link{{Param: "patient", From: codeA}}}, []string{"p2"}},
		{"referenced by, two links", store.ResourceQuery{Type: "Patient", ReferencedBy: []store.Link{{Param: "patient", From: codeA},
			{Param: "patient", From: store.ResourceQuery{Type: "Observation", Filters: []store.Filter{filter("code", val("B"))}}}}}, []string{"p1"}},
		{"referenced through another parameter", store.ResourceQuery{Type: "Patient", ReferencedBy: []store.Link{{Param: "subject", From: codeA}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := search(t, st, tc.q); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	deep := store.ResourceQuery{Type: "Patient"}
	for range 6 {
		inner := deep
		deep = store.ResourceQuery{Type: "Patient", ReferencedBy: []store.Link{{Param: "link", From: inner}}}
	}
	if _, _, err := st.SearchResources(context.Background(), deep); err == nil {
		t.Errorf("SearchResources of a deeply nested query: no error")
	}
}

func testResourceStartsWith(t *testing.T, st store.Store) {
	var rs []store.Resource
	for id, names := range map[string][]string{"n1": {"chad", "quigley"}, "n2": {"chalmers", "peter"}, "n3": {"über", "ada"}} {
		r := store.Resource{Type: "Patient", ID: id, VersionID: "1", JSON: []byte(`{}`)}
		for _, n := range names {
			r.Index = append(r.Index, store.IndexEntry{Param: "name", Value: n})
		}
		rs = append(rs, r)
	}
	put(t, st, rs...)
	prefix := func(v string) store.Filter {
		return store.Filter{Param: "name", Any: []store.Match{{Value: v, StartsWith: true}}}
	}
	for _, tc := range []struct {
		value string
		want  []string
	}{
		{"cha", []string{"n1", "n2"}}, {"quigley", []string{"n1"}}, {"quigleys", nil}, {"ü", []string{"n3"}},
		{"übe", []string{"n3"}}, {"u", nil}, {"p", []string{"n2"}},
	} {
		got := search(t, st, store.ResourceQuery{Type: "Patient", Filters: []store.Filter{prefix(tc.value)}})
		if !slices.Equal(got, tc.want) {
			t.Errorf("name starts with %q: got %v, want %v", tc.value, got, tc.want)
		}
		slices.SortFunc(rs, func(a, b store.Resource) int { return strings.Compare(a.ID, b.ID) })
		if inGo := matchingIDs(rs, "Patient", store.Clause{Filters: []store.Filter{prefix(tc.value)}}); !slices.Equal(inGo, tc.want) {
			t.Errorf("Clause.Matches, name starts with %q: got %v, want %v", tc.value, inGo, tc.want)
		}
	}
}
