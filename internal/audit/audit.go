package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// Event types.
const (
	// AuthorizationEnded: an authorization ended; Detail is the EndReason.
	AuthorizationEnded = "authorization.ended"
)

// Recorder writes audit events. A nil *Recorder records nothing.
type Recorder struct {
	st     store.AuditEvents
	logger *slog.Logger
	now    func() time.Time
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

// Record stores e, stamped with the current time when e.At is zero, and
// logs it. It returns the stored event (with its ID) or, when storing
// failed, e as given; the failure is logged, never returned.
func (r *Recorder) Record(ctx context.Context, e store.AuditEvent) store.AuditEvent {
	if r == nil {
		return e
	}
	if e.At.IsZero() {
		e.At = r.now()
	}
	stored, err := r.st.AppendAuditEvent(context.WithoutCancel(ctx), e)
	if err != nil {
		r.logger.Error("audit: store event", "type", e.Type, "err", err)
		stored = e
	}
	r.logger.Warn("audit", "type", e.Type, "user", e.UserID, "client", e.ClientID,
		"authorization", e.AuthorizationID, "detail", e.Detail)
	return stored
}
