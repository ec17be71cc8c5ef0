// Package remotekeys fetches and caches the JSON Web Key Sets (RFC 7517)
// that confidential clients publish at their registered jwks_uri, and picks
// the public key that verifies a private_key_jwt client assertion (RFC 7523;
// SMART App Launch 2.1 client-confidential-asymmetric, R-ASYM-05, -16, -17,
// -19).
//
// It owns the outbound side of that feature, which is an SSRF surface
// (attacks.md; RFC 8725 §3.10):
//
//   - CheckURI: a jwks_uri is an https URL without user information or
//     fragment, whose host is a DNS name or an allowed IP literal (http only
//     to loopback literals in development mode).
//   - The address policy, enforced at connect time by a net.Dialer control
//     hook on the resolved address, so DNS rebinding cannot get round it:
//     loopback, private, link-local (cloud metadata included), CGNAT,
//     unspecified, multicast, reserved and special-purpose addresses are
//     refused, as are their IPv4-mapped, NAT64 and 6to4 forms. No proxy is
//     used.
//   - One GET per fetch, within a whole-request timeout; redirects are not
//     followed (a 3xx is an error); the answer must be 200 with a JSON
//     content type and a body no larger than MaxBytes (a larger body is an
//     error, never truncated JSON); no cookies. Errors never include the
//     response body.
//   - The cache honours Cache-Control (max-age less Age, no-store and
//     no-cache; Expires when there is no max-age) within [MinRefetch,
//     MaxTTL], and never uses a set past its lifetime. An unknown kid causes
//     at most one refetch per URL per MinRefetch; so does a failed fetch.
//     Concurrent callers share one fetch.
//
// Key sets are checked as a whole: a set that carries private or symmetric
// key material (d, p, q, dp, dq, qi, oth, k, priv, or kty oct) is refused
// outright rather than stripped, since its owner has leaked a secret and
// may not know which of its keys are safe. Keys this package cannot parse
// are skipped (RFC 7517 §5). A key is suitable for an alg when its kty and
// curve fit (RSA of 2048 to 8192 bits for RS*/PS*, P-256/P-384/P-521 for
// ES256/ES384/ES512, Ed25519 for EdDSA), its use is absent or "sig", its alg
// is absent or equal, and its key_ops, if present, include "verify".
// Exactly one suitable key with the requested kid must exist.
//
// Package remotekeys is imported by internal/oauth (the token endpoint's
// client authentication and client registration) and constructed in cmd.
// It imports only the standard library and go-jose.
package remotekeys
