// Package keys owns the server's own signing keys: it creates them (RS256
// for OpenID Connect id_tokens, ES256 for RFC 9068 access tokens), keeps
// them in the store so tokens survive restarts — encrypted at rest with
// AES-256-GCM when the operator gives a key-encryption secret — signs JWTs,
// verifies the server's own tokens, and publishes the public JWK Set.
//
// Keys rotate on a schedule (Maintain, run by every instance's janitor):
// the next key is published PublishAhead before it signs, so relying
// parties that cache the JWK Set know it first, and a key that stopped
// signing stays published and trusted until every token it signed has
// expired, then retires. Instances sharing a store agree on one schedule:
// the store adds a next key atomically, so only one instance creates it.
// After a leak, Rotate(immediately) puts new keys in charge at once,
// withdraws the next keys already published, and cuts the old keys' life
// short to the tokens they signed (and moves DeriveSecret's seed). Once a
// key is encrypted at rest, a key in the clear is refused, not adopted.
//
// It is imported by internal/oauth, internal/server and cmd/smartlaunch,
// and imports only internal/store and go-jose.
package keys
