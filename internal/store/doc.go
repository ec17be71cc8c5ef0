// Package store defines smartlaunch's persistent records and the small
// interfaces through which every other package reads and changes them.
//
// A backend (internal/store/sqlite, later internal/store/postgres) implements
// Store; consumers declare and accept only the subset of interfaces they use.
// Every method takes a context first and is atomic: security transitions
// (consuming an authorization code, rotating a refresh token, ending an
// authorization) are single methods, never read-modify-write sequences in a
// caller. The contract is written down as code in internal/store/storetest,
// which every backend's tests run.
//
// Times are stored with at least microsecond precision and returned in UTC.
// A zero time.Time means "not set". Secrets, codes and refresh tokens are
// never stored in the clear: callers pass their SHA-256 hashes (see Hash).
//
// Package store may be imported by any internal package; it imports only the
// standard library.
package store
