// Package dpop verifies DPoP proofs (RFC 9449, OAuth 2.0 Demonstrating
// Proof of Possession): the JWTs a client sends in the DPoP header to prove
// it holds the private key an access or refresh token is bound to.
//
// It owns the proof checks of RFC 9449 §4.3 (one header, a compact JWS,
// typ dpop+jwt, an allowed asymmetric alg, a public embedded jwk that
// verifies the signature, htm, normalized htu, the iat window, ath, the key
// thumbprint a token is bound to), the stateless server nonces of §8 and §9,
// and jti replay detection (§11.1) through a persistent, shared
// ReplayCache, which internal/store provides. It also computes RFC 7638
// JWK thumbprints, the value of a bound token's cnf.jkt (§6).
//
// Every refused proof carries a Reason from a fixed set (FailureReason),
// which callers count in metrics without growing their label sets.
//
// Package dpop is imported by internal/oauth (the token endpoint: proofs,
// bound refresh tokens, dpop_jkt) and internal/fhir (DPoP-bound access
// tokens at the resource server), and constructed in cmd. It imports only
// the standard library and go-jose; the replay cache is an interface it
// declares.
//
// # Keys held in hardware
//
// The server only ever sees a client's public key (in the proof's jwk
// header) and signatures made with the private key. The private key never
// leaves the client and is never sent, so it may live anywhere that can
// sign: a TPM, a phone's secure enclave, a smart card or HSM reached through
// PKCS#11, or a WebCrypto key created non-extractable. A client signs each
// proof with a crypto.Signer backed by that hardware (package client accepts
// any crypto.Signer, and client/pkcs11 provides one for PKCS#11 tokens); an
// attacker who copies the client's tokens and storage still cannot make a
// proof, so the stolen DPoP-bound tokens are useless. The only requirement
// is that the key use one of SigningAlgs (for example ES256 on P-256, which
// nearly every secure element supports).
package dpop
