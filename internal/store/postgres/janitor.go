package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// janitorLock is the transaction-level advisory lock one sweep holds, so
// that of several instances sweeping at once one works and the others
// return at once instead of contending for the same rows ("smartjan").
const janitorLock int64 = 0x736d6172746a616e

// DeleteStaleRefreshTokens implements store.RefreshTokens: first tokens
// expired or of ended or expired authorizations, then used tokens beyond
// the keep most recent of their authorization, at most limit in all, in
// one transaction holding janitorLock; 0 when another instance holds it.
func (db *DB) DeleteStaleRefreshTokens(ctx context.Context, now time.Time, keep, limit int) (int, error) {
	n := 0
	err := db.inTx(ctx, "delete stale refresh tokens", func(tx pgx.Tx) error {
		n = 0
		var mine bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, janitorLock).Scan(&mine); err != nil || !mine {
			return err
		}
		for i, q := range []string{
			`DELETE FROM refresh_tokens WHERE hash IN (
				SELECT r.hash FROM refresh_tokens r LEFT JOIN authorizations a ON a.id = r.authorization_id
				WHERE (r.expires_at IS NOT NULL AND r.expires_at <= $1) OR a.id IS NULL OR a.ended_at IS NOT NULL
					OR (a.expires_at IS NOT NULL AND a.expires_at <= $1)
				LIMIT $2)`,
			`DELETE FROM refresh_tokens WHERE hash IN (
				SELECT hash FROM (SELECT hash, row_number() OVER (
					PARTITION BY authorization_id ORDER BY used_at DESC, hash DESC) AS n
					FROM refresh_tokens WHERE used_at IS NOT NULL) x
				WHERE n > $1 LIMIT $2)`,
		} {
			if n >= limit {
				break
			}
			first := any(micros(now))
			if i == 1 {
				first = keep
			}
			tag, err := tx.Exec(ctx, q, first, limit-n)
			if err != nil {
				return err
			}
			n += int(tag.RowsAffected())
		}
		return nil
	})
	return n, err
}
