package reminders

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// start is day 0 of the policy tests, a Monday at 09:00 UTC.
var start = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

// day returns start plus n days.
func day(n int) time.Time { return start.AddDate(0, 0, n) }

// summary writes a reminder as "kind ids [dormant=ids]", the shape the
// policy tests compare.
func summary(r store.Reminder) string {
	s := r.Kind + " " + strings.Join(r.AuthorizationIDs, ",")
	if len(r.Dormant) > 0 {
		s += " dormant=" + strings.Join(r.Dormant, ",")
	}
	return s
}

func summaries(rs []store.Reminder) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, summary(r))
	}
	return out
}

// past returns a reminder of the history: kind made on day d about ids.
func past(kind Kind, d int, ids []string, dormant ...string) store.Reminder {
	return store.Reminder{ID: fmt.Sprint(kind, d), Kind: string(kind), AuthorizationIDs: ids,
		Dormant: dormant, CreatedAt: day(d), State: store.ReminderPending}
}

// offline returns a live offline app of client "c-"+id granted on day
// grant and last used on day used (-1: never).
func offline(id string, grant, used int) App {
	a := App{AuthorizationID: id, ClientID: "c-" + id, ClientName: "App " + id, Offline: true, CreatedAt: day(grant)}
	if used >= 0 {
		a.LastUsedAt = day(used)
	}
	return a
}

func ended(a App, d int, reason store.EndReason) App {
	a.EndedAt, a.EndReason = day(d), reason
	return a
}

func TestPolicyDue(t *testing.T) {
	a1 := offline("a1", 0, -1)
	ids := func(s ...string) []string { return s }
	sameClient := offline("a2", 5, -1)
	sameClient.ClientID = "c-a1"
	online := offline("a3", 0, -1)
	online.Offline = false
	expired := offline("a4", 0, 100)
	expired.ExpiresAt = day(150)
	tests := []struct {
		name    string
		now     int
		apps    []App
		history []store.Reminder
		want    []string
	}{
		// Rule 1: confirmations.
		{"confirmation on the first offline grant", 0, []App{a1}, nil,
			[]string{"offline-granted a1"}},
		{"no confirmation for an online app", 0, []App{online}, nil, nil},
		{"confirmation never repeated, even done", 3, []App{a1},
			[]store.Reminder{func() store.Reminder {
				r := past(KindOfflineGranted, 0, ids("a1"))
				r.State = store.ReminderDone
				return r
			}()}, nil},
		{"no confirmation for a new grant of an app already confirmed", 5,
			[]App{ended(a1, 4, store.EndUserRevoked), sameClient},
			[]store.Reminder{past(KindOfflineGranted, 0, ids("a1"))}, nil},
		{"two new grants of one app confirm once", 5, []App{offline("a1", 5, -1), sameClient}, nil,
			[]string{"offline-granted a1"}},
		{"no confirmation for a grant older than ConfirmWithin", 15, []App{a1}, nil, nil},
		{"a grant ConfirmWithin old is still confirmed", 14, []App{a1}, nil,
			[]string{"offline-granted a1"}},
		{"no confirmation for an ended grant", 1, []App{ended(a1, 1, store.EndUserRevoked)}, nil, nil},

		// Rule 2: reviews.
		{"no review before ReviewEvery after the first grant", 181, []App{offline("a1", 0, 180)},
			[]store.Reminder{past(KindOfflineGranted, 0, ids("a1"))}, nil},
		{"first review ReviewEvery after the first grant", 182, []App{offline("a1", 0, 180), offline("a5", 150, 181)},
			[]store.Reminder{past(KindOfflineGranted, 0, ids("a1")), past(KindOfflineGranted, 150, ids("a5"))},
			[]string{"review a1,a5"}},
		{"review lists only live offline apps", 182,
			[]App{offline("a1", 0, 180), ended(offline("a2", 1, 2), 3, store.EndUserRevoked), online, expired}, nil,
			[]string{"review a1"}},
		{"no second review within ReviewEvery of the last", 363, []App{offline("a1", 0, 360)},
			[]store.Reminder{past(KindReview, 182, ids("a1"))}, nil},
		{"next review ReviewEvery after the last", 364, []App{offline("a1", 0, 360)},
			[]store.Reminder{past(KindReview, 182, ids("a1"))}, []string{"review a1"}},
		{"review waits ReviewEvery after the oldest live grant", 581,
			[]App{ended(offline("a1", 0, 10), 200, store.EndUserRevoked), offline("a2", 400, 580)},
			[]store.Reminder{past(KindReview, 182, ids("a1"))}, nil},
		{"review of a later grant", 582,
			[]App{ended(offline("a1", 0, 10), 200, store.EndUserRevoked), offline("a2", 400, 580)},
			[]store.Reminder{past(KindReview, 182, ids("a1"))}, []string{"review a2"}},
		{"no review without a live offline app", 400,
			[]App{ended(offline("a1", 0, 10), 200, store.EndUserRevoked), online}, nil, nil},

		// Rule 3: dormant apps.
		{"not dormant one day early", 89, []App{a1},
			[]store.Reminder{past(KindOfflineGranted, 0, ids("a1"))}, nil},
		{"dormant nudged alone when no review is near", 90, []App{a1},
			[]store.Reminder{past(KindOfflineGranted, 0, ids("a1"))}, []string{"dormant a1 dormant=a1"}},
		{"dormant counts from the last use", 150, []App{offline("a1", 0, 60)}, nil,
			[]string{"dormant a1 dormant=a1"}},
		{"apps dormant together are nudged together", 100, []App{offline("a1", 0, 5), offline("a2", 2, 10), offline("a3", 3, 99)},
			nil, []string{"dormant a1,a2 dormant=a1,a2"}},
		{"dormant within FoldWindow of the review waits for it", 160,
			[]App{offline("a1", 0, 159), offline("a2", 70, -1)}, nil, nil},
		{"dormant just outside FoldWindow is sent alone", 151,
			[]App{offline("a1", 0, 150), offline("a2", 61, -1)}, nil, []string{"dormant a2 dormant=a2"}},
		{"dormant flagged inside the review", 182,
			[]App{offline("a1", 0, 181), offline("a2", 70, -1)}, nil, []string{"review a1,a2 dormant=a2"}},
		{"dormant waits for the next review once the period's reminder is sent", 280,
			[]App{offline("a1", 0, 279), offline("a2", 0, 190)},
			[]store.Reminder{past(KindReview, 182, ids("a1", "a2"))}, nil},
		{"dormant waiting since the last review is flagged in the next", 364,
			[]App{offline("a1", 0, 363), offline("a2", 0, 190)},
			[]store.Reminder{past(KindReview, 182, ids("a1", "a2"))}, []string{"review a1,a2 dormant=a2"}},
		{"a standalone dormant nudge counts as the period's reminder", 271, []App{a1},
			[]store.Reminder{past(KindDormant, 90, ids("a1"), "a1")}, nil},
		{"the review after a dormant nudge does not flag it again", 272, []App{a1},
			[]store.Reminder{past(KindDormant, 90, ids("a1"), "a1")}, []string{"review a1"}},
		{"an app flagged in a review is not nudged again", 500, []App{offline("a1", 0, 499), offline("a2", 0, 10)},
			[]store.Reminder{past(KindReview, 182, ids("a1", "a2"), "a2"), past(KindReview, 364, ids("a1", "a2"))}, nil},
		{"an ended app is never dormant", 200, []App{ended(offline("a1", 0, 10), 190, store.EndUserRevoked)}, nil, nil},

		// Rule 4: security.
		{"security at once, inside a period", 200,
			[]App{ended(offline("a1", 0, 199), 200, store.EndRefreshTokenReuse), offline("a2", 0, 199)},
			[]store.Reminder{past(KindReview, 182, ids("a1", "a2"))}, []string{"security a1"}},
		{"security for an online app too", 3, []App{ended(online, 3, store.EndRefreshTokenReuse)}, nil,
			[]string{"security a3"}},
		{"security once per authorization", 201,
			[]App{ended(offline("a1", 0, 199), 200, store.EndRefreshTokenReuse)},
			[]store.Reminder{past(KindSecurity, 200, ids("a1"))}, nil},
		{"other ends give no security reminder", 200,
			[]App{ended(offline("a1", 0, 199), 200, store.EndAdminRevoked), ended(offline("a2", 0, 199), 200, store.EndCodeReplay)},
			nil, nil},
		{"security and confirmation on the same day", 0,
			[]App{offline("a1", 0, -1), ended(offline("a2", 0, 0), 0, store.EndRefreshTokenReuse)}, nil,
			[]string{"security a2", "offline-granted a1"}},
	}
	var p Policy
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Due(day(tt.now), tt.apps, tt.history)
			if d := cmp.Diff(tt.want, summaries(got), cmpopts.EquateEmpty()); d != "" {
				t.Errorf("Due on day %d (-want +got):\n%s", tt.now, d)
			}
			for _, r := range got {
				if !r.CreatedAt.Equal(day(tt.now)) || r.State != store.ReminderPending || r.ID == "" {
					t.Errorf("reminder %+v: want made now, pending, with a key", r)
				}
			}
		})
	}
}

func TestPolicyCustomDurations(t *testing.T) {
	p := Policy{ReviewEvery: 30 * 24 * time.Hour, DormantAfter: 10 * 24 * time.Hour, FoldWindow: 5 * 24 * time.Hour}
	apps := []App{offline("a1", 0, 29), offline("a2", 0, 12)}
	hist := []store.Reminder{past(KindOfflineGranted, 0, []string{"a1"}), past(KindOfflineGranted, 0, []string{"a2"})}
	tests := []struct {
		now  int
		want []string
	}{
		{22, []string{"dormant a2 dormant=a2"}}, // 12+10; review on day 30 is 8 > 5 days away
		{30, nil},                               // the nudge was the period's reminder
		{51, nil},
		{52, []string{"review a1,a2 dormant=a1"}}, // a1 unused since day 29
	}
	for _, tt := range tests {
		got := p.Due(day(tt.now), apps, hist)
		if d := cmp.Diff(tt.want, summaries(got), cmpopts.EquateEmpty()); d != "" {
			t.Errorf("Due on day %d (-want +got):\n%s", tt.now, d)
		}
		hist = append(hist, got...)
	}
}

func TestDueKeys(t *testing.T) {
	// Two runs that see the same history make the same keys, so that the
	// store keeps one reminder of the two.
	apps := []App{offline("a1", 0, -1), offline("a2", 0, 181)}
	var p Policy
	for _, now := range []int{0, 90, 272} {
		a, b := p.Due(day(now), apps, nil), p.Due(day(now).Add(time.Hour), apps, nil)
		if d := cmp.Diff(ids(a), ids(b)); d != "" {
			t.Errorf("keys on day %d differ between runs (-first +second):\n%s", now, d)
		}
	}
}

func ids(rs []store.Reminder) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestVisible(t *testing.T) {
	rs := []store.Reminder{
		{ID: "pending", State: store.ReminderPending},
		{ID: "snoozed-past", State: store.ReminderSnoozed, SnoozedUntil: day(1)},
		{ID: "snoozed-now", State: store.ReminderSnoozed, SnoozedUntil: day(2)},
		{ID: "snoozed-future", State: store.ReminderSnoozed, SnoozedUntil: day(2).Add(time.Second)},
		{ID: "done", State: store.ReminderDone},
	}
	got := ids(Visible(day(2), rs))
	if d := cmp.Diff([]string{"pending", "snoozed-past", "snoozed-now"}, got); d != "" {
		t.Errorf("Visible (-want +got):\n%s", d)
	}
}
