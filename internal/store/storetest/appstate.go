package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// testAppStates checks store.AppStates: round trip, version
// compare-and-set (R-STATE-20, R-STATE-23), tombstones (R-STATE-24) and the
// search by code and subject (R-STATE-27).
func testAppStates(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	const (
		code    = "https://app.example.org|prefs"
		patient = "http://ehr.example/fhir/Patient/a"
	)
	global := store.AppState{ID: "g1", Version: 1, Code: code, ClientID: "c1", LastUpdated: at(0), JSON: []byte(`{"id":"g1"}`)}
	pat := store.AppState{ID: "p1", Version: 1, Code: code, Subject: patient, ClientID: "c1", LastUpdated: at(0), JSON: []byte(`{"id":"p1"}`)}
	other := store.AppState{ID: "o1", Version: 1, Code: "https://app.example.org|other", Subject: patient, ClientID: "c1", LastUpdated: at(0), JSON: []byte(`{}`)}
	for _, st := range []store.AppState{pat, global, other} {
		wantErr(t, "CreateAppState "+st.ID, s.CreateAppState(ctx, st), nil)
	}
	wantErr(t, "CreateAppState duplicate", s.CreateAppState(ctx, pat), store.ErrConflict)

	got, err := s.GetAppState(ctx, "p1")
	wantErr(t, "GetAppState", err, nil)
	if d := diff(pat, got); d != "" {
		t.Errorf("GetAppState (-want +got):\n%s", d)
	}
	wantUTC(t, got.LastUpdated)
	_, err = s.GetAppState(ctx, "nope")
	wantErr(t, "GetAppState unknown", err, store.ErrNotFound)

	// Update: the stored version must be prev; code, subject and client stay.
	upd := pat
	upd.Version, upd.LastUpdated, upd.JSON = 2, at(time.Minute), []byte(`{"id":"p1","v":2}`)
	changed := upd
	changed.Code, changed.Subject, changed.ClientID = "x|y", "", "c2"
	wantErr(t, "UpdateAppState stale", s.UpdateAppState(ctx, upd, 7), store.ErrConflict)
	wantErr(t, "UpdateAppState unknown", s.UpdateAppState(ctx, store.AppState{ID: "nope", Version: 2}, 1), store.ErrNotFound)
	wantErr(t, "UpdateAppState", s.UpdateAppState(ctx, changed, 1), nil)
	got, _ = s.GetAppState(ctx, "p1")
	if d := diff(upd, got); d != "" {
		t.Errorf("after UpdateAppState (-want +got):\n%s", d)
	}

	tests := []struct {
		name string
		q    store.AppStateQuery
		want []store.AppState
	}{
		{"code and subject", store.AppStateQuery{Code: code, Subject: patient}, []store.AppState{upd}},
		{"global", store.AppStateQuery{Code: code}, []store.AppState{global}},
		{"other code", store.AppStateQuery{Code: "https://app.example.org|other", Subject: patient}, []store.AppState{other}},
		{"no match", store.AppStateQuery{Code: "https://app.example.org|other"}, nil},
	}
	for _, tt := range tests {
		got, err := s.SearchAppStates(ctx, tt.q)
		wantErr(t, "SearchAppStates "+tt.name, err, nil)
		if d := diff(tt.want, got); d != "" {
			t.Errorf("SearchAppStates %s (-want +got):\n%s", tt.name, d)
		}
	}

	// Delete leaves a tombstone that refuses every later change.
	wantErr(t, "DeleteAppState stale", s.DeleteAppState(ctx, "p1", 1, at(time.Hour)), store.ErrConflict)
	wantErr(t, "DeleteAppState unknown", s.DeleteAppState(ctx, "nope", 1, at(time.Hour)), store.ErrNotFound)
	wantErr(t, "DeleteAppState", s.DeleteAppState(ctx, "p1", 2, at(time.Hour)), nil)
	got, err = s.GetAppState(ctx, "p1")
	wantErr(t, "GetAppState tombstone", err, nil)
	tomb := upd
	tomb.DeletedAt, tomb.JSON = at(time.Hour), nil
	if d := diff(tomb, got); d != "" {
		t.Errorf("tombstone (-want +got):\n%s", d)
	}
	wantErr(t, "DeleteAppState again", s.DeleteAppState(ctx, "p1", 2, at(time.Hour)), store.ErrConflict)
	wantErr(t, "UpdateAppState tombstone", s.UpdateAppState(ctx, upd, 2), store.ErrConflict)
	wantErr(t, "CreateAppState over tombstone", s.CreateAppState(ctx, pat), store.ErrConflict)
	found, err := s.SearchAppStates(ctx, store.AppStateQuery{Code: code, Subject: patient})
	wantErr(t, "SearchAppStates after delete", err, nil)
	if len(found) != 0 {
		t.Errorf("SearchAppStates after delete: got %d records, want none", len(found))
	}
	if err := s.DeleteAppState(ctx, "g1", 1, time.Time{}); err == nil {
		t.Error("DeleteAppState with a zero time: no error")
	}

	testAppStateRaces(t, s)
}

// testAppStateRaces checks that of concurrent updates (or deletes) with the
// same version exactly one wins and the rest get ErrConflict.
func testAppStateRaces(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := store.AppState{ID: "race", Version: 1, Code: "https://app.example.org|r", ClientID: "c1", LastUpdated: at(0), JSON: []byte(`{}`)}
	wantErr(t, "CreateAppState race", s.CreateAppState(ctx, base), nil)
	errs := race(racers, func(i int) error {
		u := base
		u.Version, u.JSON = 2, fmt.Appendf(nil, `{"n":%d}`, i)
		return s.UpdateAppState(ctx, u, 1)
	})
	if won, lost, other := tally(errs, store.ErrConflict); won != 1 || lost != racers-1 || len(other) > 0 {
		t.Errorf("concurrent UpdateAppState: %d won, %d conflicts, other errors %v; want 1 and %d", won, lost, other, racers-1)
	}
	errs = race(racers, func(i int) error { return s.DeleteAppState(ctx, "race", 2, at(time.Hour)) })
	if won, lost, other := tally(errs, store.ErrConflict); won != 1 || lost != racers-1 || len(other) > 0 {
		t.Errorf("concurrent DeleteAppState: %d won, %d conflicts, other errors %v; want 1 and %d", won, lost, other, racers-1)
	}
}
