package store

import (
	"context"
	"time"
)

// ReplayCache remembers one-time values until they expire: the jti of DPoP
// proofs (RFC 9449 §11.1) and, later, of client assertions (RFC 7523 §3).
// It is persistent and shared by every server instance using the store, so a
// value seen once is refused again after a restart and on another instance.
//
// Keys are opaque to the store. Callers prefix them with what they protect
// (for example "dpop:") and keep them short, hashing untrusted input; a key
// is at most a few hundred bytes.
type ReplayCache interface {
	// Remember records key until expiresAt and reports true, or reports
	// false, changing nothing, if key is already recorded and its expiry is
	// after now (a replay). A key whose expiry is at or before now is
	// forgotten and may be recorded again. Of any number of concurrent calls
	// with one key exactly one reports true. now and expiresAt must not be
	// the zero time.
	Remember(ctx context.Context, key string, expiresAt, now time.Time) (bool, error)
	// DeleteExpiredReplays deletes the keys whose expiry is at or before now
	// and returns how many it deleted.
	DeleteExpiredReplays(ctx context.Context, now time.Time) (int, error)
}
