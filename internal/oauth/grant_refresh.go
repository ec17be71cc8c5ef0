package oauth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// grantRefreshToken exchanges a refresh token (RFC 6749 §6). Every use
// rotates it: the presented token stops working and a new one is returned.
// A used token presented again is a sign of theft, so the whole
// authorization ends (SMART Best Practices; RFC 9700 §4.14.2).
func (s *Server) grantRefreshToken(r *http.Request, client store.Client, p params, jkt string) (*tokenResponse, error) {
	ctx := r.Context()
	raw := p.get("refresh_token")
	if raw == "" {
		return nil, newError(ErrInvalidRequest, "refresh_token is required")
	}
	now := s.now()
	old, err := s.st.GetRefreshToken(ctx, store.Hash(raw))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, newError(ErrInvalidGrant, "the refresh token is invalid")
	case err != nil:
		return nil, serverError(err)
	case old.ClientID != client.ID:
		return nil, newError(ErrInvalidGrant, "the refresh token was issued to another client")
	case !old.UsedAt.IsZero():
		s.EndAuthorization(ctx, old.AuthorizationID, store.EndRefreshTokenReuse)
		return nil, newError(ErrInvalidGrant, reuseDescription)
	case !old.ExpiresAt.IsZero() && !now.Before(old.ExpiresAt):
		return nil, newError(ErrInvalidGrant, "the refresh token has expired")
	}
	if err := s.checkBoundRefresh(old, jkt); err != nil {
		return nil, err
	}
	a, err := s.st.GetAuthorization(ctx, old.AuthorizationID)
	if err != nil {
		return nil, serverError(err)
	}
	if !a.Live(now) {
		return nil, endedError(a, now)
	}
	if a.SessionID != "" {
		sess, err := s.st.GetSession(ctx, a.SessionID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, serverError(err)
		}
		if err != nil || !sess.Live(now) {
			return nil, newError(ErrInvalidGrant, "access ended: the user signed out, and this app had access only while they were signed in")
		}
	}
	scope, err := narrowScope(a.Scope, p.get("scope"))
	if err != nil {
		return nil, err
	}
	next := randomToken()
	// The event is stored with the rotation, in one commit.
	ev := s.audit.Prepare(ctx, store.AuditEvent{Type: audit.TokenRefreshed, UserID: a.UserID, ClientID: a.ClientID,
		AuthorizationID: a.ID})
	_, err = s.st.RotateRefreshToken(ctx, old.Hash, store.RefreshToken{
		Hash:            store.Hash(next),
		AuthorizationID: a.ID,
		ClientID:        client.ID,
		CreatedAt:       now,
		ExpiresAt:       s.policyFor(client).refreshExpiry(a, now),
		JKT:             old.JKT,
	}, now, ev)
	switch {
	case errors.Is(err, store.ErrAlreadyUsed):
		// Lost a race with another use of the same token: that is reuse too.
		s.EndAuthorization(ctx, a.ID, store.EndRefreshTokenReuse)
		return nil, newError(ErrInvalidGrant, reuseDescription)
	case err != nil:
		return nil, serverError(err)
	}
	s.audit.Log(ctx, ev)
	resp, err := s.issueTokens(r, client, a, issue{scope: scope, jkt: jkt})
	if err != nil {
		return nil, err
	}
	resp.RefreshToken = next
	return resp, nil
}

// reuseDescription answers the presentation of a used refresh token.
const reuseDescription = "the refresh token was already used, which can mean it was stolen: this app's access has been ended and the user must sign in again"

// narrowScope returns the scope for a refreshed access token: the granted
// scope, or the requested subset of it (RFC 6749 §6).
func narrowScope(granted, requested string) (string, error) {
	if requested == "" {
		return granted, nil
	}
	g := strings.Fields(granted)
	for _, sc := range strings.Fields(requested) {
		if !contains(g, sc) && len(smart.Permit(sc, granted)) == 0 {
			return "", newError(ErrInvalidScope, "the requested scope exceeds the granted scope")
		}
	}
	return strings.Join(strings.Fields(requested), " "), nil
}
