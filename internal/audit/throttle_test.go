package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// memEvents is a store.AuditEvents keeping events in memory.
type memEvents struct {
	mu  sync.Mutex
	evs []store.AuditEvent
}

func (m *memEvents) AppendAuditEvent(_ context.Context, e store.AuditEvent) (store.AuditEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.ID = int64(len(m.evs) + 1)
	m.evs = append(m.evs, e)
	return e, nil
}

func (m *memEvents) ListAuditEvents(context.Context, store.AuditQuery) ([]store.AuditEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]store.AuditEvent(nil), m.evs...), nil
}

// count returns how many stored events have type typ and address addr.
func (m *memEvents) count(typ, addr string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, e := range m.evs {
		if e.Type == typ && e.Address == addr {
			n++
		}
	}
	return n
}

// last returns the last stored event.
func (m *memEvents) last() store.AuditEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.evs[len(m.evs)-1]
}

// syncBuffer is a strings.Builder safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type throttleEnv struct {
	st   *memEvents
	logs *syncBuffer
	now  time.Time
	r    *Recorder
}

func newThrottleEnv(t Throttle) *throttleEnv {
	e := &throttleEnv{st: &memEvents{}, logs: &syncBuffer{}, now: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)}
	e.r = New(e.st, slog.New(slog.NewTextHandler(e.logs, nil)), func() time.Time { return e.now })
	e.r.SetThrottle(t)
	return e
}

func (e *throttleEnv) record(typ, addr, detail string, n int) {
	for range n {
		e.r.Record(WithAddress(context.Background(), addr), store.AuditEvent{Type: typ, Detail: detail})
	}
}

// TestThrottle: per failure type and address at most Limit events are
// stored per window; the rest are counted and reported on the next event
// stored for that type and address, and the first suppression of each
// window is logged once. Other addresses, other types and successes are
// unaffected.
func TestThrottle(t *testing.T) {
	e := newThrottleEnv(Throttle{Limit: 3, Window: time.Minute})
	const a, b = "192.0.2.1", "198.51.100.7"

	e.record(ClientAuthFailed, a, "unknown client", 10)
	if n := e.st.count(ClientAuthFailed, a); n != 3 {
		t.Errorf("10 failures in a window: %d stored, want the limit 3", n)
	}
	if n := strings.Count(e.logs.String(), "audit: suppressing events"); n != 1 {
		t.Errorf("%d suppression warnings, want 1:\n%s", n, e.logs.String())
	}
	e.record(ClientAuthFailed, b, "unknown client", 1)
	e.record(SignInLimited, a, FormAuthorize, 1)
	e.record(SignInSucceeded, a, FormAuthorize, 5)
	for _, c := range []struct {
		typ, addr string
		want      int
	}{{ClientAuthFailed, b, 1}, {SignInLimited, a, 1}, {SignInSucceeded, a, 5}} {
		if n := e.st.count(c.typ, c.addr); n != c.want {
			t.Errorf("%s from %s: %d stored, want %d", c.typ, c.addr, n, c.want)
		}
	}

	e.now = e.now.Add(59 * time.Second)
	e.record(ClientAuthFailed, a, "unknown client", 2)
	if n := e.st.count(ClientAuthFailed, a); n != 3 {
		t.Errorf("later in the same window: %d stored, want still 3", n)
	}

	e.now = e.now.Add(time.Second) // the next window
	e.record(ClientAuthFailed, a, "unknown client", 1)
	got := e.st.last()
	if got.Detail != "unknown client; suppressed=9" {
		t.Errorf("first event of the next window: detail %q, want the 9 suppressed counted", got.Detail)
	}
	if d, n := SplitSuppressed(got.Detail); d != "unknown client" || n != 9 {
		t.Errorf("SplitSuppressed(%q) = %q, %d", got.Detail, d, n)
	}
	e.record(ClientAuthFailed, a, "unknown client", 3)
	if n := e.st.count(ClientAuthFailed, a); n != 6 {
		t.Errorf("next window: %d stored in all, want 3 + 3", n)
	}
	if d := e.st.last().Detail; d != "unknown client" {
		t.Errorf("second event of the window: detail %q, want no count", d)
	}
	if n := strings.Count(e.logs.String(), "audit: suppressing events"); n != 2 {
		t.Errorf("%d suppression warnings, want one per window that suppressed (2)", n)
	}
}

// TestThrottleIPv6Network: an IPv6 address counts as its /64, which one
// host may hold entirely.
func TestThrottleIPv6Network(t *testing.T) {
	e := newThrottleEnv(Throttle{Limit: 2})
	for i := range 5 {
		e.record(SignInFailed, fmt.Sprintf("2001:db8:1:2::%x", i+1), FormAccount, 1)
	}
	e.record(SignInFailed, "2001:db8:1:3::1", FormAccount, 1)
	if evs, _ := e.st.ListAuditEvents(context.Background(), store.AuditQuery{}); len(evs) != 3 {
		t.Errorf("5 failures from one /64 and 1 from another: %d stored, want 2 + 1", len(evs))
	}
}

// TestThrottleOff: without SetThrottle, or with a zero Limit, every event
// is stored.
func TestThrottleOff(t *testing.T) {
	for _, th := range []*Throttle{nil, {}} {
		e := newThrottleEnv(Throttle{})
		if th == nil {
			e.r = New(e.st, nil, func() time.Time { return e.now })
		}
		e.record(ClientAuthFailed, "192.0.2.1", "x", 50)
		if n := e.st.count(ClientAuthFailed, "192.0.2.1"); n != 50 {
			t.Errorf("throttle %v: %d stored, want all 50", th, n)
		}
	}
}

// TestThrottleBoundedKeys: a flood from distinct addresses keeps at most
// MaxKeys windows; a forgotten one holding unreported suppressed events
// says so in the log. Windows over and without pending counts expire.
func TestThrottleBoundedKeys(t *testing.T) {
	e := newThrottleEnv(Throttle{Limit: 1, Window: time.Minute, MaxKeys: 100})
	e.record(SignInLimited, "203.0.113.9", FormEHR, 8)
	for i := range 5000 {
		e.record(ClientAuthFailed, fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), "unknown client", 1)
		if n := len(e.r.throttle.items); n > 100 {
			t.Fatalf("after %d addresses: %d windows, want at most 100", i+1, n)
		}
	}
	if e.r.throttle.order.Len() != len(e.r.throttle.items) {
		t.Fatalf("order %d, map %d: out of step", e.r.throttle.order.Len(), len(e.r.throttle.items))
	}
	if !strings.Contains(e.logs.String(), `msg="audit: suppressed events forgotten unreported" type=signin.limited address=203.0.113.9 suppressed=7`) {
		t.Errorf("no warning for the 7 suppressed events forgotten:\n%s", e.logs.String())
	}

	// Idle windows expire: after the window, new keys sweep old ones.
	e = newThrottleEnv(Throttle{Limit: 1, Window: time.Minute, MaxKeys: 100})
	e.record(ClientAuthFailed, "192.0.2.1", "x", 1)
	e.record(ClientAuthFailed, "192.0.2.2", "x", 1)
	e.now = e.now.Add(time.Minute)
	e.record(ClientAuthFailed, "192.0.2.3", "x", 1)
	if n := len(e.r.throttle.items); n != 1 {
		t.Errorf("after the window: %d windows, want the expired ones swept (1 left)", n)
	}
}

// TestThrottleConcurrent: concurrent events of one type and address
// store exactly Limit between them (run with -race).
func TestThrottleConcurrent(t *testing.T) {
	e := newThrottleEnv(Throttle{Limit: 10})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.record(ClientAuthFailed, "192.0.2.1", "x", 25)
		}()
	}
	wg.Wait()
	if n := e.st.count(ClientAuthFailed, "192.0.2.1"); n != 10 {
		t.Errorf("200 concurrent failures: %d stored, want 10", n)
	}
}

func TestSplitSuppressed(t *testing.T) {
	tests := []struct {
		detail, want string
		n            int
	}{
		{"authorize", "authorize", 0},
		{"authorize; suppressed=37", "authorize", 37},
		{"; suppressed=2", "", 2},
		{"a; suppressed=x", "a; suppressed=x", 0},
		{"a; suppressed=-1", "a; suppressed=-1", 0},
		{"", "", 0},
	}
	for _, tt := range tests {
		if got, n := SplitSuppressed(tt.detail); got != tt.want || n != tt.n {
			t.Errorf("SplitSuppressed(%q) = %q, %d; want %q, %d", tt.detail, got, n, tt.want, tt.n)
		}
	}
}

// TestResourceSuppressed: the FHIR form gives a suppressed count an
// entity detail of its own.
func TestResourceSuppressed(t *testing.T) {
	ae := Resource(store.AuditEvent{ID: 1, Type: SignInLimited, Detail: "ehr; suppressed=4"}, "https://smart.example.org")
	b, _ := json.Marshal(ae.Entity)
	if want := `"detail":[{"type":"form","valueString":"ehr"},{"type":"suppressed","valueString":"4"}]`; !strings.Contains(string(b), want) {
		t.Errorf("entity %s, want %s", b, want)
	}
}
