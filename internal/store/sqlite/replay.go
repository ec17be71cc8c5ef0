package sqlite

import (
	"context"
	"time"
)

// Remember implements store.ReplayCache. It is one upsert: a new key is
// inserted, an expired one has its expiry replaced, and an unexpired one is
// left alone, which changes no row. SQLite runs the statement atomically, so
// of concurrent callers with one key exactly one changes a row.
//
// Durability: a one-time value (a DPoP proof's or client assertion's jti)
// is committed in WAL mode without waiting for the disk flush
// (synchronous=NORMAL on its own pool). It survives a crash of the process;
// an operating-system crash or power loss may forget the last moments of
// them, which could let someone who had already captured such a value
// replay it once within its lifetime of at most five minutes. That trade
// buys the token endpoint its throughput (bench/tokens); refresh-token
// rotations and everything else still wait for the flush.
func (db *DB) Remember(ctx context.Context, key string, expiresAt, now time.Time) (bool, error) {
	if expiresAt.IsZero() || now.IsZero() {
		return false, wrap("remember", errZeroTime)
	}
	res, err := db.stmts.remember.ExecContext(ctx, key, micros(expiresAt), micros(now))
	if err != nil {
		return false, wrap("remember", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrap("remember", err)
	}
	return n == 1, nil
}

// DeleteExpiredReplays implements store.ReplayCache.
func (db *DB) DeleteExpiredReplays(ctx context.Context, now time.Time) (int, error) {
	return db.deleteExpired(ctx, "replay_cache", now)
}
