package oauth

import (
	"errors"
	"net/http"

	"github.com/smartlaunch/smartlaunch/internal/dpop"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// DPoP error codes (RFC 9449 §5, §8).
const (
	ErrInvalidDPoPProof = "invalid_dpop_proof"
	ErrUseDPoPNonce     = "use_dpop_nonce"
)

// tokenDPoP checks the DPoP proof of a token request (RFC 9449 §5) and
// returns the proof key's thumbprint, or "" when the request carries no
// proof and the client is not required to send one. Server nonces are
// required at the token endpoint (D-8).
func (s *Server) tokenDPoP(r *http.Request, client store.Client) (string, error) {
	header, err := dpop.FromRequest(r)
	switch {
	case errors.Is(err, dpop.ErrNoProof):
		if client.RequireDPoP {
			s.dpopFailed(dpop.ReasonMissing)
			return "", s.dpopError(ErrInvalidDPoPProof, "this app must prove possession of its key with DPoP")
		}
		return "", nil
	case err != nil:
		s.dpopFailed(dpop.FailureReason(err))
		return "", s.dpopError(ErrInvalidDPoPProof, "send exactly one DPoP header")
	}
	if s.dpop == nil {
		s.dpopFailed(dpop.ReasonDisabled)
		return "", s.dpopError(ErrInvalidDPoPProof, "DPoP is not enabled on this server")
	}
	proof, err := s.dpop.Verify(r.Context(), dpop.Request{
		Header: header, Method: r.Method, URL: s.tokenURL(), RequireNonce: s.dpopNonces,
	})
	s.dpopFailed(dpop.FailureReason(err))
	switch {
	case errors.Is(err, dpop.ErrUseNonce):
		return "", s.dpopError(ErrUseDPoPNonce, "use the server's DPoP nonce")
	case errors.Is(err, dpop.ErrInvalidProof):
		return "", s.dpopError(ErrInvalidDPoPProof, dpopReason(err))
	case err != nil:
		return "", serverError(err)
	}
	return proof.JKT, nil
}

// dpopError is an OAuth error that also hands the client a fresh nonce.
func (s *Server) dpopError(code, desc string) *Error {
	e := newError(code, desc)
	if s.dpop != nil {
		e.DPoPNonce = s.dpop.Nonce()
	}
	return e
}

// dpopReason is the safe part of a proof error: the failed check's name,
// never material from the proof (the dpop package guarantees this).
func dpopReason(err error) string {
	return err.Error()
}

// checkBoundRefresh enforces the DPoP binding of a refresh token: one
// issued bound to a key works only with a proof by that key (RFC 9449 §5).
func (s *Server) checkBoundRefresh(rt store.RefreshToken, jkt string) error {
	if rt.JKT == "" || rt.JKT == jkt {
		return nil
	}
	if jkt == "" {
		s.dpopFailed(dpop.ReasonMissing)
		return newError(ErrInvalidDPoPProof, "this refresh token is bound to a DPoP key: send a DPoP proof made with it")
	}
	s.dpopFailed(dpop.ReasonKeyMismatch)
	return newError(ErrInvalidDPoPProof, "this refresh token is bound to a different DPoP key")
}
