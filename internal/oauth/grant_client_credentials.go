package oauth

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// LaunchAPIScope lets a backend client create EHR launches through the
// EHR simulator's API (an extension scope, R-EXT-01).
const LaunchAPIScope = "__launch"

// backendTokenTTL caps backend-services access tokens (SMART Backend
// Services: "expires_in ... SHOULD NOT exceed 5 minutes" — R-BACK-*).
const backendTokenTTL = 5 * time.Minute

// grantClientCredentials serves SMART Backend Services (RFC 6749 §4.4):
// a confidential client gets a short-lived access token for the system/
// scopes it asked for and is registered for; never a refresh token. Its
// tokens hang from one standing authorization per client, so ending that
// authorization (an administrator revoking the app) ends them all.
func (s *Server) grantClientCredentials(r *http.Request, client store.Client, p params, jkt string) (*tokenResponse, error) {
	if client.Type == store.ClientPublic {
		return nil, newError(ErrUnauthorizedClient, "backend services need a confidential client")
	}
	var scopes []string
	for _, sc := range smart.Permit(p.get("scope"), client.Scope) {
		if strings.HasPrefix(sc, "system/") || sc == introspectScope || sc == LaunchAPIScope {
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) == 0 {
		return nil, newError(ErrInvalidScope, "request system/ scopes this app is registered for")
	}
	a, err := s.systemAuthorization(r, client)
	if err != nil {
		return nil, err
	}
	return s.issueTokens(r, client, a, issue{scope: strings.Join(scopes, " "), jkt: jkt, system: true})
}

// systemAuthorization returns the client's standing backend authorization,
// creating it on first use.
func (s *Server) systemAuthorization(r *http.Request, client store.Client) (store.Authorization, error) {
	ctx := r.Context()
	id := "system:" + client.ID
	a, err := s.st.GetAuthorization(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		now := s.now()
		a = store.Authorization{ID: id, ClientID: client.ID, Scope: client.Scope, CreatedAt: now, LastUsedAt: now}
		switch err = s.st.CreateAuthorization(ctx, a); {
		case errors.Is(err, store.ErrConflict):
			a, err = s.st.GetAuthorization(ctx, id)
		case err == nil:
			s.audit.Record(ctx, store.AuditEvent{Type: audit.AuthorizationGranted, ClientID: client.ID,
				AuthorizationID: a.ID, Detail: a.Scope})
		}
	}
	if err != nil {
		return store.Authorization{}, serverError(err)
	}
	if !a.Live(s.now()) {
		return store.Authorization{}, newError(ErrInvalidClient, "access for this app was ended by an administrator")
	}
	return a, nil
}
