// Package keys owns the server's own signing keys: it creates an RSA key on
// first start, keeps it in the store so tokens survive restarts, signs JWTs
// (access tokens per RFC 9068 and OpenID Connect id_tokens, both RS256),
// verifies the server's own tokens, and publishes the public JWK Set.
//
// It is imported by internal/oauth and internal/server and imports only
// internal/store and go-jose.
package keys
