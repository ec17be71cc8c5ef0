package oauth

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// authorizeContinue finishes an authorization request the consent pages
// have decided: it takes the stored request (once), and either creates the
// authorization and a code or reports access_denied, redirecting with
// state and iss (RFC 9207) in both cases.
func (s *Server) authorizeContinue(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.URL.Query().Get("request")
	req, err := s.st.GetAuthRequest(ctx, id)
	if err == nil && req.Decision == store.DecisionPending {
		s.pages.Error(w, http.StatusBadRequest, "This sign-in is not finished yet. Go back and answer the question on the page.")
		return
	}
	if err == nil {
		req, err = s.st.TakeAuthRequest(ctx, id)
	}
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.logger.Error("authorize continue", "err", err)
			s.pages.Error(w, http.StatusInternalServerError, "Something went wrong on our side.")
			return
		}
		s.pages.Error(w, http.StatusBadRequest, "This sign-in has already finished or has expired. Start again from the app.")
		return
	}
	now := s.now()
	switch {
	case !now.Before(req.ExpiresAt):
		s.redirectError(w, r, req.RedirectURI, req.State, newError(ErrAccessDenied, "the authorization request expired"))
		return
	case req.Decision != store.DecisionApproved:
		s.redirectError(w, r, req.RedirectURI, req.State, newError(ErrAccessDenied, "the user denied access"))
		return
	}
	code, err := s.issueCode(r, req)
	if err != nil {
		s.redirectError(w, r, req.RedirectURI, req.State, err)
		return
	}
	q := url.Values{"code": {code}, "state": {req.State}, "iss": {s.issuer}}
	http.Redirect(w, r, withQuery(req.RedirectURI, q), http.StatusSeeOther)
}

// issueCode creates the authorization the user approved and a code for it.
func (s *Server) issueCode(r *http.Request, req store.AuthRequest) (string, error) {
	ctx := r.Context()
	now := s.now()
	granted := smart.ParseScopes(req.GrantedScope)
	a := store.Authorization{
		ID:         randomToken(),
		UserID:     req.UserID,
		ClientID:   req.ClientID,
		PatientID:  req.PatientID,
		Scope:      req.GrantedScope,
		Offline:    granted.Has("offline_access"),
		CreatedAt:  now,
		LastUsedAt: now,
	}
	switch {
	case a.Offline:
		// Lifetimes of offline access belong to the refresh-token policy.
	case granted.Has("online_access"):
		a.ExpiresAt = now.Add(s.onlineTTL)
	default:
		a.ExpiresAt = now.Add(s.codeTTL + s.accessTTL)
	}
	if err := s.st.CreateAuthorization(ctx, a); err != nil {
		return "", serverError(err)
	}
	code := randomToken()
	err := s.st.CreateCode(ctx, store.Code{
		Hash:            store.Hash(code),
		AuthorizationID: a.ID,
		ClientID:        req.ClientID,
		RedirectURI:     req.RedirectURI,
		CodeChallenge:   req.CodeChallenge,
		Nonce:           req.Nonce,
		CreatedAt:       now,
		ExpiresAt:       now.Add(s.codeTTL),
	})
	if err != nil {
		return "", serverError(err)
	}
	return code, nil
}
