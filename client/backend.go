package client

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
)

// BackendTokenSource returns a token source for a SMART Backend Services
// client (SMART App Launch §5): client_credentials authenticated by a
// private_key_jwt assertion (RFC 7523) signed with key — ES384 for a P-384
// key, RS384 for RSA — whose header names kid, with iss = sub = clientID,
// aud = the token endpoint, exp = now + 5 min and a random jti. The key may
// live in hardware. There is no refresh token: a new assertion gets each
// new access token.
func BackendTokenSource(ctx context.Context, fhirBase, clientID string, key crypto.Signer, kid string, scopes []string) (*TokenSource, error) {
	c, err := New(ctx, fhirBase, Config{ClientID: clientID, Scopes: scopes})
	if err != nil {
		return nil, err
	}
	return c.BackendTokenSource(key, kid)
}

// BackendTokenSource is the package function for a Client already made
// (its HTTPClient, Now and Scopes are used).
func (c *Client) BackendTokenSource(key crypto.Signer, kid string) (*TokenSource, error) {
	alg, err := algFor(key.Public(), true)
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: cryptosigner.Opaque(key)},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		return nil, fmt.Errorf("client: assertion signer: %w", err)
	}
	ts := &TokenSource{c: c}
	ts.fetch = func(ctx context.Context) (*Token, error) {
		now := c.now()
		payload, err := json.Marshal(map[string]any{
			"iss": c.cfg.ClientID, "sub": c.cfg.ClientID, "aud": c.disc.TokenEndpoint,
			"exp": now.Add(5 * time.Minute).Unix(), "jti": randomString(24),
		})
		if err != nil {
			return nil, err
		}
		jws, err := signer.Sign(payload)
		if err != nil {
			return nil, fmt.Errorf("client: sign assertion: %w", err)
		}
		assertion, err := jws.CompactSerialize()
		if err != nil {
			return nil, err
		}
		tr, err := c.postToken(ctx, url.Values{
			"grant_type":            {"client_credentials"},
			"scope":                 {strings.Join(c.cfg.Scopes, " ")},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {assertion},
		}, nil)
		if err != nil {
			return nil, fmt.Errorf("client: client_credentials: %w", err)
		}
		return c.token(tr, nil), nil
	}
	return ts, nil
}
