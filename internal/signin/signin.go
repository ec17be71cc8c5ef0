package signin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/password"
	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// Users finds accounts by user name.
type Users interface {
	GetUserByUsername(ctx context.Context, username string) (store.User, error)
}

// Guard checks sign-in attempts. A server shares one among all its forms,
// so that failures on one count on the others.
type Guard struct {
	users  Users
	limits *ratelimit.SignIn
	audit  *audit.Recorder
}

// New returns a Guard looking accounts up in users, limited by limits and
// recording to rec (nil records nothing).
func New(users Users, limits *ratelimit.SignIn, rec *audit.Recorder) *Guard {
	return &Guard{users: users, limits: limits, audit: rec}
}

// Attempt is one sign-in to check.
type Attempt struct {
	Form     string // audit.FormAuthorize, FormAccount or FormEHR
	Username string
	Password string
	Address  string // the client's address (ratelimit.Client)
	ClientID string // the app the sign-in is for, if any
}

// LimitedError refuses an attempt made while its account or address is
// locked out; Wait is how long until it may try again.
type LimitedError struct{ Wait time.Duration }

func (e *LimitedError) Error() string {
	return fmt.Sprintf("signin: too many failed sign-ins; retry in %v", e.Wait)
}

// Check checks a. It returns the account when the password matches;
// password.ErrMismatch for a wrong user name or password; a *LimitedError,
// before the password is looked at and without counting it, while the
// limits refuse; any other error when the store fails. Each outcome is
// counted by the limits and recorded in the audit trail.
func (g *Guard) Check(ctx context.Context, a Attempt) (store.User, error) {
	if wait, limited := g.limits.Limited(a.Address, a.Username); limited {
		g.record(ctx, audit.SignInLimited, "", a)
		return store.User{}, &LimitedError{Wait: wait}
	}
	u, err := g.users.GetUserByUsername(ctx, a.Username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		err = password.CheckUnknown(a.Password)
	case err == nil:
		err = password.Check(u.PasswordHash, a.Password)
	}
	switch {
	case errors.Is(err, password.ErrMismatch):
		g.limits.Failed(a.Address, a.Username)
		g.record(ctx, audit.SignInFailed, u.ID, a) // u.ID is "" for an unknown name
		return store.User{}, err
	case err != nil:
		return store.User{}, err
	}
	g.limits.Succeeded(a.Address, a.Username)
	g.record(ctx, audit.SignInSucceeded, u.ID, a)
	return u, nil
}

func (g *Guard) record(ctx context.Context, typ, userID string, a Attempt) {
	g.audit.Record(ctx, store.AuditEvent{Type: typ, UserID: userID, ClientID: a.ClientID, Detail: a.Form})
}
