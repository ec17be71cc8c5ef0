package reminders

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
)

// The two-year simulation of issue 8 ("what must be shown"): one user,
// five apps with offline access, two of which go dormant, one ended for
// refresh-token reuse; the clock steps one day at a time.

// simApp is one app of the simulated user: granted on day grant (08:00),
// used every seventh day from then (08:30) up to day lastUse (-1: always),
// ended on day end (08:45) for reason (end 0: never).
type simApp struct {
	id, client, name string
	grant, lastUse   int
	end              int
	reason           store.EndReason
}

var simApps = []simApp{
	{id: "a1", client: "growth", name: "Growth Chart", grant: 0, lastUse: -1},
	{id: "a2", client: "meds", name: "Med Tracker", grant: 0, lastUse: 14}, // dormant from day 104
	{id: "a3", client: "sleep", name: "Sleep Diary", grant: 10, lastUse: -1, end: 300, reason: store.EndRefreshTokenReuse},
	{id: "a4", client: "steps", name: "Step Counter", grant: 40, lastUse: 250}, // dormant from day 340
	{id: "a5", client: "diet", name: "Diet Log", grant: 100, lastUse: -1},
}

// simDays is two years: days 0 to 730.
const simDays = 731

// simAt returns the instant of day d at hour:minute, UTC.
func simAt(d, hour, minute int) time.Time {
	return time.Date(2024, 1, 1, hour, minute, 0, 0, time.UTC).AddDate(0, 0, d)
}

// simRun is when the reminders run each day.
func simRun(d int) time.Time { return simAt(d, 9, 0) }

// used reports whether app a is used on day d.
func (a simApp) used(d int) bool {
	return d >= a.grant && (d-a.grant)%7 == 0 && (a.lastUse < 0 || d <= a.lastUse) && (a.end == 0 || d < a.end)
}

// simWant is every reminder the simulation must create, in order, as
// "day kind ids [dormant=ids]".
var simWant = []string{
	"0 offline-granted a1",
	"0 offline-granted a2",
	"10 offline-granted a3",
	"40 offline-granted a4",
	"100 offline-granted a5",
	// a2 unused since day 14; the first review (day 182) is 78 days away:
	// nudged alone, and that starts the period.
	"104 dormant a2 dormant=a2",
	// 182 days after the nudge: every live offline app, a2 not flagged again.
	"286 review a1,a2,a3,a4,a5",
	// Inside the period: security events do not wait.
	"300 security a3",
	// a4 went dormant on day 340, inside the period: flagged here.
	"468 review a1,a2,a4,a5 dormant=a4",
	"650 review a1,a2,a4,a5",
}

// simActions are what the user does, by day, with the reminder that the
// matching simWant line created.
type simAction struct {
	day    int
	want   string // the simWant line
	snooze time.Duration
}

var simActions = []simAction{
	{day: 105, want: "104 dormant a2 dormant=a2", snooze: 30 * 24 * time.Hour}, // back on day 135
	{day: 140, want: "104 dormant a2 dormant=a2"},                              // done
	{day: 290, want: "286 review a1,a2,a3,a4,a5"},
	{day: 301, want: "300 security a3"},
}

// simLine writes r as a simWant line.
func simLine(r store.Reminder) string {
	d := int(r.CreatedAt.Sub(simRun(0)) / (24 * time.Hour))
	return fmt.Sprint(d, " ", summary(r))
}

// checkCadence fails t if two reviews or standalone dormant nudges are
// less than ReviewEvery apart, or a security reminder came later than the
// day its authorization ended.
func checkCadence(t *testing.T, rs []store.Reminder) {
	t.Helper()
	var cadence []time.Time
	for _, r := range rs {
		switch Kind(r.Kind) {
		case KindReview, KindDormant:
			cadence = append(cadence, r.CreatedAt)
		case KindSecurity:
			for _, a := range simApps {
				if a.id == r.AuthorizationIDs[0] && !r.CreatedAt.Equal(simRun(a.end)) {
					t.Errorf("security reminder for %s on %v, want the day it ended", a.id, r.CreatedAt)
				}
			}
		}
	}
	slices.SortFunc(cadence, time.Time.Compare)
	for i := 1; i < len(cadence); i++ {
		if gap := cadence[i].Sub(cadence[i-1]); gap < DefaultReviewEvery {
			t.Errorf("non-security reminders on %v and %v: %v apart, want at least %v",
				cadence[i-1], cadence[i], gap, DefaultReviewEvery)
		}
	}
}

// simVisibility checks, after the user acted, what Visible shows on day d:
// done reminders never, a snoozed one only from its end.
func simVisibility(t *testing.T, d int, visible []store.Reminder, all []store.Reminder) {
	t.Helper()
	shown := map[string]bool{}
	for _, r := range visible {
		shown[simLine(r)] = true
	}
	for _, r := range all {
		line := simLine(r)
		wantShown := true
		for _, a := range simActions {
			if a.want != line || d < a.day {
				continue
			}
			wantShown = a.snooze > 0 && !simRun(d).Before(simRun(a.day).Add(a.snooze))
		}
		if shown[line] != wantShown {
			t.Errorf("day %d: reminder %q shown = %v, want %v", d, line, shown[line], wantShown)
		}
	}
}

func TestSimulationPolicy(t *testing.T) {
	t.Parallel()
	var (
		p       Policy
		apps    []App
		history []store.Reminder
		keys    = map[string]bool{}
	)
	for d := range simDays {
		for _, a := range simApps {
			if a.grant == d {
				apps = append(apps, App{AuthorizationID: a.id, ClientID: a.client, ClientName: a.name,
					Offline: true, CreatedAt: simAt(d, 8, 0)})
			}
			i := slices.IndexFunc(apps, func(x App) bool { return x.AuthorizationID == a.id })
			if a.used(d) {
				apps[i].LastUsedAt = simAt(d, 8, 30)
			}
			if a.end == d && a.end != 0 {
				apps[i].EndedAt, apps[i].EndReason = simAt(d, 8, 45), a.reason
			}
		}
		now := simRun(d)
		for _, r := range p.Due(now, apps, history) {
			if keys[r.ID] {
				t.Fatalf("day %d: key %q made twice", d, r.ID)
			}
			keys[r.ID] = true
			history = append(history, r)
		}
		for _, a := range simActions {
			if a.day != d {
				continue
			}
			i := slices.IndexFunc(history, func(r store.Reminder) bool { return simLine(r) == a.want })
			if i < 0 {
				t.Fatalf("day %d: no reminder %q to act on", d, a.want)
			}
			history[i].State, history[i].StateChangedAt = store.ReminderDone, now
			if a.snooze > 0 {
				history[i].State, history[i].SnoozedUntil = store.ReminderSnoozed, now.Add(a.snooze)
			}
		}
		simVisibility(t, d, Visible(now, history), history)
	}
	var got []string
	for _, r := range history {
		got = append(got, simLine(r))
	}
	if d := gocmp.Diff(simWant, got); d != "" {
		t.Errorf("two years of reminders (-want +got):\n%s", d)
	}
	checkCadence(t, history)
}

// simStore opens a SQLite store in t.TempDir().
func simStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "reminders.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestSimulationService runs the same two years through the Service on a
// real SQLite store: grants, uses and the refresh-token reuse are store
// operations, RunOnce runs daily, and the user acts through Done and Snooze.
func TestSimulationService(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := simStore(t)
	var now time.Time
	svc := NewService(db, Policy{}, nil, "https://ehr.example/account", func() time.Time { return now }, nil)
	for _, u := range []store.User{{ID: "u1", Username: "amy"}, {ID: "u2", Username: "bob"}} {
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range simApps {
		if err := db.CreateClient(ctx, store.Client{ID: a.client, Name: a.name, Type: store.ClientPublic}); err != nil {
			t.Fatal(err)
		}
	}
	// bob has one online app, ever: he gets no reminder.
	if err := db.CreateAuthorization(ctx, store.Authorization{ID: "b1", UserID: "u2", ClientID: "growth",
		CreatedAt: simAt(0, 7, 0)}); err != nil {
		t.Fatal(err)
	}
	total := 0
	for d := range simDays {
		if err := simDay(ctx, db, d); err != nil {
			t.Fatalf("day %d: %v", d, err)
		}
		now = simRun(d)
		n, err := svc.RunOnce(ctx)
		if err != nil {
			t.Fatalf("day %d: RunOnce: %v", d, err)
		}
		total += n
		if err := simAct(ctx, svc, db, d); err != nil {
			t.Fatalf("day %d: %v", d, err)
		}
		if d%7 == 0 || slices.ContainsFunc(simActions, func(a simAction) bool { return d-a.day < 2 && d >= a.day-1 }) {
			visible, err := svc.Pending(ctx, "u1")
			if err != nil {
				t.Fatal(err)
			}
			all, err := db.ListUserReminders(ctx, "u1")
			if err != nil {
				t.Fatal(err)
			}
			simVisibility(t, d, visible, all)
		}
	}
	all, err := db.ListUserReminders(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	// Oldest first, like simWant; the IDs order reminders made at one time.
	slices.SortFunc(all, func(a, b store.Reminder) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(summary(a), summary(b)))
	})
	var got []string
	for _, r := range all {
		got = append(got, simLine(r))
	}
	if d := gocmp.Diff(simWant, got); d != "" {
		t.Errorf("two years of stored reminders (-want +got):\n%s", d)
	}
	if total != len(simWant) {
		t.Errorf("RunOnce reported %d reminders created, want %d", total, len(simWant))
	}
	checkCadence(t, all)
	bob, err := db.ListUserReminders(ctx, "u2")
	if err != nil || len(bob) != 0 {
		t.Errorf("bob's reminders = %v, %v; want none", bob, err)
	}
	// Acting on another user's reminder, or reopening a done one, fails.
	if err := svc.Done(ctx, "u2", all[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Done on another user's reminder: %v, want ErrNotFound", err)
	}
	done := all[slices.IndexFunc(all, func(r store.Reminder) bool { return r.State == store.ReminderDone })]
	if err := svc.Snooze(ctx, "u1", done.ID, time.Hour); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Snooze on a done reminder: %v, want ErrConflict", err)
	}
}

// simDay applies day d's grants, uses and ends to the store.
func simDay(ctx context.Context, db *sqlite.DB, d int) error {
	for _, a := range simApps {
		if a.grant == d {
			if err := db.CreateAuthorization(ctx, store.Authorization{ID: a.id, UserID: "u1", ClientID: a.client,
				PatientID: "p1", Scope: "patient/*.rs offline_access", Offline: true, CreatedAt: simAt(d, 8, 0)}); err != nil {
				return err
			}
		}
		if a.used(d) {
			if err := db.TouchAuthorization(ctx, a.id, simAt(d, 8, 30)); err != nil {
				return err
			}
		}
		if a.end == d && a.end != 0 {
			if _, err := db.EndAuthorization(ctx, a.id, simAt(d, 8, 45), a.reason); err != nil {
				return err
			}
		}
	}
	return nil
}

// simAct does the user's day-d actions through the Service.
func simAct(ctx context.Context, svc *Service, db *sqlite.DB, d int) error {
	for _, a := range simActions {
		if a.day != d {
			continue
		}
		all, err := db.ListUserReminders(ctx, "u1")
		if err != nil {
			return err
		}
		i := slices.IndexFunc(all, func(r store.Reminder) bool { return simLine(r) == a.want })
		if i < 0 {
			return fmt.Errorf("no reminder %q to act on", a.want)
		}
		if a.snooze > 0 {
			err = svc.Snooze(ctx, "u1", all[i].ID, a.snooze)
		} else {
			err = svc.Done(ctx, "u1", all[i].ID)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// TestSimulationSnoozeReturnsSameReminder checks rule 5 on the store: a
// snoozed reminder comes back as itself, not as a new one.
func TestSimulationSnoozeReturnsSameReminder(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := simStore(t)
	now := simRun(0)
	svc := NewService(db, Policy{}, nil, "", func() time.Time { return now }, nil)
	if err := db.CreateUser(ctx, store.User{ID: "u1", Username: "amy"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAuthorization(ctx, store.Authorization{ID: "a1", UserID: "u1", ClientID: "gone",
		Offline: true, CreatedAt: simAt(0, 8, 0)}); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("RunOnce = %d, %v; want 1 reminder", n, err)
	}
	before, _ := svc.Pending(ctx, "u1")
	if len(before) != 1 {
		t.Fatalf("Pending = %v, want one reminder", before)
	}
	if err := svc.Snooze(ctx, "u1", before[0].ID, 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		at   time.Time
		want int
	}{{simRun(1), 0}, {simRun(2).Add(-time.Second), 0}, {simRun(2), 1}} {
		now = step.at
		if _, err := svc.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ := svc.Pending(ctx, "u1")
		if len(got) != step.want {
			t.Fatalf("at %v: Pending = %v, want %d reminder(s)", step.at, got, step.want)
		}
		if step.want == 1 && (got[0].ID != before[0].ID || !strings.EqualFold(got[0].Kind, string(KindOfflineGranted))) {
			t.Errorf("after the snooze: %+v, want the same reminder %s", got[0], before[0].ID)
		}
	}
	if err := svc.Snooze(ctx, "u1", before[0].ID, 0); err == nil {
		t.Error("Snooze for 0: got nil error, want one")
	}
}
