package storetest

import (
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// code returns an unused code with every other field set.
func code(secret string) store.Code {
	return store.Code{
		Hash: store.Hash(secret), AuthorizationID: "authz-1", ClientID: "client-1",
		RedirectURI: "https://app.example/cb", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Nonce: "n-" + secret, CreatedAt: at(0), ExpiresAt: at(time.Minute),
	}
}

func testCodes(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		used := code("used")
		used.UsedAt = at(30 * time.Second)
		tests := []struct {
			name string
			c    store.Code
		}{
			{"unused", code("unused")},
			{"used", used},
			{"zero times", store.Code{Hash: store.Hash("bare"), AuthorizationID: "authz-1"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				wantErr(t, "CreateCode", s.CreateCode(ctx, tt.c), nil)
				wantErr(t, "CreateCode duplicate", s.CreateCode(ctx, tt.c), store.ErrConflict)
				// The contract has no getter: ConsumeCode returns the record.
				want, wantE := tt.c, error(nil)
				if want.UsedAt.IsZero() {
					want.UsedAt = at(time.Minute + time.Microsecond)
				} else {
					wantE = store.ErrAlreadyUsed
				}
				got, err := s.ConsumeCode(ctx, tt.c.Hash, at(time.Minute+time.Microsecond))
				wantErr(t, "ConsumeCode", err, wantE)
				if d := diff(want, got); d != "" {
					t.Errorf("ConsumeCode record (-want +got):\n%s", d)
				}
				wantUTC(t, got.CreatedAt, got.ExpiresAt, got.UsedAt)
			})
		}
	})

	// RFC 6749 §4.1.2: an authorization code is used at most once; a second
	// use is reported with the code so its authorization can be ended.
	t.Run("DeleteExpired", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		old, fresh := code("old"), code("fresh")
		fresh.ExpiresAt = at(time.Hour)
		wantErr(t, "CreateCode", s.CreateCode(ctx, old), nil)
		wantErr(t, "CreateCode", s.CreateCode(ctx, fresh), nil)
		n, err := s.DeleteExpiredCodes(ctx, old.ExpiresAt)
		wantErr(t, "DeleteExpiredCodes", err, nil)
		if n != 1 {
			t.Errorf("deleted %d, want 1", n)
		}
		_, err = s.ConsumeCode(ctx, old.Hash, at(0))
		wantErr(t, "ConsumeCode expired", err, store.ErrNotFound)
		_, err = s.ConsumeCode(ctx, fresh.Hash, at(0))
		wantErr(t, "ConsumeCode fresh", err, nil)
	})

	t.Run("ConsumeOnce", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		c := code("abc")
		wantErr(t, "CreateCode", s.CreateCode(ctx, c), nil)

		first := at(5 * time.Second)
		want := c
		want.UsedAt = first
		got, err := s.ConsumeCode(ctx, c.Hash, first)
		wantErr(t, "ConsumeCode", err, nil)
		if d := diff(want, got); d != "" {
			t.Errorf("ConsumeCode mismatch (-want +got):\n%s", d)
		}
		wantUTC(t, got.CreatedAt, got.ExpiresAt, got.UsedAt)

		got, err = s.ConsumeCode(ctx, c.Hash, at(6*time.Second))
		wantErr(t, "second ConsumeCode", err, store.ErrAlreadyUsed)
		if d := diff(want, got); d != "" {
			t.Errorf("second ConsumeCode record, UsedAt must stay the first (-want +got):\n%s", d)
		}

		_, err = s.ConsumeCode(ctx, store.Hash("unknown"), first)
		wantErr(t, "ConsumeCode unknown", err, store.ErrNotFound)
	})

	t.Run("ConsumeCreatedUsed", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		c := code("abc")
		c.UsedAt = at(time.Second)
		wantErr(t, "CreateCode", s.CreateCode(ctx, c), nil)
		got, err := s.ConsumeCode(ctx, c.Hash, at(2*time.Second))
		wantErr(t, "ConsumeCode", err, store.ErrAlreadyUsed)
		if d := diff(c, got); d != "" {
			t.Errorf("ConsumeCode record (-want +got):\n%s", d)
		}
	})

	// RFC 6749 §4.1.2: of many concurrent redemptions of one code exactly
	// one succeeds; every other gets ErrAlreadyUsed and the code.
	t.Run("ConsumeConcurrent", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		c := code("abc")
		wantErr(t, "CreateCode", s.CreateCode(ctx, c), nil)
		got := make([]store.Code, racers)
		errs := race(racers, func(i int) error {
			var err error
			got[i], err = s.ConsumeCode(ctx, c.Hash, at(time.Duration(i+1)*time.Millisecond))
			return err
		})
		won, lost, other := tally(errs, store.ErrAlreadyUsed)
		if won != 1 || lost != racers-1 || len(other) != 0 {
			t.Fatalf("%d concurrent consumes: %d won, %d ErrAlreadyUsed, other errors %v; want 1 and %d",
				racers, won, lost, other, racers-1)
		}
		var winner int
		for i, err := range errs {
			if err == nil {
				winner = i
			}
		}
		want := c
		want.UsedAt = at(time.Duration(winner+1) * time.Millisecond)
		for i := range got {
			if d := diff(want, got[i]); d != "" {
				t.Errorf("racer %d record, want the winner's UsedAt (-want +got):\n%s", i, d)
			}
		}
	})
}
