package oauth

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// introspectScope lets a bearer token or a client introspect tokens issued
// to any client (SMART 2.2's "appropriately-scoped" caller, R-INTRO-07;
// D-7). It is an extension scope, so it starts with two underscores
// (R-EXT-01).
const introspectScope = "__introspect"

// introspection is an RFC 7662 §2.2 response with SMART's fields
// (R-INTRO-02..05). An inactive token is exactly {"active": false}.
type introspection struct {
	Active    bool          `json:"active"`
	Scope     string        `json:"scope,omitempty"`
	ClientID  string        `json:"client_id,omitempty"`
	TokenType string        `json:"token_type,omitempty"`
	Exp       int64         `json:"exp,omitempty"`
	Iat       int64         `json:"iat,omitempty"`
	Sub       string        `json:"sub,omitempty"`
	Iss       string        `json:"iss,omitempty"`
	Aud       string        `json:"aud,omitempty"`
	Patient   string        `json:"patient,omitempty"`
	Encounter string        `json:"encounter,omitempty"`
	FHIRUser  string        `json:"fhirUser,omitempty"`
	Cnf       *Confirmation `json:"cnf,omitempty"`
}

// introspect is the introspection endpoint (RFC 7662). Callers
// authenticate as a confidential client, which may introspect its own
// tokens, or carry a bearer token with the introspection scope, which may
// introspect any token; a token the caller may not see is reported exactly
// as an unknown one.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	if !s.postOnly(w, r) {
		return
	}
	resp, err := s.introspection(w, r)
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	writeNoStore(w, http.StatusOK, resp)
}

func (s *Server) introspection(w http.ResponseWriter, r *http.Request) (introspection, error) {
	inactive := introspection{}
	p, err := readForm(w, r)
	if err != nil {
		return inactive, err
	}
	mayIntrospect, err := s.introspectionCaller(r, p)
	if err != nil {
		return inactive, err
	}
	token := p.get("token")
	if token == "" {
		return inactive, newError(ErrInvalidRequest, "token is required")
	}
	if c, err := s.VerifyAccessToken(r.Context(), token); err == nil {
		if !mayIntrospect(c.ClientID) {
			return inactive, nil
		}
		out := introspection{Active: true, Scope: c.Scope, ClientID: c.ClientID, TokenType: "Bearer",
			Exp: c.Expiry, Iat: c.IssuedAt, Sub: c.Subject, Iss: c.Issuer, Aud: c.Audience, Patient: c.Patient, Encounter: c.Encounter,
			Cnf: c.Confirmation}
		if c.Confirmation != nil {
			out.TokenType = "DPoP"
		}
		if c.FHIRUser != "" {
			out.FHIRUser = s.fhirBase + "/" + c.FHIRUser
		}
		return out, nil
	} else if !errors.Is(err, ErrInvalidToken) {
		return inactive, serverError(err)
	}
	return s.introspectRefreshToken(r, token, mayIntrospect)
}

// introspectRefreshToken reports a live, unused refresh token.
func (s *Server) introspectRefreshToken(r *http.Request, token string, mayIntrospect func(string) bool) (introspection, error) {
	rt, err := s.st.GetRefreshToken(r.Context(), store.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return introspection{}, nil
	}
	if err != nil {
		return introspection{}, serverError(err)
	}
	now := s.now()
	if !rt.UsedAt.IsZero() || (!rt.ExpiresAt.IsZero() && !now.Before(rt.ExpiresAt)) || !mayIntrospect(rt.ClientID) {
		return introspection{}, nil
	}
	a, err := s.st.GetAuthorization(r.Context(), rt.AuthorizationID)
	if err != nil || !a.Live(now) {
		return introspection{}, nil
	}
	out := introspection{Active: true, Scope: a.Scope, ClientID: rt.ClientID, TokenType: "refresh_token",
		Iat: rt.CreatedAt.Unix(), Sub: a.UserID, Iss: s.issuer, Patient: a.PatientID}
	if !rt.ExpiresAt.IsZero() {
		out.Exp = rt.ExpiresAt.Unix()
	}
	return out, nil
}

// introspectionCaller authenticates the caller and returns which clients'
// tokens it may see.
func (s *Server) introspectionCaller(r *http.Request, p params) (func(clientID string) bool, error) {
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		c, err := s.VerifyAccessToken(r.Context(), strings.TrimSpace(tok))
		if err != nil || !slices.Contains(strings.Fields(c.Scope), introspectScope) {
			return nil, &Error{Code: "invalid_token", Description: "the bearer token may not introspect", Status: http.StatusUnauthorized}
		}
		return func(string) bool { return true }, nil
	}
	client, err := s.authenticateClient(r, p)
	if err != nil {
		return nil, err
	}
	if client.Type == store.ClientPublic {
		return nil, newError(ErrInvalidClient, "introspection needs a confidential client or an authorized bearer token")
	}
	if slices.Contains(strings.Fields(client.Scope), introspectScope) {
		return func(string) bool { return true }, nil
	}
	return func(id string) bool { return id == client.ID }, nil
}
