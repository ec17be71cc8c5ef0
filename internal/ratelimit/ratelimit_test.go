package ratelimit

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injected, settable time source.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

var policy = Policy{Failures: 3, Window: 10 * time.Minute, Lockout: 5 * time.Minute}

// step is one action on a Lockout after advancing the clock.
type step struct {
	advance    time.Duration
	fail       bool // record a failure (else only ask)
	reset      bool
	wantLocked bool
	wantWait   time.Duration // checked when wantLocked
}

func TestLockout(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"locks on the Nth failure", []step{
			{fail: true}, {fail: true}, {wantLocked: false},
			{fail: true, wantLocked: true, wantWait: 5 * time.Minute},
		}},
		{"failures outside the window do not add up", []step{
			{fail: true}, {fail: true},
			{advance: 10 * time.Minute, fail: true}, {fail: true, wantLocked: false},
		}},
		{"attempts while locked do not extend the lockout", []step{
			{fail: true}, {fail: true}, {fail: true, wantLocked: true, wantWait: 5 * time.Minute},
			{advance: 4 * time.Minute, fail: true, wantLocked: true, wantWait: time.Minute},
			{advance: time.Minute, wantLocked: false},
		}},
		{"after a lockout counting starts again", []step{
			{fail: true}, {fail: true}, {fail: true, wantLocked: true, wantWait: 5 * time.Minute},
			{advance: 5 * time.Minute, fail: true}, {fail: true, wantLocked: false},
			{fail: true, wantLocked: true, wantWait: 5 * time.Minute},
		}},
		{"reset forgets failures and lockout", []step{
			{fail: true}, {fail: true}, {reset: true}, {fail: true}, {fail: true, wantLocked: false},
			{fail: true, wantLocked: true, wantWait: 5 * time.Minute}, {reset: true, wantLocked: false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			l := NewLockout(policy, 0, clk.now)
			for i, s := range tc.steps {
				clk.advance(s.advance)
				switch {
				case s.reset:
					l.Reset("k")
				case s.fail:
					l.Fail("k")
				}
				wait, locked := l.Locked("k")
				if locked != s.wantLocked || (locked && wait != s.wantWait) {
					t.Fatalf("step %d: Locked = %v, %v; want %v, %v", i, wait, locked, s.wantWait, s.wantLocked)
				}
			}
			if _, locked := l.Locked("other"); locked {
				t.Error("another key is locked too")
			}
		})
	}
}

func TestLockoutFailReportsLockout(t *testing.T) {
	clk := newClock()
	l := NewLockout(policy, 0, clk.now)
	var got []time.Duration
	for range 4 {
		got = append(got, l.Fail("k"))
		clk.advance(time.Minute)
	}
	want := []time.Duration{0, 0, 5 * time.Minute, 4 * time.Minute}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Fail returned %v, want %v", got, want)
	}
}

func TestBuckets(t *testing.T) {
	clk := newClock()
	b := NewBuckets(2, 3, 0, clk.now) // 2 per second, burst 3
	for _, tc := range []struct {
		name     string
		advance  time.Duration
		key      string
		wantOK   bool
		wantWait time.Duration
	}{
		{"burst 1", 0, "a", true, 0},
		{"burst 2", 0, "a", true, 0},
		{"burst 3", 0, "a", true, 0},
		{"empty", 0, "a", false, 500 * time.Millisecond},
		{"other key has its own bucket", 0, "b", true, 0},
		{"half refilled", 250 * time.Millisecond, "a", false, 250 * time.Millisecond},
		{"refilled one", 250 * time.Millisecond, "a", true, 0},
		{"empty again", 0, "a", false, 500 * time.Millisecond},
		{"refill stops at burst 1", time.Hour, "a", true, 0},
		{"refill stops at burst 2", 0, "a", true, 0},
		{"refill stops at burst 3", 0, "a", true, 0},
		{"refill stops at burst 4", 0, "a", false, 500 * time.Millisecond},
	} {
		clk.advance(tc.advance)
		wait, ok := b.Allow(tc.key)
		if ok != tc.wantOK || wait != tc.wantWait {
			t.Errorf("%s: Allow = %v, %v; want %v, %v", tc.name, wait, ok, tc.wantWait, tc.wantOK)
		}
	}
}

func TestDisabled(t *testing.T) {
	if l := NewLockout(Policy{}, 0, nil); l != nil {
		t.Fatal("zero policy: want a nil Lockout")
	}
	var l *Lockout
	for range 10 {
		l.Fail("k")
	}
	if _, locked := l.Locked("k"); locked {
		t.Error("nil Lockout locked a key")
	}
	l.Reset("k")
	var b *Buckets = NewBuckets(0, 5, 0, nil)
	if b != nil {
		t.Fatal("zero rate: want nil Buckets")
	}
	for range 10 {
		if _, ok := b.Allow("k"); !ok {
			t.Fatal("nil Buckets refused")
		}
	}
}

// TestBoundedMemory: past MaxKeys the least recently touched key goes,
// and entries that no longer limit anything are swept.
func TestBoundedMemory(t *testing.T) {
	clk := newClock()
	l := NewLockout(Policy{Failures: 2, Window: time.Minute, Lockout: time.Minute}, 3, clk.now)
	for _, k := range []string{"a", "b", "c"} {
		l.Fail(k)
	}
	l.Fail("a") // locks a and makes it the most recently touched
	l.Fail("d") // evicts b, the oldest
	if n := l.t.len(); n != 3 {
		t.Errorf("%d keys held, want 3", n)
	}
	if _, locked := l.Locked("a"); !locked {
		t.Error("a, recently touched, was evicted")
	}
	l.Fail("b")
	if _, locked := l.Locked("b"); locked {
		t.Error("b kept its failure through eviction")
	}
	clk.advance(2 * time.Minute)
	l.Fail("e") // sweeps the expired ones
	if n := l.t.len(); n != 1 {
		t.Errorf("after expiry %d keys held, want 1", n)
	}

	b := NewBuckets(1, 1, 2, clk.now)
	for i := range 100 {
		b.Allow(fmt.Sprint(i))
	}
	if n := b.t.len(); n != 2 {
		t.Errorf("buckets hold %d keys, want 2", n)
	}
}

// TestConcurrent is meant for -race: the limiters share state safely.
func TestConcurrent(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(0, 0)
	clk := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l := NewLockout(policy, 50, clk)
	b := NewBuckets(1000, 10, 50, clk)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := fmt.Sprint((g * i) % 70)
				l.Fail(k)
				l.Locked(k)
				b.Allow(k)
				if i%50 == 0 {
					l.Reset(k)
				}
			}
		})
	}
	wg.Wait()
	if n := l.t.len(); n > 50 {
		t.Errorf("lockout holds %d keys, over its cap of 50", n)
	}
}

func TestSetRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		want string
	}{
		{0, "1"},
		{time.Millisecond, "1"},
		{time.Second, "1"},
		{1500 * time.Millisecond, "2"},
		{15 * time.Minute, "900"},
	} {
		h := http.Header{}
		SetRetryAfter(h, tc.wait)
		if got := h.Get("Retry-After"); got != tc.want {
			t.Errorf("SetRetryAfter(%v) = %q, want %q", tc.wait, got, tc.want)
		}
	}
}
