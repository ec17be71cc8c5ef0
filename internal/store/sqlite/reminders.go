package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const reminderColumns = `id, user_id, kind, authorization_ids, dormant, created_at,
	state, snoozed_until, state_changed_at, emailed_at`

// errBadReminderState reports a state SetReminderState does not know, or a
// snooze without an end.
var errBadReminderState = errors.New("bad reminder state")

// CreateReminder implements store.Reminders.
func (db *DB) CreateReminder(ctx context.Context, r store.Reminder) error {
	ids, err := encodeStrings(r.AuthorizationIDs)
	if err != nil {
		return wrap("create reminder", err)
	}
	dormant, err := encodeStrings(r.Dormant)
	if err != nil {
		return wrap("create reminder", err)
	}
	_, err = db.sql.ExecContext(ctx,
		`INSERT INTO reminders (`+reminderColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.UserID, r.Kind, ids, dormant, micros(r.CreatedAt),
		r.State, micros(r.SnoozedUntil), micros(r.StateChangedAt), micros(r.EmailedAt))
	return wrap("create reminder", err)
}

// ListUserReminders implements store.Reminders.
func (db *DB) ListUserReminders(ctx context.Context, userID string) ([]store.Reminder, error) {
	rows, err := db.sql.QueryContext(ctx,
		`SELECT `+reminderColumns+` FROM reminders WHERE user_id = ?
		ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, wrap("list user reminders", err)
	}
	defer rows.Close()
	var out []store.Reminder
	for rows.Next() {
		r, err := scanReminder(rows)
		if err != nil {
			return nil, wrap("list user reminders", err)
		}
		out = append(out, r)
	}
	return out, wrap("list user reminders", rows.Err())
}

// SetReminderState implements store.Reminders. The UPDATE skips done
// reminders, so done stays final even against concurrent calls.
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
	return db.inTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE reminders SET state = ?, snoozed_until = ?, state_changed_at = ?
			WHERE id = ? AND user_id = ? AND state <> ?`,
			state, micros(snoozedUntil), micros(at), id, userID, store.ReminderDone)
		if err = mustAffect(res, err); !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// Nothing changed: not the user's (or unknown), or already done.
		var cur string
		if err := tx.QueryRowContext(ctx,
			`SELECT state FROM reminders WHERE id = ? AND user_id = ?`, id, userID).Scan(&cur); err != nil {
			return err // sql.ErrNoRows: store.ErrNotFound
		}
		if state == store.ReminderDone {
			return nil
		}
		return fmt.Errorf("reminder is done: %w", store.ErrConflict)
	})
}

// MarkReminderEmailed implements store.Reminders.
func (db *DB) MarkReminderEmailed(ctx context.Context, id string, at time.Time) error {
	const op = "mark reminder emailed"
	if at.IsZero() {
		return wrap(op, errZeroTime)
	}
	res, err := db.sql.ExecContext(ctx,
		`UPDATE reminders SET emailed_at = coalesce(emailed_at, ?) WHERE id = ?`, micros(at), id)
	return wrap(op, mustAffect(res, err))
}

func scanReminder(r rowScanner) (store.Reminder, error) {
	var (
		rem                                store.Reminder
		ids, dormant                       string
		created, snoozed, changed, emailed nullMicros
	)
	if err := r.Scan(&rem.ID, &rem.UserID, &rem.Kind, &ids, &dormant, &created,
		&rem.State, &snoozed, &changed, &emailed); err != nil {
		return store.Reminder{}, err
	}
	rem.CreatedAt, rem.SnoozedUntil = created.time(), snoozed.time()
	rem.StateChangedAt, rem.EmailedAt = changed.time(), emailed.time()
	var err error
	if rem.AuthorizationIDs, err = decodeStrings(ids); err != nil {
		return store.Reminder{}, err
	}
	if rem.Dormant, err = decodeStrings(dormant); err != nil {
		return store.Reminder{}, err
	}
	return rem, nil
}
