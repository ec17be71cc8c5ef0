package ratelimit

import (
	"sync"
	"time"
)

// Policy says when a Lockout locks a key and for how long.
type Policy struct {
	// Failures is how many failures within Window lock the key.
	Failures int
	// Window is the period failures are counted over, from the first
	// failure of a series; a series older than Window starts again.
	Window time.Duration
	// Lockout is how long a locked key stays locked. Attempts refused
	// while it is locked are not failures and never extend it; when it
	// ends, counting starts again from zero.
	Lockout time.Duration
}

// Lockout counts failures per key (such as a username, or a client IP)
// and locks a key out for Policy.Lockout once Policy.Failures of them
// fall within Policy.Window. Because a lockout has a fixed end that
// nothing extends, an attacker can at most keep a key in a series of
// bounded lockouts, each one paid for with Policy.Failures new failures.
type Lockout struct {
	policy Policy
	now    func() time.Time

	mu sync.Mutex
	t  *table[series]
}

// series is one key's failures: how many since first, and the end of its
// lockout once they reached the limit.
type series struct {
	first  time.Time
	count  int
	locked time.Time // zero while not locked
}

// NewLockout returns a Lockout for p keeping at most maxKeys keys
// (DefaultMaxKeys when zero), reading time from now (time.Now when nil).
// It returns nil if p.Failures is not positive or a duration is not: a
// nil *Lockout never locks anything.
func NewLockout(p Policy, maxKeys int, now func() time.Time) *Lockout {
	if p.Failures <= 0 || p.Window <= 0 || p.Lockout <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &Lockout{policy: p, now: now, t: newTable[series](maxKeys)}
}

// Locked reports whether key is locked out and, if so, how long is left.
func (l *Lockout) Locked(key string) (time.Duration, bool) {
	if l == nil {
		return 0, false
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	it := l.t.get(key, now)
	if it == nil || it.v.locked.IsZero() {
		return 0, false
	}
	return it.v.locked.Sub(now), true
}

// Fail records a failure for key. If key is already locked it changes
// nothing. It returns how long key is now locked for, or 0.
func (l *Lockout) Fail(key string) time.Duration {
	if l == nil {
		return 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := series{first: now}
	if it := l.t.get(key, now); it != nil {
		if !it.v.locked.IsZero() {
			return it.v.locked.Sub(now)
		}
		s = it.v
	}
	s.count++
	expires := s.first.Add(l.policy.Window)
	if s.count >= l.policy.Failures {
		s.locked = now.Add(l.policy.Lockout)
		expires = s.locked
	}
	l.t.put(key, s, expires, now)
	if s.locked.IsZero() {
		return 0
	}
	return l.policy.Lockout
}

// Reset forgets key's failures and any lockout.
func (l *Lockout) Reset(key string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.delete(key)
}
