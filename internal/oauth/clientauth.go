package oauth

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// authenticateClient identifies the client of a token, introspection or
// revocation request (see identifyClient), and records each failure in
// the audit trail with the client it claimed to be.
func (s *Server) authenticateClient(r *http.Request, p params) (store.Client, error) {
	c, err := s.identifyClient(r, p)
	var oe *Error
	if errors.As(err, &oe) && oe.Code == ErrInvalidClient {
		claimed, reason := p.get("client_id"), oe.Description
		if id, _, ok := r.BasicAuth(); ok {
			claimed, _ = url.QueryUnescape(id)
		}
		var f *authFailure
		if errors.As(oe.Cause, &f) {
			reason = f.reason
			if f.client != "" {
				claimed = f.client
			}
		}
		s.audit.Record(r.Context(), store.AuditEvent{Type: audit.ClientAuthFailed, ClientID: claimedID(claimed), Detail: reason})
	}
	return c, err
}

// authFailure is why a client's authentication failed, kept as the Cause
// of the invalid_client error (never sent) for the audit trail.
type authFailure struct {
	client string // the client the request claimed to be, if known
	reason string
}

func (f *authFailure) Error() string { return f.reason }

// claimedID makes a client id an unauthenticated request claimed fit to
// store: valid UTF-8 without control characters (PostgreSQL refuses NUL),
// at most 128 bytes, cut between characters.
func claimedID(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	for len(s) > 128 {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// identifyClient identifies the client of a token, introspection or
// revocation request by the one method it uses (RFC 6749 §2.3: never more
// than one): a signed assertion (private_key_jwt, RFC 7523 §2.2, SMART's
// client-confidential-asymmetric), HTTP Basic or a client_secret in the
// body (client-confidential-symmetric, RFC 6749 §2.3.1), or, for a public
// client, its client_id alone. Every failure is invalid_client with no
// detail that would help an attacker tell which part was wrong.
func (s *Server) identifyClient(r *http.Request, p params) (store.Client, error) {
	_, hasAssertion := p["client_assertion"]
	_, hasAssertionType := p["client_assertion_type"]
	_, hasSecret := p["client_secret"]
	id, secret, basic := r.BasicAuth()
	methods := 0
	for _, used := range []bool{hasAssertion || hasAssertionType, hasSecret, basic} {
		if used {
			methods++
		}
	}
	if methods > 1 {
		return store.Client{}, newError(ErrInvalidRequest, "use exactly one client authentication method")
	}
	switch {
	case hasAssertion || hasAssertionType:
		return s.authenticateAssertion(r, p)
	case basic:
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return store.Client{}, newError(ErrInvalidClient, "malformed client credentials")
		}
		if body := p.get("client_id"); body != "" && body != id {
			return store.Client{}, newError(ErrInvalidRequest, "client_id differs from the authenticated client")
		}
		return s.authenticateSecret(r, id, secret)
	case hasSecret:
		return s.authenticateSecret(r, p.get("client_id"), p.get("client_secret"))
	}
	id = p.get("client_id")
	if id == "" && p.get("grant_type") == "refresh_token" && p.get("refresh_token") != "" {
		// A public app need not name itself when refreshing (RFC 6749 §6,
		// R-LAUNCH-68): the refresh token says whose it is. Confidential
		// apps still authenticate, below.
		rt, err := s.st.GetRefreshToken(r.Context(), store.Hash(p.get("refresh_token")))
		if err == nil {
			id = rt.ClientID
		}
	}
	if id == "" {
		return store.Client{}, newError(ErrInvalidClient, "client authentication is required")
	}
	c, err := s.lookupClient(r, id)
	if err != nil {
		return c, err
	}
	if c.Type != store.ClientPublic {
		return store.Client{}, newError(ErrInvalidClient, "client authentication is required")
	}
	return c, nil
}

// lookupClient returns the client, or invalid_client if there is none.
func (s *Server) lookupClient(r *http.Request, id string) (store.Client, error) {
	c, err := s.st.GetClient(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, newError(ErrInvalidClient, "client authentication failed")
	}
	if err != nil {
		return store.Client{}, serverError(err)
	}
	return c, nil
}

// authenticateSecret checks a confidential-symmetric client's secret
// against the SHA-256 of its current secret and, during the overlap after
// a rotation, of its previous one, in constant time. The secrets are
// generated with 256 bits of entropy, so a fast hash is enough.
func (s *Server) authenticateSecret(r *http.Request, id, secret string) (store.Client, error) {
	fail := newError(ErrInvalidClient, "client authentication failed")
	if id == "" || secret == "" {
		return store.Client{}, fail
	}
	c, err := s.lookupClient(r, id)
	if err != nil {
		return store.Client{}, err
	}
	if c.Type != store.ClientConfidentialSymmetric {
		return store.Client{}, fail
	}
	got := []byte(store.Hash(secret))
	ok := subtle.ConstantTimeCompare(got, []byte(c.SecretHash)) == 1
	prev := c.PreviousSecretHash != "" && s.now().Before(c.PreviousSecretExpiresAt) &&
		subtle.ConstantTimeCompare(got, []byte(c.PreviousSecretHash)) == 1
	if !ok && !prev {
		return store.Client{}, fail
	}
	return c, nil
}
