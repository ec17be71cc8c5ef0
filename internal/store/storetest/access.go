package storetest

import (
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

func testAccessRecords(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	midnight := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	day := func(n int) time.Time { return midnight.Add(time.Duration(n) * 24 * time.Hour) }
	wantErr(t, "AddAccess", s.AddAccess(ctx, []store.AccessRecord{
		{AuthorizationID: "a1", Day: day(0).Add(3 * time.Hour), ResourceType: "Observation", Count: 2},
		{AuthorizationID: "a1", Day: day(0), ResourceType: "Patient", Count: 1},
		{AuthorizationID: "a1", Day: day(2), ResourceType: "Observation", Count: 1},
		{AuthorizationID: "a2", Day: day(2), ResourceType: "Observation", Count: 7},
	}), nil)
	wantErr(t, "AddAccess again", s.AddAccess(ctx, []store.AccessRecord{
		{AuthorizationID: "a1", Day: day(0).Add(20 * time.Hour), ResourceType: "Observation", Count: 3},
	}), nil)
	got, err := s.ListAccess(ctx, "a1", day(0).Add(time.Hour))
	wantErr(t, "ListAccess", err, nil)
	want := []store.AccessRecord{
		{AuthorizationID: "a1", Day: day(0), ResourceType: "Observation", Count: 5},
		{AuthorizationID: "a1", Day: day(0), ResourceType: "Patient", Count: 1},
		{AuthorizationID: "a1", Day: day(2), ResourceType: "Observation", Count: 1},
	}
	if d := diff(want, got); d != "" {
		t.Errorf("ListAccess (-want +got):\n%s", d)
	}
	n, err := s.DeleteAccessBefore(ctx, day(1))
	wantErr(t, "DeleteAccessBefore", err, nil)
	if n != 2 {
		t.Errorf("deleted %d, want 2", n)
	}
	got, _ = s.ListAccess(ctx, "a1", day(0))
	if len(got) != 1 || got[0].Count != 1 {
		t.Errorf("after retention: %+v", got)
	}
}
