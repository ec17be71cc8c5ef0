package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// authRequest returns a pending request with every client-supplied field set.
func authRequest(id string) store.AuthRequest {
	return store.AuthRequest{
		ID: id, ClientID: "client-1", RedirectURI: "https://app.example/cb",
		Scope: "launch/patient openid patient/*.rs", State: "st-" + id,
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Nonce: "n-" + id,
		Aud: "https://ehr.example/fhir", CreatedAt: at(0), ExpiresAt: at(10 * time.Minute),
	}
}

func testAuthRequests(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		decided := authRequest("decided")
		decided.UserID, decided.PatientID = "u1", "123"
		decided.GrantedScope, decided.Decision = "launch/patient openid", store.DecisionApproved
		decided.ProofHash, decided.SessionID = store.Hash("proof"), store.Hash("session")
		decided.LaunchID = store.Hash("launch")
		tests := []struct {
			name string
			r    store.AuthRequest
		}{
			{"pending", authRequest("pending")},
			{"decided", decided},
			{"zero times", store.AuthRequest{ID: "bare", ClientID: "client-1"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				wantErr(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, tt.r), nil)
				got, err := s.GetAuthRequest(ctx, tt.r.ID)
				wantErr(t, "GetAuthRequest", err, nil)
				if d := diff(tt.r, got); d != "" {
					t.Errorf("GetAuthRequest mismatch (-want +got):\n%s", d)
				}
				wantUTC(t, got.CreatedAt, got.ExpiresAt)
			})
		}
	})

	t.Run("Errors", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		r := authRequest("r1")
		wantErr(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, r), nil)
		wantErr(t, "CreateAuthRequest duplicate", s.CreateAuthRequest(ctx, r), store.ErrConflict)
		_, err := s.GetAuthRequest(ctx, "unknown")
		wantErr(t, "GetAuthRequest unknown", err, store.ErrNotFound)
		wantErr(t, "UpdateAuthRequest unknown",
			s.UpdateAuthRequest(ctx, authRequest("unknown")), store.ErrNotFound)
		_, err = s.TakeAuthRequest(ctx, "unknown")
		wantErr(t, "TakeAuthRequest unknown", err, store.ErrNotFound)
	})

	t.Run("UpdateWritesOnlyUserFields", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		r := authRequest("r1")
		wantErr(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, r), nil)

		upd := authRequest("r1")
		upd.UserID, upd.PatientID = "u1", "123"
		upd.GrantedScope, upd.Decision = "openid", store.DecisionDenied
		// Fields the user does not supply must not change.
		upd.Scope, upd.RedirectURI, upd.ExpiresAt = "changed", "https://evil.example/", at(time.Hour)
		wantErr(t, "UpdateAuthRequest", s.UpdateAuthRequest(ctx, upd), nil)

		want := r
		want.UserID, want.PatientID = "u1", "123"
		want.GrantedScope, want.Decision = "openid", store.DecisionDenied
		got, err := s.GetAuthRequest(ctx, "r1")
		wantErr(t, "GetAuthRequest", err, nil)
		if d := diff(want, got); d != "" {
			t.Errorf("after UpdateAuthRequest (-want +got):\n%s", d)
		}
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		for i, exp := range []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute} {
			r := authRequest(fmt.Sprintf("r%d", i))
			r.ExpiresAt = at(exp)
			wantErr(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, r), nil)
		}
		n, err := s.DeleteExpiredAuthRequests(ctx, at(2*time.Minute))
		wantErr(t, "DeleteExpiredAuthRequests", err, nil)
		if n != 2 {
			t.Errorf("deleted %d, want 2 (expiry at or before now)", n)
		}
		for id, want := range map[string]error{"r0": store.ErrNotFound, "r1": store.ErrNotFound, "r2": nil} {
			_, err := s.GetAuthRequest(ctx, id)
			wantErr(t, "GetAuthRequest "+id, err, want)
		}
	})

	t.Run("TakeOnce", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		r := authRequest("r1")
		r.UserID, r.Decision = "u1", store.DecisionApproved
		wantErr(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, r), nil)
		got, err := s.TakeAuthRequest(ctx, "r1")
		wantErr(t, "TakeAuthRequest", err, nil)
		if d := diff(r, got); d != "" {
			t.Errorf("TakeAuthRequest mismatch (-want +got):\n%s", d)
		}
		_, err = s.TakeAuthRequest(ctx, "r1")
		wantErr(t, "second TakeAuthRequest", err, store.ErrNotFound)
		_, err = s.GetAuthRequest(ctx, "r1")
		wantErr(t, "GetAuthRequest after take", err, store.ErrNotFound)
	})

	// Exactly one of many concurrent takes gets the request, so one consent
	// yields at most one authorization code.
	t.Run("TakeConcurrent", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		wantErr(t, "CreateAuthRequest", s.CreateAuthRequest(ctx, authRequest("r1")), nil)
		errs := race(racers, func(int) error {
			r, err := s.TakeAuthRequest(ctx, "r1")
			if err == nil && r.ID != "r1" {
				return fmt.Errorf("took request %q, want r1", r.ID)
			}
			return err
		})
		won, lost, other := tally(errs, store.ErrNotFound)
		if won != 1 || lost != racers-1 || len(other) != 0 {
			t.Errorf("%d concurrent takes: %d won, %d ErrNotFound, other errors %v; want 1 and %d",
				racers, won, lost, other, racers-1)
		}
	})
}
