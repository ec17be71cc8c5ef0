package signin

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/password"
	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
)

// TestCheck: a wrong password and an unknown name are mismatches, counted
// and recorded (the unknown name without a user id); after the limit the
// right password is refused unchecked, with the wait; from another
// address it signs in. Every attempt is in the audit trail, in order.
func TestCheck(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hash, err := password.Hash("right")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, store.User{ID: "u1", Username: "ann", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	limits := ratelimit.NewSignIn(ratelimit.SignInLimits{PerAccountIP: ratelimit.Policy{Failures: 2, Window: time.Minute, Lockout: time.Minute}}, clock)
	g := New(db, limits, audit.New(db, nil, clock))
	attempt := func(user, pw, addr string) Attempt {
		return Attempt{Form: audit.FormAccount, Username: user, Password: pw, Address: addr, ClientID: "app"}
	}

	if _, err := g.Check(ctx, attempt("nobody", "right", "192.0.2.1")); !errors.Is(err, password.ErrMismatch) {
		t.Errorf("unknown name: %v, want a mismatch", err)
	}
	for range 2 {
		if _, err := g.Check(ctx, attempt("ann", "wrong", "192.0.2.1")); !errors.Is(err, password.ErrMismatch) {
			t.Errorf("wrong password: %v, want a mismatch", err)
		}
	}
	var limited *LimitedError
	if _, err := g.Check(ctx, attempt("ann", "right", "192.0.2.1")); !errors.As(err, &limited) || limited.Wait != time.Minute {
		t.Errorf("right password after the limit: %v, want a LimitedError waiting 1m", err)
	}
	if u, err := g.Check(ctx, attempt("ann", "right", "192.0.2.2")); err != nil || u.ID != "u1" {
		t.Errorf("right password from another address: %+v, %v; want ann", u, err)
	}

	evs, err := db.ListAuditEvents(ctx, store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"signin.failed  app", "signin.failed u1 app", "signin.failed u1 app", "signin.limited  app", "signin.succeeded u1 app"}
	if len(evs) != len(want) {
		t.Fatalf("audit trail %+v, want %d events", evs, len(want))
	}
	for i, ev := range evs {
		if got := ev.Type + " " + ev.UserID + " " + ev.ClientID; got != want[i] || ev.Detail != audit.FormAccount {
			t.Errorf("event %d = %q (detail %q), want %q (detail %q)", i, got, ev.Detail, want[i], audit.FormAccount)
		}
	}
}
