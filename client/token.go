package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Token is an access token with its refresh token. The fields after JKT
// are the TokenStore's bookkeeping of the never-twice rule (see the
// package documentation); apps only read them.
type Token struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"` // "Bearer" or "DPoP"
	RefreshToken string    `json:"refresh_token,omitempty"`
	Scope        string    `json:"scope,omitempty"`
	Expiry       time.Time `json:"expiry"`
	// JKT is the thumbprint of the DPoP key the token is bound to.
	JKT string `json:"jkt,omitempty"`

	// Claim, when set, says that Claim.By is presenting RefreshToken now.
	Claim *Claim `json:"claim,omitempty"`
	// Ended, when set, says the authorization is over (or its refresh
	// token spent) and why; the app must ask the user to sign in again.
	Ended string `json:"ended,omitempty"`
}

// Claim marks a refresh in progress in a TokenStore.
type Claim struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// fresh reports whether t's access token is usable at now with margin to spare.
func (t *Token) fresh(now time.Time, margin time.Duration) bool {
	return t != nil && t.AccessToken != "" && t.Ended == "" && (t.Expiry.IsZero() || now.Add(margin).Before(t.Expiry))
}

// AuthError is an OAuth error response (RFC 6749 §4.1.2.1 on the redirect,
// §5.2 from the token endpoint).
type AuthError struct {
	Code        string // such as "access_denied" or "invalid_grant"
	Description string
	URI         string
	Status      int // the HTTP status of a token endpoint error; 0 on a redirect
}

func (e *AuthError) Error() string {
	if e.Description != "" {
		return "oauth: " + e.Code + ": " + e.Description
	}
	return "oauth: " + e.Code
}

var (
	// ErrAuthorizationEnded reports that the authorization is over: the
	// server answered invalid_grant to a refresh, or the stored refresh
	// token is spent. The app must ask the user to sign in again. The
	// returned error wraps it and, when the server said why, an *AuthError.
	ErrAuthorizationEnded = errors.New("client: the authorization has ended; sign in again")
	// ErrRefreshLost reports a refresh whose answer never arrived: the
	// refresh token may have been used, so it is spent and never retried.
	// errors.Is(err, ErrAuthorizationEnded) is true for it too.
	ErrRefreshLost = fmt.Errorf("client: refresh response lost, the refresh token is spent: %w", ErrAuthorizationEnded)
)

// tokenResponse is the token endpoint's answer (RFC 6749 §5.1 with SMART's
// launch context, SMART App Launch §2.1.7).
type tokenResponse struct {
	AccessToken  string           `json:"access_token"`
	TokenType    string           `json:"token_type"`
	ExpiresIn    int64            `json:"expires_in"`
	Scope        string           `json:"scope"`
	RefreshToken string           `json:"refresh_token"`
	IDToken      string           `json:"id_token"`
	Patient      string           `json:"patient"`
	Encounter    string           `json:"encounter"`
	FHIRContext  []map[string]any `json:"fhirContext"`
}

// errLost marks a token request whose outcome is unknown.
var errLost = errors.New("token response lost")

// errNotSent marks a token request that never reached the server: its
// headers were never written, so the grant in it was not used.
var errNotSent = errors.New("token request not sent")

// postToken posts form to the token endpoint with client authentication
// and, with a DPoP key, a proof carrying the server's nonce; a
// use_dpop_nonce answer (the proof refused before the grant was read,
// RFC 9449 §8) is retried once with the new nonce. A request whose
// headers were never written wraps errNotSent; other transport errors,
// 5xx answers and unreadable bodies wrap errLost; error answers are
// *AuthError.
func (c *Client) postToken(ctx context.Context, form url.Values, key *dpopKey) (*tokenResponse, error) {
	u, err := url.Parse(c.disc.TokenEndpoint)
	if err != nil {
		return nil, err
	}
	if c.cfg.ClientSecret == "" && form.Get("client_assertion") == "" {
		form.Set("client_id", c.cfg.ClientID)
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		if c.cfg.ClientSecret != "" {
			req.SetBasicAuth(url.QueryEscape(c.cfg.ClientID), url.QueryEscape(c.cfg.ClientSecret))
		}
		if key != nil {
			p, err := key.proof(http.MethodPost, u, c.nonce(originOf(u)), "", c.now().Unix())
			if err != nil {
				return nil, err
			}
			req.Header.Set("DPoP", p)
		}
		// Whether the request left is what was written, not what the
		// error looks like: a TLS or connection error after the headers
		// went out may come after the server used the grant.
		var wrote atomic.Bool
		req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }}))
		resp, err := c.hc.Do(req)
		if err != nil && !wrote.Load() {
			return nil, fmt.Errorf("%w: %w", errNotSent, err)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errLost, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		c.setNonce(originOf(u), resp.Header.Get("DPoP-Nonce"))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errLost, err)
		}
		if resp.StatusCode == http.StatusOK {
			var tr tokenResponse
			if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
				return nil, fmt.Errorf("%w: unreadable token response", errLost)
			}
			return &tr, nil
		}
		if resp.StatusCode >= 500 {
			return nil, fmt.Errorf("%w: %s", errLost, resp.Status)
		}
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
			URI         string `json:"error_uri"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
			return nil, fmt.Errorf("%w: token endpoint answered %s", errLost, resp.Status)
		}
		ae := &AuthError{Code: e.Error, Description: e.Description, URI: e.URI, Status: resp.StatusCode}
		if ae.Code == "use_dpop_nonce" && key != nil && attempt == 0 && resp.Header.Get("DPoP-Nonce") != "" {
			continue
		}
		return nil, ae
	}
}

// token turns a token response into a Token.
func (c *Client) token(tr *tokenResponse, key *dpopKey) *Token {
	t := &Token{AccessToken: tr.AccessToken, TokenType: tr.TokenType, RefreshToken: tr.RefreshToken, Scope: tr.Scope}
	if tr.ExpiresIn > 0 {
		t.Expiry = c.now().Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	if key != nil && strings.EqualFold(tr.TokenType, "DPoP") {
		t.JKT = key.jkt
	}
	return t
}
