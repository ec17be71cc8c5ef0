package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// Recorder writes audit events. A nil *Recorder records nothing.
type Recorder struct {
	st       store.AuditEvents
	logger   *slog.Logger
	now      func() time.Time
	throttle *throttle // nil: store every event (see SetThrottle)
}

// New returns a Recorder writing to st and logger.
func New(st store.AuditEvents, logger *slog.Logger, now func() time.Time) *Recorder {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Recorder{st: st, logger: logger, now: now}
}

// Record stores e, stamped with the current time when e.At is zero and
// with the address ctx carries (see WithAddress) when e.Address is empty,
// and logs it: failures at level Warn, the rest at Info. It returns the
// stored event (with its ID) or, when storing failed or a Throttle
// suppressed it (see SetThrottle), e as given; the failure is logged,
// never returned.
func (r *Recorder) Record(ctx context.Context, e store.AuditEvent) store.AuditEvent {
	if r == nil {
		return e
	}
	e = r.Prepare(ctx, e)
	if v, ok := r.throttled(e); ok {
		r.logVerdict(ctx, v)
		if !v.store {
			return e
		}
		e.Detail = withSuppressed(e.Detail, v.carried)
	}
	stored, err := r.st.AppendAuditEvent(context.WithoutCancel(ctx), e)
	if err != nil {
		r.logger.ErrorContext(ctx, "audit: store event", "type", e.Type, "err", err)
		stored = e
	}
	r.Log(ctx, stored)
	return stored
}

// Prepare stamps e as Record would, for a store method that appends it in
// the same transaction as the change it records (such as
// store.RefreshTokens.RotateRefreshToken); call Log once that succeeded.
// A nil Recorder returns the zero event, which such methods skip.
func (r *Recorder) Prepare(ctx context.Context, e store.AuditEvent) store.AuditEvent {
	if r == nil {
		return store.AuditEvent{}
	}
	if e.At.IsZero() {
		e.At = r.now()
	}
	if e.Address == "" {
		e.Address = Address(ctx)
	}
	return e
}

// Log writes e to the log: failures at level Warn, the rest at Info.
// Record calls it; call it after storing an event made by Prepare.
func (r *Recorder) Log(ctx context.Context, e store.AuditEvent) {
	if r == nil || e.Type == "" {
		return
	}
	level := slog.LevelInfo
	if OutcomeOf(e.Type, e.Detail) != Success {
		level = slog.LevelWarn
	}
	r.logger.Log(ctx, level, "audit", "type", e.Type, "user", e.UserID, "client", e.ClientID,
		"authorization", e.AuthorizationID, "detail", e.Detail, "address", e.Address)
}

// addressKey is the context key of the requester's address.
type addressKey struct{}

// WithAddress returns ctx carrying addr, the network address a request
// came from, for the events recorded while serving it.
func WithAddress(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, addressKey{}, addr)
}

// Address returns the address ctx carries, or "".
func Address(ctx context.Context) string {
	a, _ := ctx.Value(addressKey{}).(string)
	return a
}
