package storetest

import (
	"fmt"
	"testing"
	"time"
)

// testReplayCache holds the store.ReplayCache contract: RFC 9449 §11.1 and
// A-117 (a one-time value is accepted once, atomically, across
// instances sharing the store).
func testReplayCache(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		tests := []struct {
			name string
			key  string
			exp  time.Time
			now  time.Time
			want bool
		}{
			{"new key", "dpop:a", at(time.Minute), at(0), true},
			{"replay before expiry", "dpop:a", at(2 * time.Minute), at(30 * time.Second), false},
			{"replay a microsecond before expiry", "dpop:a", at(2 * time.Minute), at(time.Minute - time.Microsecond), false},
			{"other key", "dpop:b", at(time.Minute), at(30 * time.Second), true},
			{"reusable at expiry", "dpop:a", at(3 * time.Minute), at(time.Minute), true},
			{"new expiry kept", "dpop:a", at(4 * time.Minute), at(2 * time.Minute), false},
			{"reusable after new expiry", "dpop:a", at(5 * time.Minute), at(3*time.Minute + time.Second), true},
			{"empty key is a key", "", at(time.Minute), at(0), true},
			{"empty key replay", "", at(time.Minute), at(0), false},
		}
		for _, tt := range tests {
			got, err := s.Remember(ctx, tt.key, tt.exp, tt.now)
			wantErr(t, tt.name+": Remember", err, nil)
			if got != tt.want {
				t.Errorf("%s: Remember(%q) = %v, want %v", tt.name, tt.key, got, tt.want)
			}
		}
	})

	t.Run("ZeroTime", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		if _, err := s.Remember(ctx, "k", time.Time{}, at(0)); err == nil {
			t.Error("Remember with zero expiry: got nil error, want one")
		}
		if _, err := s.Remember(ctx, "k", at(time.Minute), time.Time{}); err == nil {
			t.Error("Remember with zero now: got nil error, want one")
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		got := make([]bool, racers)
		errs := race(racers, func(i int) error {
			var err error
			got[i], err = s.Remember(ctx, "dpop:raced", at(time.Minute), at(0))
			return err
		})
		won := 0
		for i, err := range errs {
			wantErr(t, "Remember", err, nil)
			if got[i] {
				won++
			}
		}
		if won != 1 {
			t.Errorf("%d of %d concurrent Remember calls got true, want exactly 1", won, racers)
		}
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		for _, k := range []struct {
			key string
			exp time.Time
		}{{"old1", at(time.Second)}, {"old2", at(time.Minute)}, {"fresh", at(time.Hour)}} {
			ok, err := s.Remember(ctx, k.key, k.exp, at(0))
			wantErr(t, "Remember", err, nil)
			if !ok {
				t.Fatalf("Remember(%q) = false, want true", k.key)
			}
		}
		n, err := s.DeleteExpiredReplays(ctx, at(time.Minute))
		wantErr(t, "DeleteExpiredReplays", err, nil)
		if n != 2 {
			t.Errorf("deleted %d, want 2", n)
		}
		// The fresh key survives: still a replay even at a "now" past the
		// deleted ones' expiry.
		ok, err := s.Remember(ctx, "fresh", at(2*time.Hour), at(time.Minute))
		wantErr(t, "Remember fresh", err, nil)
		if ok {
			t.Error("Remember(fresh) after DeleteExpiredReplays = true, want false")
		}
		n, err = s.DeleteExpiredReplays(ctx, at(time.Minute))
		wantErr(t, "DeleteExpiredReplays again", err, nil)
		if n != 0 {
			t.Errorf("second delete removed %d, want 0", n)
		}
	})

	// Backends delete in batches (issue 11: a janitor that never holds
	// the store for long): more rows than any batch all go, the live stay.
	t.Run("DeleteExpiredMany", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		const n = 2345
		for i := range n {
			if _, err := s.Remember(ctx, fmt.Sprintf("k%d", i), at(time.Second), at(0)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Remember(ctx, "live", at(time.Hour), at(0)); err != nil {
			t.Fatal(err)
		}
		got, err := s.DeleteExpiredReplays(ctx, at(time.Minute))
		if err != nil || got != n {
			t.Fatalf("DeleteExpiredReplays = %d, %v; want %d", got, err, n)
		}
		if ok, _ := s.Remember(ctx, "live", at(2*time.Hour), at(time.Minute)); ok {
			t.Error("the live key was deleted")
		}
	})
}
