package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// JWTBearerAssertion is the client_assertion_type of private_key_jwt
// (RFC 7523 §2.2).
const JWTBearerAssertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// KeySource finds a client's public key at its registered jwks_uri;
// internal/remotekeys provides one that guards against SSRF.
type KeySource interface {
	Key(ctx context.Context, jwksURI, kid, alg string) (jose.JSONWebKey, error)
}

// assertionAlgs are the accepted assertion algorithms: SMART's RS384 and
// ES384 (R-ASYM-02) and other asymmetric ones; never none or HMAC.
var assertionAlgs = []jose.SignatureAlgorithm{
	jose.RS384, jose.ES384, jose.RS256, jose.ES256, jose.PS256, jose.PS384, jose.RS512, jose.ES512, jose.PS512, jose.EdDSA,
}

const (
	// maxAssertionLifetime bounds exp - now (SMART: at most five minutes).
	maxAssertionLifetime = 5 * time.Minute
	// assertionSkew tolerates clock differences between client and server.
	assertionSkew = 30 * time.Second
	maxJTI        = 256
	maxAssertion  = 16 << 10
)

// assertionClaims are the claims of a client assertion (SMART App Launch
// §5 "Authenticating to the Token endpoint"). aud is raw so an array can
// be refused (D-3).
type assertionClaims struct {
	Issuer    string          `json:"iss"`
	Subject   string          `json:"sub"`
	Audience  json.RawMessage `json:"aud"`
	Expiry    *float64        `json:"exp"`
	IssuedAt  *float64        `json:"iat"`
	NotBefore *float64        `json:"nbf"`
	ID        string          `json:"jti"`
}

// authenticateAssertion authenticates a client by a JWT it signed with a
// key from its registered JWKS (R-ASYM-*, RFC 7523). The signature is
// checked before the jti is remembered, so a forged assertion cannot use
// up a jti.
func (s *Server) authenticateAssertion(r *http.Request, p params) (store.Client, error) {
	var claims assertionClaims
	fail := func(reason string) (store.Client, error) {
		s.logger.InfoContext(r.Context(), "client assertion refused", "reason", reason)
		e := newError(ErrInvalidClient, "client authentication failed")
		e.Cause = &authFailure{client: claims.Issuer, reason: "client assertion: " + reason}
		return store.Client{}, e
	}
	if p.get("client_assertion_type") != JWTBearerAssertion {
		return store.Client{}, newError(ErrInvalidClient, "client_assertion_type must be "+JWTBearerAssertion)
	}
	raw := p.get("client_assertion")
	if raw == "" || len(raw) > maxAssertion {
		return fail("missing or oversized assertion")
	}
	jws, err := jose.ParseSignedCompact(raw, assertionAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return fail("not a signed JWT with an accepted algorithm")
	}
	h := jws.Signatures[0].Header
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil {
		return fail("claims")
	}
	if claims.Issuer == "" || claims.Issuer != claims.Subject {
		return fail("iss and sub must both be the client id")
	}
	if id := p.get("client_id"); id != "" && id != claims.Issuer {
		return fail("client_id differs from the assertion's issuer")
	}
	c, err := s.lookupClient(r, claims.Issuer)
	if err != nil {
		return c, err
	}
	if c.Type != store.ClientConfidentialAsymmetric || h.JSONWebKey != nil {
		return fail("not an asymmetric client, or a key embedded in the assertion")
	}
	key, err := s.assertionKey(r.Context(), c, h)
	if err != nil {
		return fail("no registered key: " + err.Error())
	}
	if _, err := jws.Verify(key.Key); err != nil {
		return fail("signature")
	}
	if err := s.checkAssertionClaims(claims); err != nil {
		return fail(err.Error())
	}
	exp := time.Unix(int64(*claims.Expiry), 0)
	sum := sha256.Sum256([]byte(c.ID + "\x00" + claims.ID))
	fresh, err := s.st.Remember(r.Context(), "assertion:"+base64.RawURLEncoding.EncodeToString(sum[:]), exp.Add(assertionSkew), s.now())
	if err != nil {
		return store.Client{}, serverError(err)
	}
	if !fresh {
		return fail("jti reused")
	}
	return c, nil
}

// assertionKey finds the verification key: from the inline JWKS, or from
// the registered jwks_uri. A jku header is honoured only when it is exactly
// the registered jwks_uri (SMART App Launch §5; I-BACKEND-08); any other
// jku is refused rather than fetched.
func (s *Server) assertionKey(ctx context.Context, c store.Client, h jose.Header) (jose.JSONWebKey, error) {
	jku, _ := h.ExtraHeaders["jku"].(string)
	if _, present := h.ExtraHeaders["jku"]; present && (jku == "" || jku != c.JWKSURI) {
		return jose.JSONWebKey{}, errNoKey
	}
	if c.JWKS != "" && jku == "" {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal([]byte(c.JWKS), &set); err != nil {
			return jose.JSONWebKey{}, errNoKey
		}
		return pickKey(set, h.KeyID, h.Algorithm)
	}
	if c.JWKSURI == "" || s.remoteKeys == nil {
		return jose.JSONWebKey{}, errNoKey
	}
	return s.remoteKeys.Key(ctx, c.JWKSURI, h.KeyID, h.Algorithm)
}

// pickKey returns the one public key of set with kid (or the only one when
// kid is empty) whose declared algorithm, if any, is alg.
func pickKey(set jose.JSONWebKeySet, kid, alg string) (jose.JSONWebKey, error) {
	var found []jose.JSONWebKey
	for _, k := range set.Keys {
		if (kid == "" || k.KeyID == kid) && (k.Algorithm == "" || k.Algorithm == alg) && k.IsPublic() &&
			(k.Use == "" || k.Use == "sig") {
			found = append(found, k)
		}
	}
	if len(found) != 1 {
		return jose.JSONWebKey{}, errNoKey
	}
	return found[0], nil
}

// checkAssertionClaims checks aud, exp, iat, nbf and jti (RFC 7523 §3,
// SMART App Launch §5; D-3: aud is one string, the token endpoint URL or
// the issuer; iat and nbf are optional — I-TOKEN-03).
func (s *Server) checkAssertionClaims(c assertionClaims) error {
	var aud string
	if err := json.Unmarshal(c.Audience, &aud); err != nil || (aud != s.tokenURL() && aud != s.issuer) {
		return errAssertion
	}
	now := s.now()
	if c.Expiry == nil {
		return errAssertion
	}
	exp := time.Unix(int64(*c.Expiry), 0)
	if !now.Before(exp.Add(assertionSkew)) || exp.Sub(now) > maxAssertionLifetime+assertionSkew {
		return errAssertion
	}
	if c.IssuedAt != nil && time.Unix(int64(*c.IssuedAt), 0).After(now.Add(assertionSkew)) {
		return errAssertion
	}
	if c.NotBefore != nil && time.Unix(int64(*c.NotBefore), 0).After(now.Add(assertionSkew)) {
		return errAssertion
	}
	if c.ID == "" || len(c.ID) > maxJTI {
		return errAssertion
	}
	return nil
}
