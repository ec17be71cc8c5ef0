package audit

import (
	"container/list"
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// Throttle bounds the failure events that unauthenticated requests cause
// (ClientAuthFailed, SignInFailed, SignInLimited), so a flood of them
// cannot fill the audit trail. Per event type and address (an IPv6
// address counts as its /64 network), at most Limit events are stored
// per Window, counted from the first; the rest are suppressed but
// counted, and the next event of that type from that address that is
// stored carries their count in its Detail (see SplitSuppressed). The
// first suppression in a window is logged at level Warn. Success events
// are never throttled.
type Throttle struct {
	// Limit is how many events are stored per type, address and window;
	// zero or less turns throttling off.
	Limit int
	// Window is how long a window lasts (time.Minute when zero).
	Window time.Duration
	// MaxKeys bounds how many type and address pairs are remembered
	// (DefaultThrottleKeys when zero); past it the least recently seen is
	// forgotten, and the log says how many suppressed events of it went
	// unreported.
	MaxKeys int
}

// DefaultThrottle is the throttle the server applies: ten events per
// type, address and minute.
var DefaultThrottle = Throttle{Limit: 10, Window: time.Minute, MaxKeys: DefaultThrottleKeys}

// DefaultThrottleKeys is the number of type and address pairs a
// Throttle remembers when its MaxKeys is zero.
const DefaultThrottleKeys = 10_000

// pendingRetention is how long a pair with suppressed events not yet
// reported is remembered after its window, waiting for an event to
// report them on.
const pendingRetention = time.Hour

// throttledTypes are the event types a Throttle applies to: those an
// unauthenticated request can cause.
var throttledTypes = map[string]bool{ClientAuthFailed: true, SignInFailed: true, SignInLimited: true}

// suppressedSep separates an event's own Detail from the count of
// events suppressed before it.
const suppressedSep = "; suppressed="

// SplitSuppressed splits an event's Detail into the detail proper and the
// number of earlier events of its type and address that a Throttle
// suppressed (0 when none): "authorize; suppressed=37" is "authorize"
// and 37.
func SplitSuppressed(detail string) (string, int) {
	i := strings.LastIndex(detail, suppressedSep)
	if i < 0 {
		return detail, 0
	}
	n, err := strconv.Atoi(detail[i+len(suppressedSep):])
	if err != nil || n <= 0 {
		return detail, 0
	}
	return detail[:i], n
}

// withSuppressed returns detail noting n suppressed events.
func withSuppressed(detail string, n int) string {
	if n <= 0 {
		return detail
	}
	return detail + suppressedSep + strconv.Itoa(n)
}

// SetThrottle makes r throttle failure events as t says. Call it before
// r records anything; a zero Limit turns throttling off.
func (r *Recorder) SetThrottle(t Throttle) {
	if t.Limit <= 0 {
		r.throttle = nil
		return
	}
	if t.Window <= 0 {
		t.Window = time.Minute
	}
	if t.MaxKeys <= 0 {
		t.MaxKeys = DefaultThrottleKeys
	}
	r.throttle = &throttle{cfg: t, items: map[throttleKey]*list.Element{}, order: list.New()}
}

// throttle is the state of a Throttle: a window per type and address, in
// a map with least-recently-seen order, a size cap and expiry.
type throttle struct {
	cfg Throttle

	mu    sync.Mutex
	items map[throttleKey]*list.Element
	order *list.List // of *throttleWindow, least recently seen first
}

type throttleKey struct{ typ, addr string }

// throttleWindow is one type and address's current window.
type throttleWindow struct {
	key        throttleKey
	start      time.Time
	stored     int // events stored in this window
	suppressed int // events suppressed in this window
	pending    int // suppressed events not yet reported, from this window and earlier ones
	expires    time.Time
}

// verdict is what the throttle decided about one event.
type verdict struct {
	store    bool
	carried  int              // when storing: suppressed events to report on it
	started  bool             // when suppressing: the first suppression of the window
	dropped  []throttleWindow // forgotten with suppressed events unreported
	limit    int
	window   time.Duration
	addrKey  string
	eventTyp string
}

// check counts one event of typ from addr at now and says whether to
// store it.
func (t *throttle) check(typ, addr string, now time.Time) verdict {
	k := throttleKey{typ, throttleAddr(addr)}
	v := verdict{limit: t.cfg.Limit, window: t.cfg.Window, addrKey: k.addr, eventTyp: typ}
	t.mu.Lock()
	defer t.mu.Unlock()
	var w *throttleWindow
	if e, ok := t.items[k]; ok {
		w = e.Value.(*throttleWindow)
		t.order.MoveToBack(e)
	} else {
		v.dropped = t.makeRoom(now)
		w = &throttleWindow{key: k, start: now}
		t.items[k] = t.order.PushBack(w)
	}
	if !now.Before(w.start.Add(t.cfg.Window)) {
		w.start, w.stored, w.suppressed = now, 0, 0
	}
	if w.stored < t.cfg.Limit {
		w.stored++
		v.store, v.carried, w.pending = true, w.pending, 0
	} else {
		w.suppressed++
		w.pending++
		v.started = w.suppressed == 1
	}
	w.expires = w.start.Add(t.cfg.Window)
	if w.pending > 0 {
		w.expires = w.expires.Add(pendingRetention)
	}
	return v
}

// makeRoom drops a few expired windows from the least recently seen end
// and, at the cap, the least recently seen ones, and returns those that
// held unreported suppressed events.
func (t *throttle) makeRoom(now time.Time) []throttleWindow {
	var lost []throttleWindow
	drop := func(e *list.Element) {
		w := e.Value.(*throttleWindow)
		if w.pending > 0 {
			lost = append(lost, *w)
		}
		delete(t.items, w.key)
		t.order.Remove(e)
	}
	for range 4 {
		front := t.order.Front()
		if front == nil || now.Before(front.Value.(*throttleWindow).expires) {
			break
		}
		drop(front)
	}
	for t.order.Len() >= t.cfg.MaxKeys {
		drop(t.order.Front())
	}
	return lost
}

// logVerdict logs what the throttle did, outside its lock.
func (r *Recorder) logVerdict(ctx context.Context, v verdict) {
	for _, w := range v.dropped {
		r.logger.WarnContext(ctx, "audit: suppressed events forgotten unreported", "type", w.key.typ,
			"address", w.key.addr, "suppressed", w.pending)
	}
	if v.started {
		r.logger.WarnContext(ctx, "audit: suppressing events", "type", v.eventTyp, "address", v.addrKey,
			"limit", fmt.Sprintf("%d per %s", v.limit, v.window))
	}
}

// throttleAddr is the key an address is throttled under: an IPv4 address
// itself, an IPv6 address its /64 network (one host may hold all of it),
// anything else unchanged.
func throttleAddr(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// throttled reports whether r throttles events like e, and when it does
// its verdict on e.
func (r *Recorder) throttled(e store.AuditEvent) (verdict, bool) {
	if r.throttle == nil || !throttledTypes[e.Type] {
		return verdict{}, false
	}
	return r.throttle.check(e.Type, e.Address, e.At), true
}
