package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// testResourceWrites holds the WriteResources and ResourceHistory
// contract.
func testResourceWrites(t *testing.T, open Opener) {
	t.Run("Versions", func(t *testing.T) { testWriteVersions(t, open(t)) })
	t.Run("Conflicts", func(t *testing.T) { testWriteConflicts(t, open(t)) })
	t.Run("ConcurrentUpdates", func(t *testing.T) { testWriteConcurrent(t, open(t)) })
	t.Run("HistoryScope", func(t *testing.T) { testHistoryScope(t, open(t)) })
}

// version returns obs o1 of patient as version v, updated v minutes
// after a fixed time.
func version(id, patient, code, v string, minute int) store.Resource {
	lo, hi := day(2020, 5, 1)
	r := obs(id, patient, "http://loinc.org", code, "laboratory", lo, hi)
	r.VersionID = v
	r.LastUpdated = time.Date(2024, 3, 1, 10, minute, 0, 0, time.UTC)
	r.JSON = []byte(fmt.Sprintf(`{"resourceType":"Observation","id":%q,"meta":{"versionId":%q}}`, id, v))
	return r
}

func write(t *testing.T, st store.Store, changes ...store.Change) {
	t.Helper()
	if err := st.WriteResources(context.Background(), changes); err != nil {
		t.Fatalf("WriteResources: %v", err)
	}
}

func history(t *testing.T, st store.Store, q store.HistoryQuery) []string {
	t.Helper()
	rs, err := st.ResourceHistory(context.Background(), q)
	if err != nil {
		t.Fatalf("ResourceHistory(%+v): %v", q, err)
	}
	var out []string
	for _, r := range rs {
		s := r.Type + "/" + r.ID + "/" + r.VersionID
		if r.Deleted {
			s += " deleted"
		}
		out = append(out, s)
	}
	return out
}

func testWriteVersions(t *testing.T, st store.Store) {
	ctx := context.Background()
	write(t, st, store.Change{Resource: version("o1", "p1", "A", "1", 1)})
	write(t, st, store.Change{Resource: version("o1", "p2", "B", "2", 2), Base: "1"})
	got, err := st.GetResource(ctx, "Observation", "o1")
	if err != nil || got.VersionID != "2" || !slices.Equal(got.Patients, []string{"p2"}) {
		t.Fatalf("after update: GetResource = %+v, %v; want version 2 in p2", got, err)
	}
	del := store.Resource{Type: "Observation", ID: "o1", VersionID: "3", LastUpdated: time.Date(2024, 3, 1, 10, 3, 0, 0, time.UTC)}
	write(t, st, store.Change{Resource: del, Delete: true, Base: "2"})
	if _, err := st.GetResource(ctx, "Observation", "o1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after delete: GetResource error = %v, want ErrNotFound", err)
	}
	q := store.ResourceQuery{Type: "Observation", Count: 10}
	if _, total, err := st.SearchResources(ctx, q); err != nil || total != 0 {
		t.Errorf("after delete: search total = %d, %v; want 0", total, err)
	}
	rs, err := st.ResourceHistory(ctx, store.HistoryQuery{Type: "Observation", ID: "o1"})
	if err != nil || len(rs) != 3 {
		t.Fatalf("ResourceHistory = %d versions, %v; want 3", len(rs), err)
	}
	// Newest first; the deletion carries what it deleted (p2, code B), the
	// first version what it said then (p1, code A).
	for i, want := range []struct {
		vid, patient, code string
		deleted            bool
		json               bool
	}{{"3", "p2", "B", true, false}, {"2", "p2", "B", false, true}, {"1", "p1", "A", false, true}} {
		r := rs[i]
		codes := store.Filter{Param: "code", Any: []store.Match{{Value: want.code}}}
		if r.VersionID != want.vid || r.Deleted != want.deleted || (r.JSON != nil) != want.json ||
			!slices.Equal(r.Patients, []string{want.patient}) || !codes.Matches(r.Index) {
			t.Errorf("version %d = %+v, want %+v", i, r, want)
		}
	}
	lo, _ := day(2020, 5, 1)
	dateOK := store.Filter{Param: "date", Any: []store.Match{{Prefix: store.PrefixGe, Low: lo}}}
	if !dateOK.Matches(rs[2].Index) || !rs[2].LastUpdated.Equal(time.Date(2024, 3, 1, 10, 1, 0, 0, time.UTC)) {
		t.Errorf("version 1 lost its date index or time: %+v", rs[2])
	}
	// A resource may come back after its deletion.
	write(t, st, store.Change{Resource: version("o1", "p1", "C", "4", 4)})
	if got, err := st.GetResource(ctx, "Observation", "o1"); err != nil || got.VersionID != "4" {
		t.Errorf("after re-create: GetResource = %+v, %v; want version 4", got, err)
	}
}

func testWriteConflicts(t *testing.T, st store.Store) {
	ctx := context.Background()
	write(t, st, store.Change{Resource: version("o1", "p1", "A", "1", 1)})
	for _, tc := range []struct {
		name    string
		changes []store.Change
	}{
		{"create over existing", []store.Change{{Resource: version("o1", "p1", "X", "1", 5)}}},
		{"update on a stale base", []store.Change{{Resource: version("o1", "p1", "X", "3", 5), Base: "2"}}},
		{"delete of a missing one", []store.Change{{Resource: store.Resource{Type: "Observation", ID: "nope", VersionID: "2"}, Delete: true, Base: "1"}}},
		{"one resource twice", []store.Change{
			{Resource: version("o2", "p1", "X", "1", 5)},
			{Resource: version("o2", "p1", "Y", "2", 6), Base: "1"}}},
		{"second change fails, first undone", []store.Change{
			{Resource: version("o3", "p1", "X", "1", 5)},
			{Resource: version("o1", "p1", "X", "2", 5), Base: "7"}}},
	} {
		if err := st.WriteResources(ctx, tc.changes); !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: error = %v, want ErrConflict", tc.name, err)
		}
	}
	got, err := st.GetResource(ctx, "Observation", "o1")
	if err != nil || got.VersionID != "1" || string(got.JSON) != string(version("o1", "p1", "A", "1", 1).JSON) {
		t.Errorf("o1 after refused writes = %+v, %v; want version 1 unchanged", got, err)
	}
	for _, id := range []string{"o2", "o3"} {
		if _, err := st.GetResource(ctx, "Observation", id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s written by a refused call: error = %v", id, err)
		}
	}
	if h := history(t, st, store.HistoryQuery{}); len(h) != 0 {
		t.Errorf("history after refused writes = %v, want none", h)
	}
}

// testWriteConcurrent races updates on one base: exactly one wins, so an
// access decision or If-Match made on version 1 can never be applied over
// another writer's version 2.
func testWriteConcurrent(t *testing.T, st store.Store) {
	ctx := context.Background()
	write(t, st, store.Change{Resource: version("o1", "p1", "A", "1", 1)})
	const n = 12
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins []int
	)
	for i := range n {
		wg.Go(func() {
			err := st.WriteResources(ctx, []store.Change{{Resource: version("o1", "p1", fmt.Sprint(i), "2", 2), Base: "1"}})
			switch {
			case err == nil:
				mu.Lock()
				wins = append(wins, i)
				mu.Unlock()
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if len(wins) != 1 {
		t.Fatalf("%d writers won, want exactly 1", len(wins))
	}
	if h := history(t, st, store.HistoryQuery{Type: "Observation", ID: "o1"}); !slices.Equal(h, []string{"Observation/o1/1"}) {
		t.Errorf("history = %v, want only version 1", h)
	}
}

func testHistoryScope(t *testing.T, st store.Store) {
	write(t, st, store.Change{Resource: version("o1", "p1", "A", "1", 1)}, store.Change{Resource: version("o2", "p1", "A", "1", 1)})
	pat := store.Resource{Type: "Patient", ID: "p1", VersionID: "1", JSON: []byte(`{"resourceType":"Patient","id":"p1"}`), Patients: []string{"p1"}}
	write(t, st, store.Change{Resource: pat})
	write(t, st, store.Change{Resource: version("o1", "p1", "B", "2", 2), Base: "1"})
	pat2 := pat
	pat2.VersionID = "2"
	write(t, st, store.Change{Resource: pat2, Base: "1"})
	write(t, st, store.Change{Resource: version("o2", "p1", "B", "2", 3), Base: "1"})
	for _, tc := range []struct {
		q    store.HistoryQuery
		want []string
	}{
		{store.HistoryQuery{Type: "Observation", ID: "o1"}, []string{"Observation/o1/1"}},
		{store.HistoryQuery{Type: "Observation"}, []string{"Observation/o2/1", "Observation/o1/1"}},
		{store.HistoryQuery{}, []string{"Observation/o2/1", "Patient/p1/1", "Observation/o1/1"}},
		{store.HistoryQuery{Type: "Observation", ID: "o3"}, nil},
	} {
		if got := history(t, st, tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("ResourceHistory(%+v) = %v, want %v", tc.q, got, tc.want)
		}
	}
}
