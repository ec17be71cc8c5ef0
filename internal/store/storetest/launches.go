package storetest

import (
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

func testLaunches(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	banner := false
	l := store.Launch{ID: store.Hash("launch-1"), ClientID: "client-1", UserID: "u1", CreatedAt: at(0), ExpiresAt: at(5 * time.Minute),
		Context: store.LaunchContext{Patient: "p1", Encounter: "e1", NeedPatientBanner: &banner, Intent: "x",
			FHIRContext: []store.FHIRContextEntry{{Reference: "DiagnosticReport/7"}}}}
	wantErr(t, "CreateLaunch", s.CreateLaunch(ctx, l), nil)
	wantErr(t, "CreateLaunch duplicate", s.CreateLaunch(ctx, l), store.ErrConflict)
	got, err := s.GetLaunch(ctx, l.ID)
	wantErr(t, "GetLaunch", err, nil)
	if d := diff(l, got); d != "" {
		t.Errorf("GetLaunch (-want +got):\n%s", d)
	}
	_, err = s.GetLaunch(ctx, store.Hash("nope"))
	wantErr(t, "GetLaunch unknown", err, store.ErrNotFound)
}
