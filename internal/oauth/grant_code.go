package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// pkceVerifier is the code_verifier syntax of RFC 7636 §4.1.
var pkceVerifier = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// grantAuthorizationCode redeems a code (RFC 6749 §4.1.3). The code is
// consumed first, atomically, so it is single-use whatever else fails; a
// second valid redemption ends the authorization and with it every token
// the first one produced (RFC 6749 §4.1.2).
func (s *Server) grantAuthorizationCode(r *http.Request, client store.Client, p params, jkt string) (*tokenResponse, error) {
	ctx := r.Context()
	raw := p.get("code")
	if raw == "" {
		return nil, newError(ErrInvalidRequest, "code is required")
	}
	now := s.now()
	code, err := s.st.ConsumeCode(ctx, store.Hash(raw), now)
	switch {
	case errors.Is(err, store.ErrAlreadyUsed):
		// Only a replay that would otherwise succeed — the right client
		// with the right verifier — ends the authorization (D-2); someone
		// holding just the code must not be able to revoke it.
		if code.ClientID == client.ID && verifyPKCE(p.get("code_verifier"), code.CodeChallenge) {
			s.EndAuthorization(ctx, code.AuthorizationID, store.EndCodeReplay)
		}
		return nil, newError(ErrInvalidGrant, "the code was already used")
	case errors.Is(err, store.ErrNotFound):
		return nil, newError(ErrInvalidGrant, "the code is invalid")
	case err != nil:
		return nil, serverError(err)
	}
	switch {
	case code.ClientID != client.ID:
		return nil, newError(ErrInvalidGrant, "the code was issued to another client")
	case !now.Before(code.ExpiresAt):
		return nil, newError(ErrInvalidGrant, "the code has expired")
	case p.get("redirect_uri") != code.RedirectURI:
		return nil, newError(ErrInvalidGrant, "redirect_uri does not match the authorization request")
	case !verifyPKCE(p.get("code_verifier"), code.CodeChallenge):
		return nil, newError(ErrInvalidGrant, "code_verifier does not match the code_challenge")
	}
	a, err := s.st.GetAuthorization(ctx, code.AuthorizationID)
	if err != nil {
		return nil, serverError(err)
	}
	if !a.Live(now) {
		return nil, endedError(a, now)
	}
	return s.issueTokens(r, client, a, issue{scope: a.Scope, nonce: code.Nonce, first: true, jkt: jkt})
}

// verifyPKCE checks verifier against an S256 challenge (RFC 7636 §4.6).
func verifyPKCE(verifier, challenge string) bool {
	if !pkceVerifier.MatchString(verifier) {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}
