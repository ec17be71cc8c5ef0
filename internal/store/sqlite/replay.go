package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// Remember implements store.ReplayCache. It is one upsert: a new key is
// inserted, an expired one has its expiry replaced, and an unexpired one is
// left alone, which changes no row. SQLite runs the statement atomically, so
// of concurrent callers with one key exactly one changes a row. The write
// is group-committed (see batch.go) and durable before it returns.
func (db *DB) Remember(ctx context.Context, key string, expiresAt, now time.Time) (bool, error) {
	if expiresAt.IsZero() || now.IsZero() {
		return false, wrap("remember", errZeroTime)
	}
	var n int64
	err := db.inBatch(ctx, "remember", func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO replay_cache (key, expires_at) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
			WHERE replay_cache.expires_at <= ?`,
			key, micros(expiresAt), micros(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, wrap("remember", err)
	}
	return n == 1, nil
}

// DeleteExpiredReplays implements store.ReplayCache.
func (db *DB) DeleteExpiredReplays(ctx context.Context, now time.Time) (int, error) {
	return db.deleteExpired(ctx, "replay_cache", now)
}
