package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// Opener returns a fresh, empty store for one test. It registers the
// store's cleanup (Close and any files) with t itself.
type Opener func(t *testing.T) store.Store

// Run runs the whole conformance suite against the stores open returns,
// one named subtest per record family.
func Run(t *testing.T, open Opener) {
	t.Run("Clients", func(t *testing.T) { testClients(t, open) })
	t.Run("Users", func(t *testing.T) { testUsers(t, open) })
	t.Run("AuthRequests", func(t *testing.T) { testAuthRequests(t, open) })
	t.Run("Codes", func(t *testing.T) { testCodes(t, open) })
	t.Run("Authorizations", func(t *testing.T) { testAuthorizations(t, open) })
	t.Run("RefreshTokens", func(t *testing.T) { testRefreshTokens(t, open) })
	t.Run("ReplayCache", func(t *testing.T) { testReplayCache(t, open) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open) })
	t.Run("AuditEvents", func(t *testing.T) { testAuditEvents(t, open) })
	t.Run("AppStates", func(t *testing.T) { testAppStates(t, open) })
	t.Run("Launches", func(t *testing.T) { testLaunches(t, open) })
	t.Run("AccessRecords", func(t *testing.T) { testAccessRecords(t, open) })
	t.Run("Keys", func(t *testing.T) { testKeys(t, open) })
	t.Run("Resources", func(t *testing.T) { testResources(t, open) })
	t.Run("ResourceWrites", func(t *testing.T) { testResourceWrites(t, open) })
	t.Run("Reminders", func(t *testing.T) { testReminders(t, open) })
}

// racers is how many goroutines the concurrency cases run at once.
const racers = 20

// t0 is a fixed instant with microsecond digits, in a non-UTC zone so that
// tests see backends return UTC. Stores keep at least microseconds.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.FixedZone("UTC+2", 2*60*60))

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// diff compares records: times with time.Time.Equal, nil and empty slices
// as equal.
func diff(want, got any) string {
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}

// wantUTC fails t if any non-zero time in ts is not in UTC.
func wantUTC(t *testing.T, ts ...time.Time) {
	t.Helper()
	for i, tm := range ts {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("time %d = %v: location %v, want UTC", i, tm, tm.Location())
		}
	}
}

// wantErr fails t unless errors.Is(err, want); want nil means no error.
func wantErr(t *testing.T, op string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: got error %v, want nil", op, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: got error %v, want %v", op, err, want)
	}
}

// race runs fn(i) for i in [0, n) in n goroutines released at once and
// returns their errors, indexed by i.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// tally counts the nil errors and those matching lost in errs; the rest are
// returned as unexpected.
func tally(errs []error, lost error) (won, lostN int, other []error) {
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, lost):
			lostN++
		default:
			other = append(other, err)
		}
	}
	return won, lostN, other
}
