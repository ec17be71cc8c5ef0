package oauth

import (
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// policy is the token lifetimes that apply to one client: the server's
// defaults, overridden by the client's registration.
type policy struct {
	accessTTL       time.Duration
	refreshIdleTTL  time.Duration
	offlineLifetime time.Duration
}

func (s *Server) policyFor(c store.Client) policy {
	p := policy{accessTTL: s.accessTTL, refreshIdleTTL: s.refreshIdleTTL, offlineLifetime: s.offlineLifetime}
	// A client may shorten the access-token lifetime but never lengthen it:
	// the ended-authorization cache only remembers endings for the server's
	// lifetime.
	if c.AccessTokenTTL > 0 && c.AccessTokenTTL < p.accessTTL {
		p.accessTTL = c.AccessTokenTTL
	}
	if c.RefreshIdleTTL > 0 {
		p.refreshIdleTTL = c.RefreshIdleTTL
	}
	if c.OfflineLifetime > 0 {
		p.offlineLifetime = c.OfflineLifetime
	}
	return p
}

// refreshExpiry is when a refresh token issued at now lapses: after the
// idle period, and never after its authorization.
func (p policy) refreshExpiry(a store.Authorization, now time.Time) time.Time {
	exp := now.Add(p.refreshIdleTTL)
	if !a.ExpiresAt.IsZero() && a.ExpiresAt.Before(exp) {
		exp = a.ExpiresAt
	}
	return exp
}
