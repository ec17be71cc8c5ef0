package postgres

import (
	"context"
	"time"
)

// Remember implements store.ReplayCache. It is one upsert: a new key is
// inserted, an expired one has its expiry replaced, and an unexpired one is
// left alone, which changes no row. Concurrent inserts of one key wait for
// the first to commit and then take the conflict path, whose WHERE clause
// sees the committed expiry, so exactly one changes a row.
//
// Unlike the SQLite backend, which lets one-time values skip the disk
// flush, the commit is as durable as every other: PostgreSQL flushes the
// commits of concurrent sessions together.
func (db *DB) Remember(ctx context.Context, key string, expiresAt, now time.Time) (bool, error) {
	if expiresAt.IsZero() || now.IsZero() {
		return false, wrap("remember", errZeroTime)
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO replay_cache (key, expires_at) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
		WHERE replay_cache.expires_at <= $3`, key, micros(expiresAt), micros(now))
	if err != nil {
		return false, wrap("remember", err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeleteExpiredReplays implements store.ReplayCache.
func (db *DB) DeleteExpiredReplays(ctx context.Context, now time.Time) (int, error) {
	return db.deleteExpired(ctx, "replay_cache", now)
}
