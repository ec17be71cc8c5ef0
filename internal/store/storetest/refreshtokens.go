package storetest

import (
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// refreshToken returns an unused token with every other field set.
func refreshToken(secret string) store.RefreshToken {
	return store.RefreshToken{
		Hash: store.Hash(secret), AuthorizationID: "authz-1", ClientID: "client-1",
		CreatedAt: at(0), ExpiresAt: at(90 * 24 * time.Hour), JKT: "jkt-" + secret,
	}
}

func testRefreshTokens(t *testing.T, open Opener) {
	t.Run("DeleteStale", func(t *testing.T) { testStaleRefreshTokens(t, open) })
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		used := refreshToken("used")
		used.UsedAt, used.ReplacedBy = at(time.Hour), store.Hash("next")
		tests := []struct {
			name string
			rt   store.RefreshToken
		}{
			{"unused", refreshToken("unused")},
			{"used", used},
			{"zero times", store.RefreshToken{Hash: store.Hash("bare"), AuthorizationID: "authz-1"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				wantErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, tt.rt), nil)
				got, err := s.GetRefreshToken(ctx, tt.rt.Hash)
				wantErr(t, "GetRefreshToken", err, nil)
				if d := diff(tt.rt, got); d != "" {
					t.Errorf("GetRefreshToken mismatch (-want +got):\n%s", d)
				}
				wantUTC(t, got.CreatedAt, got.ExpiresAt, got.UsedAt)
				wantErr(t, "CreateRefreshToken duplicate", s.CreateRefreshToken(ctx, tt.rt), store.ErrConflict)
			})
		}
		_, err := s.GetRefreshToken(t.Context(), store.Hash("unknown"))
		wantErr(t, "GetRefreshToken unknown", err, store.ErrNotFound)
	})

	// RFC 9700 §4.14.2: a rotated refresh token is invalidated; presenting
	// it again is reported with the old token so the authorization can end.
	t.Run("RotateOnce", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		old, next, late := refreshToken("old"), refreshToken("next"), refreshToken("late")
		next.CreatedAt = at(time.Hour)
		wantErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, old), nil)
		wantErr(t, "CreateAuthorization", s.CreateAuthorization(ctx, authorization(old.AuthorizationID, "u1", at(0))), nil)

		wantOld := old
		wantOld.UsedAt, wantOld.ReplacedBy = at(time.Hour), next.Hash
		ev := store.AuditEvent{Type: "token.refreshed", UserID: "u1", ClientID: old.ClientID,
			AuthorizationID: old.AuthorizationID, Address: "192.0.2.1"}
		got, err := s.RotateRefreshToken(ctx, old.Hash, next, at(time.Hour), ev)
		wantErr(t, "RotateRefreshToken", err, nil)
		if d := diff(wantOld, got); d != "" {
			t.Errorf("RotateRefreshToken old token (-want +got):\n%s", d)
		}
		stored, err := s.GetRefreshToken(ctx, next.Hash)
		wantErr(t, "GetRefreshToken successor", err, nil)
		if d := diff(next, stored); d != "" {
			t.Errorf("successor (-want +got):\n%s", d)
		}
		a, err := s.GetAuthorization(ctx, old.AuthorizationID)
		wantErr(t, "GetAuthorization", err, nil)
		if !a.LastUsedAt.Equal(at(time.Hour)) {
			t.Errorf("authorization LastUsedAt = %v, want the rotation time %v", a.LastUsedAt, at(time.Hour))
		}

		got, err = s.RotateRefreshToken(ctx, old.Hash, late, at(2*time.Hour), ev)
		wantErr(t, "second RotateRefreshToken", err, store.ErrAlreadyUsed)
		if d := diff(wantOld, got); d != "" {
			t.Errorf("second RotateRefreshToken old token (-want +got):\n%s", d)
		}
		_, err = s.GetRefreshToken(ctx, late.Hash)
		wantErr(t, "GetRefreshToken of refused successor", err, store.ErrNotFound)
		stored, err = s.GetRefreshToken(ctx, old.Hash)
		wantErr(t, "GetRefreshToken old", err, nil)
		if d := diff(wantOld, stored); d != "" {
			t.Errorf("stored old token (-want +got):\n%s", d)
		}

		_, err = s.RotateRefreshToken(ctx, store.Hash("unknown"), late, at(time.Hour), ev)
		wantErr(t, "RotateRefreshToken unknown", err, store.ErrNotFound)
		_, err = s.GetRefreshToken(ctx, late.Hash)
		wantErr(t, "GetRefreshToken successor of unknown", err, store.ErrNotFound)

		// The event went in with the one rotation that succeeded, stamped
		// with its time; the refused ones stored none.
		evs, err := s.ListAuditEvents(ctx, store.AuditQuery{})
		wantErr(t, "ListAuditEvents", err, nil)
		want := ev
		want.At = at(time.Hour)
		if len(evs) == 1 {
			want.ID = evs[0].ID
		}
		if d := diff([]store.AuditEvent{want}, evs); d != "" {
			t.Errorf("audit trail after the rotations (-want +got):\n%s", d)
		}
	})

	// A successor whose hash is taken fails the whole rotation: the old
	// token stays unused.
	t.Run("RotateSuccessorConflict", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		old, taken := refreshToken("old"), refreshToken("taken")
		wantErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, old), nil)
		wantErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, taken), nil)
		_, err := s.RotateRefreshToken(ctx, old.Hash, taken, at(time.Hour), store.AuditEvent{})
		wantErr(t, "RotateRefreshToken onto taken hash", err, store.ErrConflict)
		got, err := s.GetRefreshToken(ctx, old.Hash)
		wantErr(t, "GetRefreshToken old", err, nil)
		if d := diff(old, got); d != "" {
			t.Errorf("old token after failed rotation (-want +got):\n%s", d)
		}
	})

	// RFC 9700 §4.14.2: of many concurrent rotations of one token exactly one
	// succeeds, and only its successor is stored.
	t.Run("RotateConcurrent", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		old := refreshToken("old")
		wantErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, old), nil)
		nexts := make([]store.RefreshToken, racers)
		for i := range nexts {
			nexts[i] = refreshToken("next-" + string(rune('a'+i)))
		}
		got := make([]store.RefreshToken, racers)
		errs := race(racers, func(i int) error {
			var err error
			got[i], err = s.RotateRefreshToken(ctx, old.Hash, nexts[i], at(time.Duration(i+1)*time.Second), store.AuditEvent{})
			return err
		})
		won, lost, other := tally(errs, store.ErrAlreadyUsed)
		if won != 1 || lost != racers-1 || len(other) != 0 {
			t.Fatalf("%d concurrent rotations: %d won, %d ErrAlreadyUsed, other errors %v; want 1 and %d",
				racers, won, lost, other, racers-1)
		}
		var winner int
		for i, err := range errs {
			if err == nil {
				winner = i
			}
		}
		wantOld := old
		wantOld.UsedAt, wantOld.ReplacedBy = at(time.Duration(winner+1)*time.Second), nexts[winner].Hash
		for i := range got {
			if d := diff(wantOld, got[i]); d != "" {
				t.Errorf("racer %d old token, want the winner's rotation (-want +got):\n%s", i, d)
			}
			_, err := s.GetRefreshToken(ctx, nexts[i].Hash)
			if i == winner {
				wantErr(t, "GetRefreshToken winner's successor", err, nil)
			} else {
				wantErr(t, "GetRefreshToken loser's successor", err, store.ErrNotFound)
			}
		}
	})
}
