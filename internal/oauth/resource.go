package oauth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/smartlaunch/smartlaunch/internal/dpop"
)

// ResourceError refuses a resource request's credentials and says which
// challenge to answer with (RFC 6750 §3, RFC 9449 §7.1).
type ResourceError struct {
	// Scheme is "Bearer" or "DPoP".
	Scheme string
	// Code is the error attribute: "" when no credentials were sent,
	// "invalid_token", "invalid_dpop_proof", "use_dpop_nonce" or
	// "invalid_request".
	Code        string
	Description string
	// Nonce, when set, goes in a DPoP-Nonce header.
	Nonce string
}

func (e *ResourceError) Error() string {
	return "oauth: resource request refused: " + e.Scheme + " " + e.Code + ": " + e.Description
}

// VerifyResourceRequest checks the credentials of a request to the FHIR
// API, reached at publicURL (scheme, host and path as clients see them):
// "Authorization: Bearer" with an unbound token, or "Authorization: DPoP"
// with a DPoP-bound token and a proof by its key over this method and URL,
// carrying the token's hash (RFC 9449 §7). A bound token presented as a
// bearer token is refused, so a stolen one is useless without the key.
// Errors are *ResourceError, or an internal error for the caller to
// answer with 500.
func (s *Server) VerifyResourceRequest(r *http.Request, publicURL string) (AccessClaims, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || token == "" || (!strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "DPoP")) {
		return AccessClaims{}, &ResourceError{Scheme: "Bearer", Description: "an access token is required"}
	}
	isDPoP := strings.EqualFold(scheme, "DPoP")
	c, err := s.VerifyAccessToken(r.Context(), token)
	if errors.Is(err, ErrInvalidToken) {
		return AccessClaims{}, &ResourceError{Scheme: schemeName(isDPoP), Code: "invalid_token", Description: "the access token is invalid or expired"}
	}
	if err != nil {
		return AccessClaims{}, err
	}
	bound := c.Confirmation != nil
	switch {
	case bound && !isDPoP:
		s.dpopFailed(dpop.ReasonBoundAsBearer)
		return AccessClaims{}, &ResourceError{Scheme: "DPoP", Code: "invalid_token", Description: "this token is bound to a key: present it with the DPoP scheme and a proof"}
	case !bound && isDPoP:
		return AccessClaims{}, &ResourceError{Scheme: "DPoP", Code: "invalid_token", Description: "this token is not DPoP-bound: present it as a bearer token"}
	case !bound:
		return c, nil
	}
	if s.dpop == nil {
		s.dpopFailed(dpop.ReasonDisabled)
		return AccessClaims{}, &ResourceError{Scheme: "DPoP", Code: "invalid_token", Description: "DPoP is not enabled"}
	}
	header, err := dpop.FromRequest(r)
	if err != nil {
		s.dpopFailed(dpop.FailureReason(err))
		return AccessClaims{}, &ResourceError{Scheme: "DPoP", Code: ErrInvalidDPoPProof, Description: "send exactly one DPoP proof"}
	}
	_, err = s.dpop.Verify(r.Context(), dpop.Request{
		Header: header, Method: r.Method, URL: publicURL, AccessToken: token, JKT: c.Confirmation.JKT,
		RequireNonce: s.dpopResourceNonces,
	})
	s.dpopFailed(dpop.FailureReason(err))
	switch {
	case errors.Is(err, dpop.ErrUseNonce):
		return AccessClaims{}, &ResourceError{Scheme: "DPoP", Code: ErrUseDPoPNonce, Description: "use the server's DPoP nonce", Nonce: s.dpop.Nonce()}
	case errors.Is(err, dpop.ErrInvalidProof):
		return AccessClaims{}, &ResourceError{Scheme: "DPoP", Code: ErrInvalidDPoPProof, Description: dpopReason(err)}
	case err != nil:
		return AccessClaims{}, err
	}
	return c, nil
}

func schemeName(dpop bool) string {
	if dpop {
		return "DPoP"
	}
	return "Bearer"
}
