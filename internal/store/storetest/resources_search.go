package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

func tok(system, code string) store.Match {
	return store.Match{System: system, HasSystem: true, Value: code}
}

func val(v string) store.Match { return store.Match{Value: v} }

func date(prefix string, lo, hi time.Time) store.Match {
	return store.Match{Prefix: prefix, Low: lo, High: hi}
}

func filter(param string, any ...store.Match) store.Filter {
	return store.Filter{Param: param, Any: any}
}

func testResourceSearch(t *testing.T, st store.Store) {
	fixture := searchFixture(t, st)
	may1lo, may1hi := day(2020, 5, 1)
	may2lo, may2hi := day(2020, 5, 2)
	y2020lo := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	y2020hi := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Microsecond)
	for _, tc := range []struct {
		name    string
		patient string
		filters []store.Filter
		want    []string
	}{
		{"all", "", nil, []string{"a", "b", "c", "d", "e"}},
		{"token code only", "", []store.Filter{filter("code", val("A"))}, []string{"a", "c", "d"}},
		{"token system|code", "", []store.Filter{filter("code", tok("http://loinc.org", "A"))}, []string{"a", "d"}},
		{"token other system", "", []store.Filter{filter("code", tok("urn:other", "A"))}, []string{"c"}},
		{"token |code (no system)", "", []store.Filter{filter("code", tok("", "A"))}, nil},
		{"reference", "", []store.Filter{filter("patient", val("Patient/p2"))}, []string{"d", "e"}},
		{"_id", "", []store.Filter{filter("_id", val("b"))}, []string{"b"}},
		{"OR within filter", "", []store.Filter{filter("code", val("B"), val("C"))}, []string{"b", "e"}},
		{"AND across filters", "", []store.Filter{filter("code", val("A")), filter("category", val("laboratory")),
			filter("patient", val("Patient/p1"))}, []string{"a", "c"}},
		{"AND of two values of one param", "", []store.Filter{filter("code", val("A")), filter("code", val("B"))}, nil},
		{"compartment", "p1", nil, []string{"a", "b", "c"}},
		{"compartment and filter", "p2", []store.Filter{filter("code", val("A"))}, []string{"d"}},
		{"unknown compartment", "p9", nil, nil},
		{"empty alternatives", "", []store.Filter{filter("code")}, nil},
		{"date eq day", "", []store.Filter{filter("date", date("eq", may1lo, may1hi))}, []string{"a"}},
		{"date eq year", "", []store.Filter{filter("date", date("eq", y2020lo, y2020hi))}, []string{"a", "b", "c"}},
		{"date ne day", "", []store.Filter{filter("date", date("ne", may1lo, may1hi))}, []string{"b", "c", "d", "e"}},
		{"date lt", "", []store.Filter{filter("date", date("lt", may2lo, may2hi))}, []string{"a", "c", "e"}},
		{"date le", "", []store.Filter{filter("date", date("le", may1lo, may1hi))}, []string{"a", "c", "e"}},
		{"date gt", "", []store.Filter{filter("date", date("gt", may1lo, may1hi))}, []string{"b", "c", "d", "e"}},
		{"date ge", "", []store.Filter{filter("date", date("ge", may2lo, may2hi))}, []string{"b", "c", "d", "e"}},
		{"date sa", "", []store.Filter{filter("date", date("sa", may1lo, may1hi))}, []string{"b", "d"}},
		{"date eb", "", []store.Filter{filter("date", date("eb", may2lo, may2hi))}, []string{"a"}},
		{"date ap", "", []store.Filter{filter("date", date("ap", may2lo, may2hi))}, []string{"b", "c", "e"}},
		{"date unbounded searched range", "", []store.Filter{filter("date", date("ge", time.Time{}, time.Time{}))},
			[]string{"a", "b", "c", "d", "e"}},
		{"date OR", "", []store.Filter{filter("date", date("eq", may1lo, may1hi), date("eq", may2lo, may2hi))},
			[]string{"a", "b"}},
		{"date prefix on token param matches nothing", "", []store.Filter{filter("code", date("ge", may1lo, may1hi))}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := store.ResourceQuery{Type: "Observation", Patient: tc.patient, Filters: tc.filters, Count: 100}
			rs, total, err := st.SearchResources(context.Background(), q)
			if err != nil {
				t.Fatalf("SearchResources: %v", err)
			}
			var got []string
			for _, r := range rs {
				got = append(got, r.ID)
			}
			if !slices.Equal(got, tc.want) || total != len(tc.want) {
				t.Errorf("got %v (total %d), want %v", got, total, tc.want)
			}
			// store.Clause.Matches is the same semantics, judged in Go.
			if inGo := matchingIDs(fixture, "Observation", store.Clause{Patient: tc.patient, Filters: tc.filters}); !slices.Equal(inGo, tc.want) {
				t.Errorf("Clause.Matches selects %v, want %v", inGo, tc.want)
			}
		})
	}
	q := store.ResourceQuery{Type: "Observation", Count: 10,
		Filters: []store.Filter{filter("date", date("zz", may1lo, may1hi))}}
	if _, _, err := st.SearchResources(context.Background(), q); err == nil {
		t.Errorf("SearchResources with unknown prefix: got no error")
	}
}

func testResourcePaging(t *testing.T, st store.Store) {
	searchFixture(t, st)
	for _, tc := range []struct {
		name          string
		count, offset int
		want          []string
	}{
		{"first page", 2, 0, []string{"a", "b"}},
		{"second page", 2, 2, []string{"c", "d"}},
		{"last page", 2, 4, []string{"e"}},
		{"past the end", 2, 9, nil},
		{"count zero gives total only", 0, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := store.ResourceQuery{Type: "Observation", Count: tc.count, Offset: tc.offset}
			rs, total, err := st.SearchResources(context.Background(), q)
			if err != nil {
				t.Fatalf("SearchResources: %v", err)
			}
			var got []string
			for _, r := range rs {
				got = append(got, r.ID)
			}
			if !slices.Equal(got, tc.want) || total != 5 {
				t.Errorf("got %v (total %d), want %v (total 5)", got, total, tc.want)
			}
		})
	}
}

// matchingIDs returns, in order, the ids of the resources of typ in rs
// that c matches.
func matchingIDs(rs []store.Resource, typ string, c store.Clause) []string {
	var out []string
	for _, r := range rs {
		if r.Type == typ && c.Matches(r) {
			out = append(out, r.ID)
		}
	}
	return out
}

// testResourceSort checks ResourceQuery.Sort on the search fixture: a
// date ascending by each resource's earliest value, descending by its
// latest (an open end is the latest), resources without a value last,
// _lastUpdated, ties broken by id, and paging over the sorted order.
func testResourceSort(t *testing.T, st store.Store) {
	ctx := context.Background()
	searchFixture(t, st)
	// f has no date; g and h differ only in when they changed.
	noDate := obs("f", "p1", "http://loinc.org", "A", "laboratory", time.Time{}, time.Time{})
	noDate.Index = noDate.Index[:4]
	g := obs("g", "p1", "http://loinc.org", "A", "laboratory", time.Time{}, time.Time{})
	g.Index, g.LastUpdated = g.Index[:4], time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	h := obs("h", "p1", "http://loinc.org", "A", "laboratory", time.Time{}, time.Time{})
	h.Index, h.LastUpdated = h.Index[:4], time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)
	put(t, st, noDate, g, h)
	date := func(desc bool) store.SortKey { return store.SortKey{Param: "date", Desc: desc} }
	updated := func(desc bool) store.SortKey { return store.SortKey{Param: "_lastUpdated", Desc: desc} }
	for _, tc := range []struct {
		name          string
		sort          []store.SortKey
		count, offset int
		want          []string
	}{
		{"none: by id", nil, 10, 0, []string{"a", "b", "c", "d", "e", "f", "g", "h"}},
		{"date ascending: earliest value", []store.SortKey{date(false)}, 10, 0, []string{"e", "a", "c", "b", "d", "f", "g", "h"}},
		{"date descending: latest value, open end first", []store.SortKey{date(true)}, 10, 0, []string{"e", "d", "c", "b", "a", "f", "g", "h"}},
		{"_lastUpdated descending, then id", []store.SortKey{updated(true)}, 10, 0, []string{"g", "a", "b", "c", "d", "e", "f", "h"}},
		{"_lastUpdated then date", []store.SortKey{updated(false), date(true)}, 10, 0, []string{"h", "e", "d", "c", "b", "a", "f", "g"}},
		{"a page of the sorted order", []store.SortKey{date(true)}, 3, 2, []string{"c", "b", "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, total, err := st.SearchResources(ctx, store.ResourceQuery{Type: "Observation", Sort: tc.sort, Count: tc.count, Offset: tc.offset})
			if err != nil {
				t.Fatalf("SearchResources: %v", err)
			}
			var got []string
			for _, r := range rs {
				got = append(got, r.ID)
			}
			if !slices.Equal(got, tc.want) || total != 8 {
				t.Errorf("got %v (total %d), want %v (total 8)", got, total, tc.want)
			}
		})
	}
}
