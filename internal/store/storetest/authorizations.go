package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// authorization returns a live authorization with every other field set.
func authorization(id, userID string, created time.Time) store.Authorization {
	return store.Authorization{
		ID: id, UserID: userID, ClientID: "client-1", PatientID: "123",
		Scope: "launch/patient patient/*.rs offline_access", Offline: true,
		CreatedAt: created, LastUsedAt: created.Add(time.Minute), ExpiresAt: created.Add(90 * 24 * time.Hour),
	}
}

func testAuthorizations(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		ended := authorization("ended", "u1", at(0))
		ended.EndedAt, ended.EndReason = at(time.Hour), store.EndUserRevoked
		ended.SessionID = store.Hash("session")
		banner := true
		ended.Context = store.LaunchContext{Encounter: "e1", Intent: "reconcile-medications", NeedPatientBanner: &banner,
			SmartStyleURL: "https://ehr.example/style.json", Tenant: "t1",
			FHIRContext: []store.FHIRContextEntry{{Reference: "ImagingStudy/1"}, {Reference: "List/2", Role: "https://example.org/role"}}}
		tests := []struct {
			name string
			a    store.Authorization
		}{
			{"live", authorization("live", "u1", at(0))},
			{"ended", ended},
			{"zero times, online", store.Authorization{ID: "bare", UserID: "u1", ClientID: "client-1", Scope: "openid"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				wantErr(t, "CreateAuthorization", s.CreateAuthorization(ctx, tt.a), nil)
				got, err := s.GetAuthorization(ctx, tt.a.ID)
				wantErr(t, "GetAuthorization", err, nil)
				if d := diff(tt.a, got); d != "" {
					t.Errorf("GetAuthorization mismatch (-want +got):\n%s", d)
				}
				wantUTC(t, got.CreatedAt, got.LastUsedAt, got.ExpiresAt, got.EndedAt)
				wantErr(t, "CreateAuthorization duplicate", s.CreateAuthorization(ctx, tt.a), store.ErrConflict)
			})
		}
		_, err := s.GetAuthorization(t.Context(), "unknown")
		wantErr(t, "GetAuthorization unknown", err, store.ErrNotFound)
	})

	t.Run("EndIdempotent", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a := authorization("a1", "u1", at(0))
		wantErr(t, "CreateAuthorization", s.CreateAuthorization(ctx, a), nil)
		ended, err := s.EndAuthorization(ctx, "a1", at(time.Hour), store.EndCodeReplay)
		wantErr(t, "EndAuthorization", err, nil)
		if !ended {
			t.Error("first EndAuthorization reported false, want true")
		}
		ended, err = s.EndAuthorization(ctx, "a1", at(2*time.Hour), store.EndAdminRevoked)
		wantErr(t, "second EndAuthorization", err, nil)
		if ended {
			t.Error("second EndAuthorization reported true, want false")
		}
		want := a
		want.EndedAt, want.EndReason = at(time.Hour), store.EndCodeReplay
		got, err := s.GetAuthorization(ctx, "a1")
		wantErr(t, "GetAuthorization", err, nil)
		if d := diff(want, got); d != "" {
			t.Errorf("after two ends, want the first (-want +got):\n%s", d)
		}
		_, err = s.EndAuthorization(ctx, "unknown", at(time.Hour), store.EndUserRevoked)
		wantErr(t, "EndAuthorization unknown", err, store.ErrNotFound)
	})

	t.Run("EndConcurrent", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		wantErr(t, "CreateAuthorization", s.CreateAuthorization(ctx, authorization("a1", "u1", at(0))), nil)
		var mu sync.Mutex
		winners := 0
		errs := race(racers, func(i int) error {
			ended, err := s.EndAuthorization(ctx, "a1", at(time.Duration(i+1)*time.Second), store.EndReason(fmt.Sprint("r", i)))
			if ended {
				mu.Lock()
				winners++
				mu.Unlock()
			}
			return err
		})
		for i, err := range errs {
			wantErr(t, fmt.Sprint("EndAuthorization racer ", i), err, nil)
		}
		if winners != 1 {
			t.Errorf("%d racers reported ending it, want exactly 1", winners)
		}
		got, err := s.GetAuthorization(ctx, "a1")
		wantErr(t, "GetAuthorization", err, nil)
		var i int
		if _, err := fmt.Sscanf(string(got.EndReason), "r%d", &i); err != nil || i < 0 || i >= racers {
			t.Fatalf("EndReason = %q, want one racer's reason", got.EndReason)
		}
		if want := at(time.Duration(i+1) * time.Second); !got.EndedAt.Equal(want) {
			t.Errorf("EndedAt = %v, want %v, the time of the racer whose reason %q was kept", got.EndedAt, want, got.EndReason)
		}
	})

	t.Run("Live", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		noExpiry := authorization("no-expiry", "u1", at(0))
		noExpiry.ExpiresAt = time.Time{}
		expiring := authorization("expiring", "u1", at(0))
		expiring.ExpiresAt = at(time.Hour)
		ended := authorization("ended", "u1", at(0))
		for _, a := range []store.Authorization{noExpiry, expiring, ended} {
			wantErr(t, "CreateAuthorization "+a.ID, s.CreateAuthorization(ctx, a), nil)
		}
		_, err := s.EndAuthorization(ctx, "ended", at(time.Minute), store.EndUserRevoked)
		wantErr(t, "EndAuthorization", err, nil)
		tests := []struct {
			name string
			id   string
			now  time.Time
			want bool
		}{
			{"no expiry, far future", "no-expiry", at(100 * 365 * 24 * time.Hour), true},
			{"before expiry", "expiring", at(time.Hour - time.Microsecond), true},
			{"at expiry", "expiring", at(time.Hour), false},
			{"after expiry", "expiring", at(2 * time.Hour), false},
			{"ended, before its expiry", "ended", at(2 * time.Minute), false},
			{"ended, before its end time", "ended", at(0), false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a, err := s.GetAuthorization(t.Context(), tt.id)
				wantErr(t, "GetAuthorization", err, nil)
				if got := a.Live(tt.now); got != tt.want {
					t.Errorf("Live(%v) = %v, want %v", tt.now, got, tt.want)
				}
			})
		}
	})

	t.Run("Touch", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a := authorization("a1", "u1", at(0))
		wantErr(t, "CreateAuthorization", s.CreateAuthorization(ctx, a), nil)
		wantErr(t, "TouchAuthorization", s.TouchAuthorization(ctx, "a1", at(3*time.Hour+time.Microsecond)), nil)
		want := a
		want.LastUsedAt = at(3*time.Hour + time.Microsecond)
		got, err := s.GetAuthorization(ctx, "a1")
		wantErr(t, "GetAuthorization", err, nil)
		if d := diff(want, got); d != "" {
			t.Errorf("after TouchAuthorization (-want +got):\n%s", d)
		}
		wantErr(t, "TouchAuthorization unknown", s.TouchAuthorization(ctx, "unknown", at(0)), store.ErrNotFound)
	})

	t.Run("ListEndedSince", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		ends := map[string]time.Time{
			"e0": at(0),
			"e1": at(time.Microsecond),
			"e2": at(2 * time.Second),
		}
		for _, id := range []string{"e0", "e1", "e2", "live"} {
			wantErr(t, "CreateAuthorization "+id, s.CreateAuthorization(ctx, authorization(id, "u1", at(-time.Hour))), nil)
			if end, ok := ends[id]; ok {
				_, err := s.EndAuthorization(ctx, id, end, store.EndAdminRevoked)
				wantErr(t, "EndAuthorization "+id, err, nil)
			}
		}
		tests := []struct {
			name  string
			since time.Time
			want  []string
		}{
			{"zero since: every ended", time.Time{}, []string{"e0", "e1", "e2"}},
			{"before all", at(-time.Second), []string{"e0", "e1", "e2"}},
			{"equal to first end is included", at(0), []string{"e0", "e1", "e2"}},
			{"one microsecond later", at(time.Microsecond), []string{"e1", "e2"}},
			{"between ends, sub-microsecond", at(time.Microsecond + time.Nanosecond), []string{"e2"}},
			{"equal to last end", at(2 * time.Second), []string{"e2"}},
			{"after all", at(2*time.Second + time.Microsecond), nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.ListEndedAuthorizations(t.Context(), tt.since)
				wantErr(t, "ListEndedAuthorizations", err, nil)
				slices.Sort(got) // the contract promises no order
				if d := diff(tt.want, got); d != "" {
					t.Errorf("ListEndedAuthorizations(%v) (-want +got):\n%s", tt.since, d)
				}
			})
		}
	})

	t.Run("ListUserNewestFirst", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		old := authorization("old", "u1", at(0))
		mid := authorization("mid", "u1", at(time.Microsecond))
		ended := authorization("new-ended", "u1", at(time.Hour))
		ended.EndedAt, ended.EndReason = at(2*time.Hour), store.EndExpired
		other := authorization("other", "u2", at(30*time.Minute))
		for _, a := range []store.Authorization{mid, other, old, ended} {
			wantErr(t, "CreateAuthorization "+a.ID, s.CreateAuthorization(ctx, a), nil)
		}
		tests := []struct {
			user string
			want []store.Authorization
		}{
			{"u1", []store.Authorization{ended, mid, old}},
			{"u2", []store.Authorization{other}},
			{"nobody", nil},
		}
		for _, tt := range tests {
			t.Run(tt.user, func(t *testing.T) {
				got, err := s.ListUserAuthorizations(t.Context(), tt.user)
				wantErr(t, "ListUserAuthorizations", err, nil)
				if d := diff(tt.want, got); d != "" {
					t.Errorf("ListUserAuthorizations(%q) (-want +got):\n%s", tt.user, d)
				}
			})
		}
	})
}
