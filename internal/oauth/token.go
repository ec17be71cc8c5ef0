package oauth

import (
	"context"
	"github.com/smartlaunch/smartlaunch/internal/audit"
	"net/http"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// tokenResponse is the successful token response (RFC 6749 §5.1, SMART
// App Launch §2.1.8). expires_in is a JSON number (I-TOKEN-05).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Patient      string `json:"patient,omitempty"`
	// EHR launch context (SMART App Launch §4.8), present only when the
	// launch scope was granted with a launch that carried it.
	Encounter         string                   `json:"encounter,omitempty"`
	FHIRContext       []store.FHIRContextEntry `json:"fhirContext,omitempty"`
	Intent            string                   `json:"intent,omitempty"`
	NeedPatientBanner *bool                    `json:"need_patient_banner,omitempty"`
	SmartStyleURL     string                   `json:"smart_style_url,omitempty"`
	Tenant            string                   `json:"tenant,omitempty"`
}

// token is the token endpoint (RFC 6749 §3.2). It authenticates the
// client, dispatches on grant_type and writes the response with no-store
// caching headers (I-TOKEN-11).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if !s.postOnly(w, r) {
		return
	}
	resp, err := s.tokenRequest(w, r)
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	if resp.TokenType == "DPoP" {
		w.Header().Set("DPoP-Nonce", s.dpop.Nonce())
	}
	writeNoStore(w, http.StatusOK, resp)
}

func (s *Server) tokenRequest(w http.ResponseWriter, r *http.Request) (*tokenResponse, error) {
	p, err := readForm(w, r)
	if err != nil {
		return nil, err
	}
	client, err := s.authenticateClient(r, p)
	if err != nil {
		return nil, err
	}
	if err := s.limitToken(r, client); err != nil {
		return nil, err
	}
	jkt, err := s.tokenDPoP(r, client)
	if err != nil {
		return nil, err
	}
	switch p.get("grant_type") {
	case "authorization_code":
		return s.grantAuthorizationCode(r, client, p, jkt)
	case "refresh_token":
		return s.grantRefreshToken(r, client, p, jkt)
	case "client_credentials":
		return s.grantClientCredentials(r, client, p, jkt)
	case "":
		return nil, newError(ErrInvalidRequest, "grant_type is required")
	default:
		return nil, newError(ErrUnsupportedGrantType, "grant_type is not supported")
	}
}

// EndAuthorization ends the authorization id for reason, records an audit
// event, and makes this process's access-token check refuse its tokens at
// once; other processes see it within Config.EndedCacheTTL.
func (s *Server) EndAuthorization(ctx context.Context, id string, reason store.EndReason) {
	s.ended.add(id, s.now())
	ended, err := s.st.EndAuthorization(ctx, id, s.now(), reason)
	if err != nil {
		s.logger.ErrorContext(ctx, "end authorization", "reason", reason, "err", err)
		return
	}
	if !ended {
		return // already ended: the first reason and event stand
	}
	s.authorizationEnded(string(reason))
	a, err := s.st.GetAuthorization(ctx, id)
	if err != nil {
		s.logger.ErrorContext(ctx, "end authorization: get", "err", err)
		return
	}
	s.audit.Record(ctx, store.AuditEvent{Type: audit.AuthorizationEnded, UserID: a.UserID, ClientID: a.ClientID,
		AuthorizationID: id, Detail: string(reason)})
	s.logger.WarnContext(ctx, "authorization ended", "authorization", id, "reason", reason)
}
