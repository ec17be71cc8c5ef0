package ratelimit

import (
	"math"
	"sync"
	"time"
)

// Buckets is a token bucket per key: each key may spend Burst requests at
// once and earns Rate more per second, up to Burst again.
type Buckets struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu sync.Mutex
	t  *table[bucket]
}

// bucket is one key's tokens as of last.
type bucket struct {
	tokens float64
	last   time.Time
}

// NewBuckets returns token buckets refilling at rate per second up to
// burst, keeping at most maxKeys keys (DefaultMaxKeys when zero), reading
// time from now (time.Now when nil). It returns nil if rate is not
// positive: a nil *Buckets allows everything. A burst below 1 is 1.
func NewBuckets(rate float64, burst, maxKeys int, now func() time.Time) *Buckets {
	if !(rate > 0) {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &Buckets{rate: rate, burst: float64(max(burst, 1)), now: now, t: newTable[bucket](maxKeys)}
}

// Allow spends one of key's tokens and reports true, or, when it has
// none, reports false and how long until it will have one.
func (b *Buckets) Allow(key string) (time.Duration, bool) {
	if b == nil {
		return 0, true
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := bucket{tokens: b.burst, last: now}
	if it := b.t.get(key, now); it != nil {
		cur = it.v
		if elapsed := now.Sub(cur.last).Seconds(); elapsed > 0 {
			cur.tokens = math.Min(b.burst, cur.tokens+elapsed*b.rate)
			cur.last = now
		}
	}
	if cur.tokens < 1 {
		wait := time.Duration(math.Ceil((1 - cur.tokens) / b.rate * float64(time.Second)))
		b.t.put(key, cur, b.full(cur), now)
		return wait, false
	}
	cur.tokens--
	b.t.put(key, cur, b.full(cur), now)
	return 0, true
}

// full is when c will be full again: from then on it is no different
// from a key never seen, so its entry may go.
func (b *Buckets) full(c bucket) time.Time {
	return c.last.Add(time.Duration(math.Ceil((b.burst - c.tokens) / b.rate * float64(time.Second))))
}
