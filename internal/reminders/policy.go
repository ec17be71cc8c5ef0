package reminders

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// Kind is what a reminder is about; it is stored as store.Reminder.Kind.
type Kind string

// Kinds of reminder (see the package documentation for when each is due).
const (
	KindOfflineGranted Kind = "offline-granted"
	KindReview         Kind = "review"
	KindDormant        Kind = "dormant"
	KindSecurity       Kind = "security"
)

// Policy is the server's reminder cadence. The zero value of a field takes
// its default.
type Policy struct {
	// ReviewEvery is the review period: at most one review or standalone
	// dormant nudge per user per period. Default 182 days.
	ReviewEvery time.Duration
	// DormantAfter is how long an offline app goes unused before it is
	// dormant. Default 90 days.
	DormantAfter time.Duration
	// FoldWindow: a dormant nudge due within this time of the next review
	// is flagged in that review instead of sent alone. Default 30 days.
	FoldWindow time.Duration
	// ConfirmWithin is how old a grant may be when first seen and still be
	// confirmed. Default 14 days.
	ConfirmWithin time.Duration
}

// Policy defaults.
const (
	DefaultReviewEvery   = 182 * 24 * time.Hour
	DefaultDormantAfter  = 90 * 24 * time.Hour
	DefaultFoldWindow    = 30 * 24 * time.Hour
	DefaultConfirmWithin = 14 * 24 * time.Hour
)

// withDefaults returns p with every zero or negative field set to its default.
func (p Policy) withDefaults() Policy {
	set := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	set(&p.ReviewEvery, DefaultReviewEvery)
	set(&p.DormantAfter, DefaultDormantAfter)
	set(&p.FoldWindow, DefaultFoldWindow)
	set(&p.ConfirmWithin, DefaultConfirmWithin)
	return p
}

// App is what the policy knows of one authorization of the user.
type App struct {
	AuthorizationID string
	ClientID        string
	ClientName      string
	Offline         bool
	CreatedAt       time.Time
	// LastUsedAt is the last refresh or data request; zero if never used.
	LastUsedAt time.Time
	// ExpiresAt is when the authorization lapses by itself; zero if never.
	ExpiresAt time.Time
	EndedAt   time.Time
	EndReason store.EndReason
}

// AppFrom returns the App for authorization a of the client named clientName.
func AppFrom(a store.Authorization, clientName string) App {
	return App{
		AuthorizationID: a.ID, ClientID: a.ClientID, ClientName: clientName, Offline: a.Offline,
		CreatedAt: a.CreatedAt, LastUsedAt: a.LastUsedAt, ExpiresAt: a.ExpiresAt,
		EndedAt: a.EndedAt, EndReason: a.EndReason,
	}
}

// live reports whether the app is neither ended nor expired at now.
func (a App) live(now time.Time) bool {
	return a.EndedAt.IsZero() && (a.ExpiresAt.IsZero() || now.Before(a.ExpiresAt))
}

// idleSince is when the app was last used, or granted if never used.
func (a App) idleSince() time.Time {
	if a.LastUsedAt.After(a.CreatedAt) {
		return a.LastUsedAt
	}
	return a.CreatedAt
}

// Due returns the reminders to create now for one user, given all their
// apps (authorizations, ended ones included) and every reminder they ever
// had, in any state. It is pure. The reminders returned are pending, made
// at now, with UserID unset and ID set to a key unique within the user's
// reminders and the same for every caller that sees the same history, so
// that two runs racing on one user store each reminder once (the Service
// turns it into a store-wide ID). AuthorizationIDs are ordered by grant.
func (p Policy) Due(now time.Time, apps []App, history []store.Reminder) []store.Reminder {
	p = p.withDefaults()
	apps = slices.Clone(apps)
	slices.SortFunc(apps, func(a, b App) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.AuthorizationID, b.AuthorizationID))
	})
	h := summarize(apps, history)
	var due []store.Reminder
	add := func(k Kind, key string, ids, dormant []string) {
		due = append(due, store.Reminder{
			ID: string(k) + "/" + key, Kind: string(k), AuthorizationIDs: ids, Dormant: dormant,
			CreatedAt: now, State: store.ReminderPending,
		})
	}

	// Rule 4: security, at once, once per authorization.
	for _, a := range apps {
		if a.EndReason == store.EndRefreshTokenReuse && !h.secured[a.AuthorizationID] {
			add(KindSecurity, a.AuthorizationID, []string{a.AuthorizationID}, nil)
		}
	}

	var live, newlyDormant []string
	oldest := time.Time{}
	for _, a := range apps {
		if !a.Offline || !a.live(now) || a.CreatedAt.After(now) {
			continue
		}
		live = append(live, a.AuthorizationID)
		if oldest.IsZero() {
			oldest = a.CreatedAt // apps are sorted by grant
		}
		// Rule 1: one confirmation per grant, never twice for a client.
		if !h.confirmed[a.AuthorizationID] && !h.confirmedClient[a.ClientID] &&
			now.Sub(a.CreatedAt) <= p.ConfirmWithin {
			add(KindOfflineGranted, a.AuthorizationID, []string{a.AuthorizationID}, nil)
			h.confirmedClient[a.ClientID] = true
		}
		if !h.nudged[a.AuthorizationID] && now.Sub(a.idleSince()) >= p.DormantAfter {
			newlyDormant = append(newlyDormant, a.AuthorizationID)
		}
	}
	if len(live) == 0 {
		return due
	}

	// Rule 2: the review, with rule 3's folding.
	anchor := oldest
	if h.lastCadence.After(anchor) {
		anchor = h.lastCadence
	}
	next := anchor.Add(p.ReviewEvery)
	switch {
	case !now.Before(next):
		add(KindReview, strconv.FormatInt(next.UnixMicro(), 10), live, newlyDormant)
	case len(newlyDormant) == 0, next.Sub(now) <= p.FoldWindow:
		// Nothing dormant, or folded into the review due soon.
	case !h.lastCadence.IsZero() && now.Sub(h.lastCadence) < p.ReviewEvery:
		// This period's reminder was sent: wait for the next review.
	default:
		add(KindDormant, strings.Join(newlyDormant, ","), newlyDormant, newlyDormant)
	}
	return due
}

// history is what Due needs to know of a user's past reminders.
type history struct {
	confirmed, confirmedClient, nudged, secured map[string]bool
	// lastCadence is when the last review or standalone dormant nudge
	// was made; zero if none.
	lastCadence time.Time
}

func summarize(apps []App, rs []store.Reminder) history {
	h := history{
		confirmed: map[string]bool{}, confirmedClient: map[string]bool{},
		nudged: map[string]bool{}, secured: map[string]bool{},
	}
	client := make(map[string]string, len(apps))
	for _, a := range apps {
		client[a.AuthorizationID] = a.ClientID
	}
	for _, r := range rs {
		switch Kind(r.Kind) {
		case KindOfflineGranted:
			for _, id := range r.AuthorizationIDs {
				h.confirmed[id] = true
				if c, ok := client[id]; ok {
					h.confirmedClient[c] = true
				}
			}
		case KindSecurity:
			for _, id := range r.AuthorizationIDs {
				h.secured[id] = true
			}
		case KindReview, KindDormant:
			for _, id := range r.Dormant {
				h.nudged[id] = true
			}
			if r.CreatedAt.After(h.lastCadence) {
				h.lastCadence = r.CreatedAt
			}
		}
	}
	return h
}

// Visible returns the reminders of rs to show at now: pending ones, and
// snoozed ones whose SnoozedUntil has passed, in the order of rs. Done
// reminders are never shown.
func Visible(now time.Time, rs []store.Reminder) []store.Reminder {
	var out []store.Reminder
	for _, r := range rs {
		switch r.State {
		case store.ReminderPending:
			out = append(out, r)
		case store.ReminderSnoozed:
			if !now.Before(r.SnoozedUntil) {
				out = append(out, r)
			}
		}
	}
	return out
}
