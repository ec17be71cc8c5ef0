package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const reminderColumns = `id, user_id, kind, authorization_ids, dormant, created_at,
	state, snoozed_until, state_changed_at, emailed_at`

// errBadReminderState reports a state SetReminderState does not know, or a
// snooze without an end.
var errBadReminderState = errors.New("bad reminder state")

// CreateReminder implements store.Reminders.
func (db *DB) CreateReminder(ctx context.Context, r store.Reminder) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO reminders (`+reminderColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		r.ID, r.UserID, r.Kind, strs(r.AuthorizationIDs), strs(r.Dormant), micros(r.CreatedAt),
		r.State, micros(r.SnoozedUntil), micros(r.StateChangedAt), micros(r.EmailedAt))
	return wrap("create reminder", err)
}

// ListUserReminders implements store.Reminders (those without a creation
// time last, as in the SQLite backend).
func (db *DB) ListUserReminders(ctx context.Context, userID string) ([]store.Reminder, error) {
	out, err := queryAll(ctx, db.pool, scanReminder,
		`SELECT `+reminderColumns+` FROM reminders WHERE user_id = $1
		ORDER BY created_at DESC NULLS LAST, id DESC`, userID)
	return out, wrap("list user reminders", err)
}

// SetReminderState implements store.Reminders. The UPDATE skips done
// reminders and concurrent callers re-check that once the first commits,
// so done stays final.
func (db *DB) SetReminderState(ctx context.Context, id, userID, state string, snoozedUntil, at time.Time) error {
	const op = "set reminder state"
	switch {
	case at.IsZero():
		return wrap(op, errZeroTime)
	case state == store.ReminderSnoozed && snoozedUntil.IsZero():
		return wrap(op, fmt.Errorf("%w: snoozed without an end", errBadReminderState))
	case state != store.ReminderPending && state != store.ReminderSnoozed && state != store.ReminderDone:
		return wrap(op, fmt.Errorf("%w: %q", errBadReminderState, state))
	}
	if state != store.ReminderSnoozed {
		snoozedUntil = time.Time{}
	}
	tag, err := db.pool.Exec(ctx,
		`UPDATE reminders SET state = $1, snoozed_until = $2, state_changed_at = $3
		WHERE id = $4 AND user_id = $5 AND state <> $6`,
		state, micros(snoozedUntil), micros(at), id, userID, store.ReminderDone)
	if err = mustAffect(tag, err); !errors.Is(err, store.ErrNotFound) {
		return wrap(op, err)
	}
	// Nothing changed: not the user's (or unknown), or already done. Done
	// is final, so this read cannot race into a wrong answer.
	var cur string
	if err := db.pool.QueryRow(ctx,
		`SELECT state FROM reminders WHERE id = $1 AND user_id = $2`, id, userID).Scan(&cur); err != nil {
		return wrap(op, err) // pgx.ErrNoRows: store.ErrNotFound
	}
	if state == store.ReminderDone {
		return nil
	}
	return wrap(op, fmt.Errorf("reminder is done: %w", store.ErrConflict))
}

// MarkReminderEmailed implements store.Reminders.
func (db *DB) MarkReminderEmailed(ctx context.Context, id string, at time.Time) error {
	const op = "mark reminder emailed"
	if at.IsZero() {
		return wrap(op, errZeroTime)
	}
	tag, err := db.pool.Exec(ctx,
		`UPDATE reminders SET emailed_at = COALESCE(emailed_at, $1) WHERE id = $2`, micros(at), id)
	return wrap(op, mustAffect(tag, err))
}

func scanReminder(r pgx.Row) (store.Reminder, error) {
	var (
		rem                                store.Reminder
		created, snoozed, changed, emailed *int64
	)
	if err := r.Scan(&rem.ID, &rem.UserID, &rem.Kind, &rem.AuthorizationIDs, &rem.Dormant, &created,
		&rem.State, &snoozed, &changed, &emailed); err != nil {
		return store.Reminder{}, err
	}
	rem.CreatedAt, rem.SnoozedUntil = timeOf(created), timeOf(snoozed)
	rem.StateChangedAt, rem.EmailedAt = timeOf(changed), timeOf(emailed)
	rem.AuthorizationIDs, rem.Dormant = orNil(rem.AuthorizationIDs), orNil(rem.Dormant)
	return rem, nil
}
