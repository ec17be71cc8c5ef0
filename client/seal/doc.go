// Package seal encrypts an app's stored secrets — its tokens — at rest,
// with a key from the operating system's keyring when one is available,
// or else with a key derived from a passphrase through argon2id (RFC 9106).
//
// A Sealer turns plaintext into a self-describing sealed blob
// (XChaCha20-Poly1305, a fresh random nonce per seal) and back. The
// additional data binds a blob to its place — a store's path or name — so
// a blob copied elsewhere does not open. client.NewFileStore and
// client.NewSQLiteStore take a Sealer in their options.
//
// Who may import it: anyone. It imports the standard library,
// golang.org/x/crypto and github.com/zalando/go-keyring.
package seal
