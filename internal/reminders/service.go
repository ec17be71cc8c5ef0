package reminders

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// Store is what the Service needs of the store.
type Store interface {
	store.Users
	store.Authorizations
	store.Clients
	store.Reminders
}

// retryWindow is how old a reminder that was never emailed may be and
// still go out in a digest: a send that failed is retried on later runs,
// but nobody gets week-old news.
const retryWindow = 7 * 24 * time.Hour

// Service applies the Policy to every user, stores the reminders due, and
// emails them. It is safe for concurrent use, also by several instances
// sharing a store: reminder IDs are derived from the policy's keys, so a
// reminder two runs find due is stored once.
type Service struct {
	st        Store
	policy    Policy
	mail      *Mailer
	manageURL string
	now       func() time.Time
	log       *slog.Logger
}

// NewService returns a Service. mail may be nil (no email); manageURL is
// the page where users manage their apps (the SMART management_endpoint),
// linked from every email.
func NewService(st Store, p Policy, mail *Mailer, manageURL string, now func() time.Time, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, policy: p, mail: mail, manageURL: manageURL, now: now, log: logger}
}

// RunOnce evaluates every user, stores the reminders due, and, when the
// Service has a Mailer and the user an address, emails each user one digest
// of their reminders not yet emailed. It returns how many reminders it
// created. A failed email is logged and retried on the next run; it does
// not stop the run, and RunOnce reports the failures joined.
func (s *Service) RunOnce(ctx context.Context) (int, error) {
	users, err := s.st.ListUsers(ctx)
	if err != nil {
		return 0, fmt.Errorf("reminders: %w", err)
	}
	names := map[string]string{} // client ID → name, for this run
	created := 0
	var mailErrs []error
	for _, u := range users {
		n, err := s.runUser(ctx, u.ID, names)
		created += n
		switch {
		case errors.Is(err, errMail):
			mailErrs = append(mailErrs, err)
		case err != nil:
			return created, err
		}
	}
	return created, errors.Join(mailErrs...)
}

// errMail marks errors of the email step, which do not stop a run.
var errMail = errors.New("email not sent")

// runUser creates the user's due reminders and emails them.
func (s *Service) runUser(ctx context.Context, userID string, names map[string]string) (int, error) {
	now := s.now()
	auths, err := s.st.ListUserAuthorizations(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("reminders: user %s: %w", userID, err)
	}
	apps := make([]App, 0, len(auths))
	byID := make(map[string]App, len(auths))
	for _, a := range auths {
		name, err := s.clientName(ctx, a.ClientID, names)
		if err != nil {
			return 0, fmt.Errorf("reminders: user %s: %w", userID, err)
		}
		app := AppFrom(a, name)
		apps = append(apps, app)
		byID[a.ID] = app
	}
	history, err := s.st.ListUserReminders(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("reminders: user %s: %w", userID, err)
	}
	created := 0
	for _, r := range s.policy.Due(now, apps, history) {
		r.UserID, r.ID = userID, reminderID(userID, r.ID)
		switch err := s.st.CreateReminder(ctx, r); {
		case errors.Is(err, store.ErrConflict):
			continue // another run stored it first
		case err != nil:
			return created, fmt.Errorf("reminders: user %s: %w", userID, err)
		}
		created++
		history = append(history, r)
		s.log.InfoContext(ctx, "reminder created", "user", userID, "kind", r.Kind, "reminder", r.ID)
	}
	if s.mail == nil {
		return created, nil
	}
	var unsent []store.Reminder
	for _, r := range history {
		if r.EmailedAt.IsZero() && r.State != store.ReminderDone && now.Sub(r.CreatedAt) <= retryWindow {
			unsent = append(unsent, r)
		}
	}
	if len(unsent) == 0 {
		return created, nil
	}
	sent, err := s.mail.send(ctx, now, userID, digest{reminders: unsent, apps: byID, manageURL: s.manageURL})
	if err != nil {
		s.log.WarnContext(ctx, "reminder email not sent", "user", userID, "err", err)
		return created, fmt.Errorf("%w: %w", errMail, err)
	}
	if !sent {
		return created, nil
	}
	for _, r := range unsent {
		if err := s.st.MarkReminderEmailed(ctx, r.ID, now); err != nil {
			return created, fmt.Errorf("reminders: user %s: %w", userID, err)
		}
	}
	return created, nil
}

// clientName returns the client's name, or its ID for a client deleted since.
func (s *Service) clientName(ctx context.Context, clientID string, names map[string]string) (string, error) {
	if name, ok := names[clientID]; ok {
		return name, nil
	}
	c, err := s.st.GetClient(ctx, clientID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		c.Name = clientID
	case err != nil:
		return "", err
	}
	names[clientID] = c.Name
	return c.Name, nil
}

// reminderID turns a policy key, unique within the user's reminders, into
// an opaque ID unique in the store.
func reminderID(userID, key string) string {
	sum := sha256.Sum256([]byte(userID + "\x00" + key))
	return hex.EncodeToString(sum[:16])
}

// Pending returns the user's reminders to show now: pending ones and
// snoozed ones whose snooze has ended, newest first.
func (s *Service) Pending(ctx context.Context, userID string) ([]store.Reminder, error) {
	rs, err := s.st.ListUserReminders(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("reminders: %w", err)
	}
	return Visible(s.now(), rs), nil
}

// Done marks the user's reminder done: it is never shown again. It gives
// store.ErrNotFound unless the reminder is the user's.
func (s *Service) Done(ctx context.Context, userID, id string) error {
	if err := s.st.SetReminderState(ctx, id, userID, store.ReminderDone, time.Time{}, s.now()); err != nil {
		return fmt.Errorf("reminders: done: %w", err)
	}
	return nil
}

// Snooze hides the user's reminder for d; then it is shown again. It gives
// store.ErrNotFound unless the reminder is the user's, and
// store.ErrConflict if it is done.
func (s *Service) Snooze(ctx context.Context, userID, id string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("reminders: snooze for %v: want a positive duration", d)
	}
	now := s.now()
	if err := s.st.SetReminderState(ctx, id, userID, store.ReminderSnoozed, now.Add(d), now); err != nil {
		return fmt.Errorf("reminders: snooze: %w", err)
	}
	return nil
}
