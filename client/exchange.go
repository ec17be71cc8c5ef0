package client

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Session is the result of a completed launch.
type Session struct {
	Token *Token
	// Launch context (SMART App Launch §2.1.7).
	Patient     string
	Encounter   string
	FHIRContext []map[string]any
	// FHIRUser is the fhirUser claim of the verified id_token, if any.
	FHIRUser string
	// Scope is the granted scope.
	Scope string
}

// ErrStateMismatch reports a callback whose state is not the launch's.
var ErrStateMismatch = errors.New("client: callback state does not match the launch")

// ErrIssuerMismatch reports a callback whose iss is not the discovered
// issuer (RFC 9207 §2.4): a mix-up attack or a misconfiguration.
var ErrIssuerMismatch = errors.New("client: callback iss does not match the authorization server")

// Exchange handles the redirect back to the app: it checks state and the
// RFC 9207 iss parameter, returns an *AuthError for an error response,
// exchanges the code (with PKCE and, with a DPoP key, a proof), verifies
// the id_token when one comes back, and stores the token in Config.Store
// (replacing what was there: a new sign-in starts a new authorization).
func (c *Client) Exchange(ctx context.Context, l Launch, callback *url.URL) (*Session, error) {
	q := callback.Query()
	if l.State == "" || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(l.State)) != 1 {
		return nil, ErrStateMismatch
	}
	// RFC 9207 §2.4: an iss that is not the server's is refused always; a
	// missing one when the server says it always sends it.
	if iss := q.Get("iss"); iss != "" && iss != c.disc.Issuer || iss == "" && c.disc.IssParameter {
		return nil, fmt.Errorf("%w: got %q, want %q", ErrIssuerMismatch, iss, c.disc.Issuer)
	}
	if code := q.Get("error"); code != "" {
		return nil, &AuthError{Code: code, Description: q.Get("error_description"), URI: q.Get("error_uri")}
	}
	code := q.Get("code")
	if code == "" {
		return nil, errors.New("client: callback carries neither code nor error")
	}
	tr, err := c.postToken(ctx, url.Values{
		"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {c.cfg.RedirectURI}, "code_verifier": {l.Verifier},
	}, c.dpop)
	if err != nil {
		return nil, fmt.Errorf("client: code exchange: %w", err)
	}
	s := &Session{Token: c.token(tr, c.dpop), Patient: tr.Patient, Encounter: tr.Encounter,
		FHIRContext: tr.FHIRContext, Scope: tr.Scope}
	if tr.IDToken != "" {
		claims, err := c.verifyIDToken(ctx, tr.IDToken, l.Nonce)
		if err != nil {
			return nil, err
		}
		s.FHIRUser = claims.FHIRUser
	}
	if err := c.replace(ctx, s.Token); err != nil {
		return nil, err
	}
	return s, nil
}

// replace stores t as the current token whatever the store holds.
func (c *Client) replace(ctx context.Context, t *Token) error {
	for {
		_, v, err := c.cfg.Store.Load(ctx)
		if err != nil {
			return fmt.Errorf("client: load token: %w", err)
		}
		err = c.cfg.Store.CompareAndSwap(ctx, v, t)
		if !errors.Is(err, ErrConflict) {
			if err != nil {
				return fmt.Errorf("client: store token: %w", err)
			}
			return nil
		}
	}
}

// IDClaims are the id_token claims the client checks and reads.
type IDClaims struct {
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience json.RawMessage `json:"aud"`
	Expiry   int64           `json:"exp"`
	IssuedAt int64           `json:"iat"`
	Nonce    string          `json:"nonce"`
	FHIRUser string          `json:"fhirUser"`
}

// ErrInvalidIDToken reports an id_token that failed verification.
var ErrInvalidIDToken = errors.New("client: invalid id_token")

// verifyIDToken checks an id_token (OpenID Connect Core §3.1.3.7): an RS256
// signature by a key of the server's JWKS, iss, aud, exp and the nonce.
func (c *Client) verifyIDToken(ctx context.Context, raw, nonce string) (*IDClaims, error) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidIDToken, err)
	}
	if c.disc.JWKSURI == "" {
		return nil, fmt.Errorf("%w: the server publishes no jwks_uri", ErrInvalidIDToken)
	}
	var set jose.JSONWebKeySet
	if err := getJSON(ctx, c.hc, c.disc.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("%w: jwks: %w", ErrInvalidIDToken, err)
	}
	kid := jws.Signatures[0].Header.KeyID
	var payload []byte
	for _, k := range set.Keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		if p, err := jws.Verify(k.Key); err == nil {
			payload = p
			break
		}
	}
	if payload == nil {
		return nil, fmt.Errorf("%w: no key of the server's JWKS verifies it", ErrInvalidIDToken)
	}
	var cl IDClaims
	if err := json.Unmarshal(payload, &cl); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidIDToken, err)
	}
	var auds []string
	if err := json.Unmarshal(cl.Audience, &auds); err != nil {
		var one string
		_ = json.Unmarshal(cl.Audience, &one)
		auds = []string{one}
	}
	switch now := c.now(); {
	case cl.Issuer != c.disc.Issuer:
		return nil, fmt.Errorf("%w: iss %q, want %q", ErrInvalidIDToken, cl.Issuer, c.disc.Issuer)
	case !slices.Contains(auds, c.cfg.ClientID):
		return nil, fmt.Errorf("%w: aud %v does not name this client", ErrInvalidIDToken, auds)
	case !now.Before(time.Unix(cl.Expiry, 0).Add(time.Minute)):
		return nil, fmt.Errorf("%w: expired", ErrInvalidIDToken)
	case nonce != "" && cl.Nonce != nonce:
		return nil, fmt.Errorf("%w: nonce mismatch", ErrInvalidIDToken)
	}
	return &cl, nil
}
