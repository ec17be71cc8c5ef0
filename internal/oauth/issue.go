package oauth

import (
	"net/http"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// AccessClaims are the claims of an access token: RFC 9068 §2.2 plus the
// authorization it belongs to and its SMART launch context.
type AccessClaims struct {
	Issuer          string `json:"iss"`
	Subject         string `json:"sub"`
	Audience        string `json:"aud"`
	ClientID        string `json:"client_id"`
	Scope           string `json:"scope"`
	IssuedAt        int64  `json:"iat"`
	Expiry          int64  `json:"exp"`
	ID              string `json:"jti"`
	AuthorizationID string `json:"authorization_id"`
	Patient         string `json:"patient,omitempty"`
	FHIRUser        string `json:"fhirUser,omitempty"`
}

// idClaims are the claims of an OpenID Connect id_token (OIDC Core §2)
// with SMART's fhirUser (SMART App Launch §4.6).
type idClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	Nonce    string `json:"nonce,omitempty"`
	FHIRUser string `json:"fhirUser,omitempty"`
	Name     string `json:"name,omitempty"`
}

// issueTokens signs an access token for a with scope and, for a code
// exchange (first), an id_token when openid was granted and the first
// refresh token when offline_access or online_access was granted.
func (s *Server) issueTokens(r *http.Request, client store.Client, a store.Authorization, scope, nonce string, first bool) (*tokenResponse, error) {
	ctx := r.Context()
	now := s.now()
	pol := s.policyFor(client)
	user, err := s.st.GetUser(ctx, a.UserID)
	if err != nil {
		return nil, serverError(err)
	}
	set := smart.ParseScopes(scope)
	claims := AccessClaims{
		Issuer:          s.issuer,
		Subject:         user.ID,
		Audience:        s.fhirBase,
		ClientID:        a.ClientID,
		Scope:           scope,
		IssuedAt:        now.Unix(),
		Expiry:          now.Add(pol.accessTTL).Unix(),
		ID:              randomToken(),
		AuthorizationID: a.ID,
		Patient:         a.PatientID,
	}
	if set.Has("fhirUser") {
		claims.FHIRUser = user.FHIRUser
	}
	at, err := s.keys.SignAccessToken(claims)
	if err != nil {
		return nil, serverError(err)
	}
	resp := &tokenResponse{
		AccessToken: at,
		TokenType:   "Bearer",
		ExpiresIn:   int64(pol.accessTTL / time.Second),
		Scope:       scope,
		Patient:     a.PatientID,
	}
	if first && set.Has("openid") {
		id := idClaims{
			Issuer: s.issuer, Subject: user.ID, Audience: a.ClientID,
			IssuedAt: now.Unix(), Expiry: now.Add(pol.accessTTL).Unix(), Nonce: nonce,
		}
		if set.Has("fhirUser") && user.FHIRUser != "" {
			id.FHIRUser = s.fhirBase + "/" + user.FHIRUser
		}
		if set.Has("profile") {
			id.Name = user.DisplayName
		}
		if resp.IDToken, err = s.keys.SignIDToken(id); err != nil {
			return nil, serverError(err)
		}
	}
	if first && (set.Has("offline_access") || set.Has("online_access")) {
		rt := randomToken()
		err := s.st.CreateRefreshToken(ctx, store.RefreshToken{
			Hash:            store.Hash(rt),
			AuthorizationID: a.ID,
			ClientID:        a.ClientID,
			CreatedAt:       now,
			ExpiresAt:       pol.refreshExpiry(a, now),
		})
		if err != nil {
			return nil, serverError(err)
		}
		resp.RefreshToken = rt
	}
	return resp, nil
}
