package store

import (
	"context"
	"time"
)

// Reminder states. A reminder starts pending; the user may snooze it (it
// comes back after SnoozedUntil) or mark it done, which is final.
const (
	ReminderPending = "pending"
	ReminderSnoozed = "snoozed"
	ReminderDone    = "done"
)

// Reminder is one notice to a user about the apps that can reach their
// data (package reminders decides when one is due). It names
// authorizations, never tokens or clinical content.
type Reminder struct {
	ID     string
	UserID string
	// Kind is what the reminder is about, such as "review" or "security"
	// (see package reminders).
	Kind string
	// AuthorizationIDs are the authorizations the reminder is about.
	AuthorizationIDs []string
	// Dormant are the authorization ids, among AuthorizationIDs, flagged
	// inside a review as unused for a long time.
	Dormant   []string
	CreatedAt time.Time
	// State is ReminderPending, ReminderSnoozed or ReminderDone.
	State string
	// SnoozedUntil, for a snoozed reminder, is when it is shown again.
	SnoozedUntil time.Time
	// StateChangedAt is when the user last snoozed it or marked it done.
	StateChangedAt time.Time
	// EmailedAt is when it was first sent by email; zero if never.
	EmailedAt time.Time
}

// Reminders stores reminders.
type Reminders interface {
	// CreateReminder stores a new reminder; ErrConflict if the ID is taken.
	CreateReminder(ctx context.Context, r Reminder) error
	// ListUserReminders returns every reminder of the user, in any state,
	// newest first (by CreatedAt, then by ID descending).
	ListUserReminders(ctx context.Context, userID string) ([]Reminder, error)
	// SetReminderState records the user's action at time at: state
	// ReminderPending, ReminderSnoozed (with a non-zero snoozedUntil) or
	// ReminderDone; snoozedUntil is kept only for ReminderSnoozed. It gives
	// ErrNotFound unless the reminder exists and belongs to userID. Done is
	// final: marking a done reminder done again changes nothing, and any
	// other state for it gives ErrConflict.
	SetReminderState(ctx context.Context, id, userID, state string, snoozedUntil, at time.Time) error
	// MarkReminderEmailed sets EmailedAt to at unless it is already set;
	// ErrNotFound for an unknown ID.
	MarkReminderEmailed(ctx context.Context, id string, at time.Time) error
}
