package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// testResources holds the store.Resources contract.
func testResources(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) { testResourceRoundTrip(t, open(t)) })
	t.Run("UpsertReplaces", func(t *testing.T) { testResourceUpsert(t, open(t)) })
	t.Run("Search", func(t *testing.T) { testResourceSearch(t, open(t)) })
	t.Run("Paging", func(t *testing.T) { testResourcePaging(t, open(t)) })
	t.Run("Sort", func(t *testing.T) { testResourceSort(t, open(t)) })
	t.Run("IndexRoundTrip", func(t *testing.T) { testResourceIndexRoundTrip(t, open(t)) })
	t.Run("AnyOf", func(t *testing.T) { testResourceAnyOf(t, open(t)) })
	t.Run("References", func(t *testing.T) { testResourceReferences(t, open(t)) })
	t.Run("StartsWith", func(t *testing.T) { testResourceStartsWith(t, open(t)) })
}

// day returns the range of one UTC calendar day.
func day(y int, m time.Month, d int) (time.Time, time.Time) {
	lo := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return lo, lo.Add(24*time.Hour - time.Microsecond)
}

// obs builds an Observation with a code, a category, a subject and an
// effective date range.
func obs(id, patient, system, code, category string, lo, hi time.Time) store.Resource {
	return store.Resource{
		Type: "Observation", ID: id, VersionID: "1",
		LastUpdated: time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC),
		JSON:        []byte(fmt.Sprintf(`{"resourceType":"Observation","id":%q}`, id)),
		Patients:    []string{patient},
		Index: []store.IndexEntry{
			{Param: "_id", Value: id},
			{Param: "code", System: system, Value: code},
			{Param: "category", System: "http://terminology.hl7.org/CodeSystem/observation-category", Value: category},
			{Param: "patient", Value: "Patient/" + patient},
			{Param: "date", Low: lo, High: hi},
		},
	}
}

func put(t *testing.T, st store.Store, rs ...store.Resource) {
	t.Helper()
	if err := st.PutResources(context.Background(), rs); err != nil {
		t.Fatalf("PutResources: %v", err)
	}
}

func testResourceRoundTrip(t *testing.T, st store.Store) {
	ctx := context.Background()
	lo, hi := day(2020, 5, 1)
	want := obs("o1", "p1", "http://loinc.org", "1234-5", "laboratory", lo, hi)
	want.Patients = []string{"p1", "p2"}
	put(t, st, want)
	got, err := st.GetResource(ctx, "Observation", "o1")
	if err != nil {
		t.Fatalf("GetResource: %v", err)
	}
	if string(got.JSON) != string(want.JSON) || got.VersionID != "1" ||
		!got.LastUpdated.Equal(want.LastUpdated) || !slices.Equal(got.Patients, want.Patients) {
		t.Errorf("GetResource = %+v, want %+v", got, want)
	}
	if _, err := st.GetResource(ctx, "Observation", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetResource(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := st.GetResource(ctx, "Patient", "o1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetResource(other type) error = %v, want ErrNotFound", err)
	}
	n, err := st.CountResources(ctx)
	if err != nil || n != 1 {
		t.Errorf("CountResources = %d, %v; want 1", n, err)
	}
}

func testResourceUpsert(t *testing.T, st store.Store) {
	ctx := context.Background()
	lo, hi := day(2020, 5, 1)
	put(t, st, obs("o1", "p1", "http://loinc.org", "old", "laboratory", lo, hi))
	next := obs("o1", "p2", "http://loinc.org", "new", "vital-signs", lo, hi)
	next.VersionID = "2"
	put(t, st, next)
	got, err := st.GetResource(ctx, "Observation", "o1")
	if err != nil || got.VersionID != "2" || !slices.Equal(got.Patients, []string{"p2"}) {
		t.Errorf("GetResource after upsert = %+v, %v; want version 2 in p2 only", got, err)
	}
	for _, tc := range []struct {
		name    string
		patient string
		param   string
		value   string
		want    int
	}{
		{"old code gone", "", "code", "old", 0},
		{"new code", "", "code", "new", 1},
		{"old category gone", "", "category", "laboratory", 0},
		{"old compartment gone", "p1", "code", "new", 0},
		{"new compartment", "p2", "code", "new", 1},
	} {
		q := store.ResourceQuery{Type: "Observation", Patient: tc.patient, Count: 10,
			Filters: []store.Filter{{Param: tc.param, Any: []store.Match{{Value: tc.value}}}}}
		if _, total, err := st.SearchResources(ctx, q); err != nil || total != tc.want {
			t.Errorf("%s: total = %d, %v; want %d", tc.name, total, err, tc.want)
		}
	}
	if n, err := st.CountResources(ctx); err != nil || n != 1 {
		t.Errorf("CountResources = %d, %v; want 1", n, err)
	}
}

// searchFixture stores five Observations over two patients:
//
//	a  p1  loinc|A    laboratory  2020-05-01
//	b  p1  loinc|B    vital-signs 2020-05-02
//	c  p1  other|A    laboratory  2020-05-01T10:00 .. 2020-05-03T10:00
//	d  p2  loinc|A    laboratory  2021-01-01
//	e  p2  loinc|C    survey      unbounded end from 2019-12-31
func searchFixture(t *testing.T, st store.Store) []store.Resource {
	d1lo, d1hi := day(2020, 5, 1)
	d2lo, d2hi := day(2020, 5, 2)
	d3lo, d3hi := day(2021, 1, 1)
	d4lo, _ := day(2019, 12, 31)
	rs := []store.Resource{
		obs("a", "p1", "http://loinc.org", "A", "laboratory", d1lo, d1hi),
		obs("b", "p1", "http://loinc.org", "B", "vital-signs", d2lo, d2hi),
		obs("c", "p1", "urn:other", "A", "laboratory", d1lo.Add(10*time.Hour), d1lo.Add(58*time.Hour)),
		obs("d", "p2", "http://loinc.org", "A", "laboratory", d3lo, d3hi),
		obs("e", "p2", "http://loinc.org", "C", "survey", d4lo, time.Time{}),
		store.Resource{Type: "Patient", ID: "p1", VersionID: "1", JSON: []byte(`{}`), Patients: []string{"p1"},
			Index: []store.IndexEntry{{Param: "_id", Value: "p1"}}},
	}
	put(t, st, rs...)
	return rs
}
