package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// testReminders checks store.Reminders and store.Users.ListUsers, which the
// reminders service walks.
func testReminders(t *testing.T, open Opener) {
	t.Run("ListUsers", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		got, err := s.ListUsers(ctx)
		wantErr(t, "ListUsers empty", err, nil)
		if len(got) != 0 {
			t.Errorf("ListUsers on an empty store = %v, want none", got)
		}
		users := []store.User{
			{ID: "u3", Username: "cy", Patients: []string{"1"}, CreatedAt: at(0)},
			{ID: "u1", Username: "amy", DisplayName: "Amy", FHIRUser: "Patient/1", CreatedAt: at(time.Hour)},
			{ID: "u2", Username: "dr.lee", AllPatients: true},
		}
		for _, u := range users {
			wantErr(t, "CreateUser "+u.ID, s.CreateUser(ctx, u), nil)
		}
		got, err = s.ListUsers(ctx)
		wantErr(t, "ListUsers", err, nil)
		want := []store.User{users[1], users[2], users[0]}
		if d := diff(want, got); d != "" {
			t.Errorf("ListUsers, want ordered by ID (-want +got):\n%s", d)
		}
		for _, u := range got {
			wantUTC(t, u.CreatedAt)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		every := store.Reminder{
			ID: "r-every", UserID: "u1", Kind: "review",
			AuthorizationIDs: []string{"a1", "a2", "a3"}, Dormant: []string{"a2"},
			CreatedAt: at(0), State: store.ReminderSnoozed, SnoozedUntil: at(48 * time.Hour),
			StateChangedAt: at(time.Hour), EmailedAt: at(time.Minute),
		}
		bare := store.Reminder{ID: "r-bare", UserID: "u1", Kind: "security",
			AuthorizationIDs: []string{"a9"}, CreatedAt: at(time.Hour), State: store.ReminderPending}
		older := store.Reminder{ID: "r-older", UserID: "u1", Kind: "offline-granted",
			AuthorizationIDs: []string{"a1"}, CreatedAt: at(-time.Hour), State: store.ReminderDone}
		// Same CreatedAt as bare: the ID breaks the tie, descending.
		tie := store.Reminder{ID: "r-tie", UserID: "u1", Kind: "dormant",
			AuthorizationIDs: []string{"a2"}, Dormant: []string{"a2"}, CreatedAt: at(time.Hour), State: store.ReminderPending}
		other := store.Reminder{ID: "r-other", UserID: "u2", Kind: "review", CreatedAt: at(0), State: store.ReminderPending}
		for _, r := range []store.Reminder{every, bare, older, tie, other} {
			wantErr(t, "CreateReminder "+r.ID, s.CreateReminder(ctx, r), nil)
		}
		wantErr(t, "CreateReminder duplicate", s.CreateReminder(ctx, bare), store.ErrConflict)

		got, err := s.ListUserReminders(ctx, "u1")
		wantErr(t, "ListUserReminders", err, nil)
		want := []store.Reminder{tie, bare, every, older}
		if d := diff(want, got); d != "" {
			t.Errorf("ListUserReminders, want newest first (-want +got):\n%s", d)
		}
		for _, r := range got {
			wantUTC(t, r.CreatedAt, r.SnoozedUntil, r.StateChangedAt, r.EmailedAt)
		}
		got, err = s.ListUserReminders(ctx, "nobody")
		wantErr(t, "ListUserReminders unknown user", err, nil)
		if len(got) != 0 {
			t.Errorf("ListUserReminders for an unknown user = %v, want none", got)
		}
	})

	t.Run("SetState", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		r := store.Reminder{ID: "r1", UserID: "u1", Kind: "review", AuthorizationIDs: []string{"a1"},
			CreatedAt: at(0), State: store.ReminderPending}
		wantErr(t, "CreateReminder", s.CreateReminder(ctx, r), nil)
		steps := []struct {
			name          string
			id, userID    string
			state         string
			until, at     time.Time
			wantErr       error
			wantState     string
			wantUntil     time.Time
			wantChangedAt time.Time
		}{
			{"another user's", "r1", "u2", store.ReminderDone, time.Time{}, at(time.Hour), store.ErrNotFound,
				store.ReminderPending, time.Time{}, time.Time{}},
			{"unknown", "nope", "u1", store.ReminderDone, time.Time{}, at(time.Hour), store.ErrNotFound,
				store.ReminderPending, time.Time{}, time.Time{}},
			{"snooze", "r1", "u1", store.ReminderSnoozed, at(72 * time.Hour), at(time.Hour), nil,
				store.ReminderSnoozed, at(72 * time.Hour), at(time.Hour)},
			{"back to pending drops the snooze end", "r1", "u1", store.ReminderPending, at(99 * time.Hour), at(2 * time.Hour), nil,
				store.ReminderPending, time.Time{}, at(2 * time.Hour)},
			{"done", "r1", "u1", store.ReminderDone, time.Time{}, at(3 * time.Hour), nil,
				store.ReminderDone, time.Time{}, at(3 * time.Hour)},
			{"done again changes nothing", "r1", "u1", store.ReminderDone, time.Time{}, at(4 * time.Hour), nil,
				store.ReminderDone, time.Time{}, at(3 * time.Hour)},
			{"snoozing a done one", "r1", "u1", store.ReminderSnoozed, at(96 * time.Hour), at(5 * time.Hour), store.ErrConflict,
				store.ReminderDone, time.Time{}, at(3 * time.Hour)},
			{"reopening a done one", "r1", "u1", store.ReminderPending, time.Time{}, at(5 * time.Hour), store.ErrConflict,
				store.ReminderDone, time.Time{}, at(3 * time.Hour)},
		}
		for _, st := range steps {
			err := s.SetReminderState(ctx, st.id, st.userID, st.state, st.until, st.at)
			wantErr(t, st.name, err, st.wantErr)
			got, err := s.ListUserReminders(ctx, "u1")
			wantErr(t, "ListUserReminders", err, nil)
			want := r
			want.State, want.SnoozedUntil, want.StateChangedAt = st.wantState, st.wantUntil, st.wantChangedAt
			if d := diff([]store.Reminder{want}, got); d != "" {
				t.Errorf("after %s (-want +got):\n%s", st.name, d)
			}
		}
		for _, bad := range []struct {
			name, state string
			until, at   time.Time
		}{
			{"unknown state", "archived", time.Time{}, at(time.Hour)},
			{"snooze without end", store.ReminderSnoozed, time.Time{}, at(time.Hour)},
			{"zero time", store.ReminderPending, time.Time{}, time.Time{}},
		} {
			r2 := store.Reminder{ID: "r-" + bad.name, UserID: "u1", Kind: "review", CreatedAt: at(0), State: store.ReminderPending}
			wantErr(t, "CreateReminder", s.CreateReminder(ctx, r2), nil)
			if err := s.SetReminderState(ctx, r2.ID, "u1", bad.state, bad.until, bad.at); err == nil {
				t.Errorf("SetReminderState with %s: got nil error, want one", bad.name)
			}
		}
	})

	t.Run("DoneRace", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		r := store.Reminder{ID: "r1", UserID: "u1", Kind: "review", CreatedAt: at(0), State: store.ReminderPending}
		wantErr(t, "CreateReminder", s.CreateReminder(ctx, r), nil)
		// Half the racers mark it done, half snooze it: once done, it stays done.
		errs := race(racers, func(i int) error {
			if i%2 == 0 {
				return s.SetReminderState(ctx, "r1", "u1", store.ReminderDone, time.Time{}, at(time.Duration(i)*time.Second))
			}
			return s.SetReminderState(ctx, "r1", "u1", store.ReminderSnoozed, at(time.Hour), at(time.Duration(i)*time.Second))
		})
		for i, err := range errs {
			if i%2 == 0 && err != nil {
				t.Errorf("racer %d (done): %v", i, err)
			}
			if i%2 == 1 && err != nil && !errors.Is(err, store.ErrConflict) {
				t.Errorf("racer %d (snooze): %v, want nil or ErrConflict", i, err)
			}
		}
		got, err := s.ListUserReminders(ctx, "u1")
		wantErr(t, "ListUserReminders", err, nil)
		if len(got) != 1 || got[0].State != store.ReminderDone {
			t.Errorf("after the race: %+v, want one done reminder", got)
		}
	})

	t.Run("Emailed", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		for i := range 2 {
			r := store.Reminder{ID: fmt.Sprint("r", i), UserID: "u1", Kind: "review", CreatedAt: at(0), State: store.ReminderPending}
			wantErr(t, "CreateReminder", s.CreateReminder(ctx, r), nil)
		}
		wantErr(t, "MarkReminderEmailed", s.MarkReminderEmailed(ctx, "r0", at(time.Minute)), nil)
		wantErr(t, "MarkReminderEmailed again", s.MarkReminderEmailed(ctx, "r0", at(time.Hour)), nil)
		wantErr(t, "MarkReminderEmailed unknown", s.MarkReminderEmailed(ctx, "nope", at(time.Hour)), store.ErrNotFound)
		if err := s.MarkReminderEmailed(ctx, "r1", time.Time{}); err == nil {
			t.Error("MarkReminderEmailed with the zero time: got nil error, want one")
		}
		got, err := s.ListUserReminders(ctx, "u1")
		wantErr(t, "ListUserReminders", err, nil)
		emailed := map[string]time.Time{}
		for _, r := range got {
			emailed[r.ID] = r.EmailedAt
		}
		if want := at(time.Minute); !emailed["r0"].Equal(want) {
			t.Errorf("r0 EmailedAt = %v, want the first mark %v", emailed["r0"], want)
		}
		if !emailed["r1"].IsZero() {
			t.Errorf("r1 EmailedAt = %v, want zero", emailed["r1"])
		}
	})
}
