package usage

import (
	"context"
	"sync"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

type key struct {
	authorization, kind string
	day                 time.Time
}

// Recorder counts data requests per authorization, kind and day.
type Recorder struct {
	st  store.AccessRecords
	now func() time.Time

	mu     sync.Mutex
	counts map[key]int
}

// New returns a Recorder writing to st.
func New(st store.AccessRecords, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{st: st, now: now, counts: map[key]int{}}
}

// Record counts one successful request of the given resource kind by the
// authorization.
func (r *Recorder) Record(authorizationID, kind string) {
	y, m, d := r.now().UTC().Date()
	k := key{authorization: authorizationID, kind: kind, day: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
	r.mu.Lock()
	r.counts[k]++
	r.mu.Unlock()
}

// Flush writes the counts gathered since the last flush. On a store error
// the counts are kept for the next flush.
func (r *Recorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	pending := r.counts
	r.counts = map[key]int{}
	r.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	recs := make([]store.AccessRecord, 0, len(pending))
	for k, n := range pending {
		recs = append(recs, store.AccessRecord{AuthorizationID: k.authorization, Day: k.day, ResourceType: k.kind, Count: n})
	}
	if err := r.st.AddAccess(ctx, recs); err != nil {
		r.mu.Lock()
		for k, n := range pending {
			r.counts[k] += n
		}
		r.mu.Unlock()
		return err
	}
	return nil
}
