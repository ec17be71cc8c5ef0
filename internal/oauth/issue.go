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
	Encounter       string `json:"encounter,omitempty"`
	FHIRUser        string `json:"fhirUser,omitempty"`
	// Confirmation binds the token to a DPoP key (RFC 9449 §6.1).
	Confirmation *Confirmation `json:"cnf,omitempty"`
}

// Confirmation is the "cnf" claim of a DPoP-bound token.
type Confirmation struct {
	JKT string `json:"jkt"`
}

// issue says what to issue: the access token's scope, the OpenID nonce,
// whether this is the code exchange (which also issues the id_token and
// the first refresh token), and the DPoP key thumbprint to bind to.
type issue struct {
	scope, nonce string
	first        bool
	jkt          string
	// system marks a backend-services token: no user, a short lifetime.
	system bool
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

// issueTokens signs an access token for a with in.scope and, for a code
// exchange, an id_token when openid was granted and the first refresh
// token when offline_access or online_access was granted. With a DPoP key
// the access token is bound to it, and so is a public client's refresh
// token (RFC 9449 §5).
func (s *Server) issueTokens(r *http.Request, client store.Client, a store.Authorization, in issue) (*tokenResponse, error) {
	scope, nonce, first := in.scope, in.nonce, in.first
	ctx := r.Context()
	now := s.now()
	pol := s.policyFor(client)
	user := store.User{ID: client.ID}
	if in.system {
		pol.accessTTL = min(pol.accessTTL, backendTokenTTL)
	} else {
		var err error
		if user, err = s.st.GetUser(ctx, a.UserID); err != nil {
			return nil, serverError(err)
		}
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
		Encounter:       a.Context.Encounter,
	}
	if set.Has("fhirUser") {
		claims.FHIRUser = user.FHIRUser
	}
	tokenType := "Bearer"
	if in.jkt != "" {
		claims.Confirmation = &Confirmation{JKT: in.jkt}
		tokenType = "DPoP"
	}
	at, err := s.keys.SignAccessToken(claims)
	if err != nil {
		return nil, serverError(err)
	}
	resp := &tokenResponse{
		AccessToken: at,
		TokenType:   tokenType,
		ExpiresIn:   int64(pol.accessTTL / time.Second),
		Scope:       scope,
		Patient:     a.PatientID,

		Encounter:         a.Context.Encounter,
		FHIRContext:       a.Context.FHIRContext,
		Intent:            a.Context.Intent,
		NeedPatientBanner: a.Context.NeedPatientBanner,
		SmartStyleURL:     a.Context.SmartStyleURL,
		Tenant:            a.Context.Tenant,
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
			JKT:             publicBinding(client, in.jkt),
		})
		if err != nil {
			return nil, serverError(err)
		}
		resp.RefreshToken = rt
	}
	s.tokenIssued(in)
	return resp, nil
}

// publicBinding is the key a new refresh token is bound to: the DPoP key
// for a public client, which has no other way to prove it is the holder;
// none for a confidential client, which authenticates on every refresh.
func publicBinding(c store.Client, jkt string) string {
	if c.Type == store.ClientPublic {
		return jkt
	}
	return ""
}
