package dpop

import "errors"

// Reason names why a request's DPoP proof was refused, in a word fit for a
// metric label. The set is fixed (Reasons), so a label made from it stays
// bounded whatever clients send.
type Reason string

// Reasons a proof is refused. Verify and FromRequest report the ones of
// RFC 9449 §4.3; the callers that require a proof or enforce a binding
// report the others (ReasonDisabled, ReasonBoundAsBearer, and
// ReasonMissing or ReasonKeyMismatch for a bound refresh token).
const (
	// ReasonMissing: no DPoP header where a proof is required.
	ReasonMissing Reason = "missing"
	// ReasonMalformed: not a well-formed proof: more than one header, too
	// large, not a compact JWS, a wrong typ, a disallowed alg, a jwk that
	// is missing, private or does not fit alg, or missing or mistyped
	// claims (steps 1-5, 7).
	ReasonMalformed Reason = "malformed"
	// ReasonBadSignature: the signature does not verify with the jwk
	// (step 6).
	ReasonBadSignature Reason = "bad_signature"
	// ReasonHTM: htm is not the request's method (step 8).
	ReasonHTM Reason = "htm_mismatch"
	// ReasonHTU: htu is not the request's URL (step 9).
	ReasonHTU Reason = "htu_mismatch"
	// ReasonIAT: iat is too old or too far in the future (step 11, §11.1).
	ReasonIAT Reason = "iat_out_of_window"
	// ReasonATH: ath is missing or not the access token's hash (step 12).
	ReasonATH Reason = "ath_mismatch"
	// ReasonNonceMissing: a server nonce is required and the proof has
	// none (§8, §9).
	ReasonNonceMissing Reason = "nonce_missing"
	// ReasonNonceInvalid: the proof's nonce is malformed, was not issued
	// by this server or has expired (§8, §9).
	ReasonNonceInvalid Reason = "nonce_invalid"
	// ReasonKeyMismatch: the proof's key is not the one the access token
	// (cnf.jkt), refresh token or authorization request is bound to (§5,
	// §10, step 12).
	ReasonKeyMismatch Reason = "key_mismatch"
	// ReasonReplay: the proof's jti was already used (§11.1).
	ReasonReplay Reason = "replayed_jti"
	// ReasonDisabled: a proof was sent, or a bound token presented, to a
	// server that has DPoP turned off.
	ReasonDisabled Reason = "disabled"
	// ReasonBoundAsBearer: a DPoP-bound access token was presented as a
	// bearer token, without a proof (§7.1): a stolen token's first use.
	ReasonBoundAsBearer Reason = "bound_as_bearer"
)

// Reasons returns every Reason, so that a metric can show each one, at
// zero, before it first happens. Each call returns a new slice.
func Reasons() []Reason {
	return []Reason{
		ReasonMissing, ReasonMalformed, ReasonBadSignature, ReasonHTM, ReasonHTU, ReasonIAT, ReasonATH,
		ReasonNonceMissing, ReasonNonceInvalid, ReasonKeyMismatch, ReasonReplay, ReasonDisabled, ReasonBoundAsBearer,
	}
}

// FailureReason returns the Reason of an error from Verify or FromRequest
// that wraps ErrInvalidProof or ErrUseNonce, and "" for nil and for any
// other error (the server's own failures).
func FailureReason(err error) Reason {
	var pe *proofError
	if errors.As(err, &pe) {
		return pe.reason
	}
	return ""
}

// proofError is a refused proof: kind is ErrInvalidProof or ErrUseNonce,
// detail names the failed check and holds no value taken from the proof.
type proofError struct {
	kind   error
	reason Reason
	detail string
}

func (e *proofError) Error() string { return e.kind.Error() + ": " + e.detail }
func (e *proofError) Unwrap() error { return e.kind }

// invalid returns an error wrapping ErrInvalidProof for reason, with
// detail, which must hold no value taken from the proof.
func invalid(reason Reason, detail string) error {
	return &proofError{kind: ErrInvalidProof, reason: reason, detail: detail}
}

// useNonce returns an error wrapping ErrUseNonce for reason, with detail.
func useNonce(reason Reason, detail string) error {
	return &proofError{kind: ErrUseNonce, reason: reason, detail: detail}
}
