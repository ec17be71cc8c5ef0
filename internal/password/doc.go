// Package password hashes and checks user passwords with argon2id (RFC 9106),
// encoded as PHC strings ("$argon2id$v=19$m=...,t=...,p=...$salt$hash").
//
// It is imported by the consent pages (to check a sign-in) and by the
// command line (to create users); it imports only the standard library and
// golang.org/x/crypto.
package password
