// Command tokens measures the token endpoint for backend services
// (client_credentials with private_key_jwt ES384 and RS384 assertions, and
// with client_secret_basic) and the introspection endpoint, over HTTP
// against a real server on SQLite, at several concurrency levels. See
// bench/README.md.
package main
