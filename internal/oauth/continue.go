package oauth

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// authorizeContinue finishes an authorization request the consent pages
// have decided: it takes the stored request (once), and either creates the
// authorization and a code or reports access_denied, redirecting with
// state and iss (RFC 9207) in both cases. Only the browser that answered
// can finish: it carries the one-time proof the consent pages gave it, so
// someone who merely knows the request id cannot collect the code
// (RFC 6749 §10.12).
func (s *Server) authorizeContinue(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	id := q.Get("request")
	req, err := s.st.GetAuthRequest(ctx, id)
	if err == nil && req.Decision == store.DecisionPending {
		s.pages.Error(w, http.StatusBadRequest, "This sign-in is not finished yet. Go back and answer the question on the page.")
		return
	}
	if err == nil && (req.ProofHash == "" ||
		subtle.ConstantTimeCompare([]byte(store.Hash(q.Get("proof"))), []byte(req.ProofHash)) != 1) {
		s.pages.Error(w, http.StatusForbidden, "This sign-in belongs to another browser window. Start again from the app.")
		return
	}
	if err == nil {
		req, err = s.st.TakeAuthRequest(ctx, id)
	}
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.logger.ErrorContext(ctx, "authorize continue", "err", err)
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
	resp := url.Values{"code": {code}, "state": {req.State}, "iss": {s.issuer}}
	http.Redirect(w, r, withQuery(req.RedirectURI, resp), http.StatusSeeOther)
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
	client, err := s.st.GetClient(ctx, req.ClientID)
	if err != nil {
		return "", serverError(err)
	}
	switch {
	case a.Offline:
		a.ExpiresAt = now.Add(s.policyFor(client).offlineLifetime)
	case granted.Has("online_access"):
		// Online access lives as long as the sign-in session it was
		// approved in (SMART App Launch §4.13, R-OIDC-11).
		sess, err := s.st.GetSession(ctx, req.SessionID)
		if err != nil {
			return "", serverError(fmt.Errorf("online_access without a session: %w", err))
		}
		a.SessionID, a.ExpiresAt = sess.ID, sess.ExpiresAt
	default:
		a.ExpiresAt = now.Add(s.codeTTL + s.policyFor(client).accessTTL)
	}
	// The patient context goes with a scope that asks for it: launch,
	// launch/patient, or any patient/ scope, which needs one (R-CTX-04).
	if !granted.Has(smart.ScopeLaunch) && !granted.Has(smart.ScopeLaunchPatient) && !hasPatientScope(granted) {
		a.PatientID = ""
	}
	if req.LaunchID != "" && granted.Has(smart.ScopeLaunch) {
		l, err := s.st.GetLaunch(ctx, req.LaunchID)
		if err != nil {
			return "", serverError(err)
		}
		a.Context = l.Context
		a.Context.Patient = "" // the patient is a.PatientID, checked by consent
	}
	if err := s.st.CreateAuthorization(ctx, a); err != nil {
		return "", serverError(err)
	}
	s.audit.Record(ctx, store.AuditEvent{Type: audit.AuthorizationGranted, UserID: a.UserID, ClientID: a.ClientID,
		AuthorizationID: a.ID, Detail: a.Scope})
	code := randomToken()
	err = s.st.CreateCode(ctx, store.Code{
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

func hasPatientScope(set smart.ScopeSet) bool {
	for _, sc := range set.Resources {
		if sc.Context == "patient" {
			return true
		}
	}
	return false
}
