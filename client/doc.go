// Package client is the SMART App Launch 2.1 client library for app
// developers: discovery, the authorize URL (standalone and EHR launch, PKCE
// S256, state, aud), the callback (state, RFC 9207 iss, error responses),
// the code exchange with a verified id_token, DPoP (RFC 9449) with any
// crypto.Signer, backend services (private_key_jwt with a crypto.Signer),
// a FHIR REST helper and a token source that never presents a refresh
// token twice. It is public and never imports the server's internal
// packages.
//
// # Never presenting a refresh token twice
//
// smartlaunch (like any server following RFC 9700 §4.14.2) ends the whole
// authorization when a used refresh token comes back. A client that spends
// one refresh token from two places — two goroutines, two worker processes,
// a retry after a lost response — gets its user signed out. TokenSource
// prevents that with these rules:
//
//  1. Within a process, one refresh at a time: TokenSource holds a mutex
//     around the refresh, so concurrent callers wait and share its result.
//  2. Across processes, the TokenStore is the single source of truth, with
//     compare-and-swap (CAS) on a version number. Before refreshing,
//     TokenSource loads the stored token. If it differs from ours, someone
//     else refreshed: we adopt theirs, with no request.
//  3. Otherwise we CLAIM the refresh: a CAS writes a Claim (claimant and
//     time) into the stored token. Only the CAS winner presents the
//     refresh token; everyone else sees the claim and waits for the result.
//  4. The rotated token is stored by CAS while we still hold the claim, and
//     is used only once stored (durable before use).
//  5. If the response is lost (transport error after the request may have
//     been sent, a 5xx, an unreadable body) the token is treated as spent:
//     the stored token is marked Ended and Token returns ErrRefreshLost,
//     for which errors.Is(err, ErrAuthorizationEnded) is also true. The
//     same refresh token is never retried. A request whose headers were
//     never written (the server was unreachable) did not use the token:
//     the claim is released and a later call tries again. So are
//     invalid_client, invalid_dpop_proof and use_dpop_nonce, which a
//     server answers before it reads the grant; any other error spends
//     the token. The request runs on its own context (half of
//     ClaimTimeout), so a caller that gives up cannot make it lost.
//  6. A claim older than Config.ClaimTimeout (default 30 s) means its
//     claimant died or hung mid-refresh, maybe after presenting the token.
//     It is never silently reused: the waiter marks the stored token Ended
//     and reports ErrAuthorizationEnded.
//  7. invalid_grant on refresh means the server ended the authorization:
//     the stored token is marked Ended and Token returns an error wrapping
//     ErrAuthorizationEnded and the server's error_description (*AuthError).
//
// The one request that carries a refresh token again is the retry after a
// use_dpop_nonce answer: the server refuses the proof before it reads the
// grant (RFC 9449 §8), so the token was not used. TokenSource caches the
// server's nonce from every token response, so this is rare.
//
// Without Config.Store a Client keeps tokens in memory (rules 1, 4, 5 and
// 7 still hold). Use NewFileStore or NewSQLiteStore to share one
// authorization between processes.
//
// # Secrets at rest
//
// NewFileStore and NewSQLiteStore keep tokens encrypted when given
// WithSealer: package seal supplies a key from the OS keyring, or one
// derived from a passphrase with argon2id. An app that needs the FHIR
// server only while its user is present sets Config.OnlineOnly: it never
// requests offline_access and keeps tokens only in memory.
//
// Who may import it: anyone. It imports only the standard library,
// go-jose, modernc.org/sqlite, and smartlaunch's public smart and
// client/seal packages.
package client
