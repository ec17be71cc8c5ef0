package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// RotateRefreshToken implements store.RefreshTokens (RFC 9700 §4.14.2,
// refresh token rotation): atomically it marks the old token used (a
// compare-and-set on used_at IS NULL), inserts next, and sets the
// authorization's last_used_at to now. A losing or later caller gets the
// old token, as stored, with store.ErrAlreadyUsed, and nothing of its next
// is stored. The returned old token carries UsedAt and ReplacedBy. now must
// not be the zero time. The change is group-committed (see batch.go) and
// durable before it returns.
func (db *DB) RotateRefreshToken(ctx context.Context, oldHash string, next store.RefreshToken, now time.Time, ev store.AuditEvent) (store.RefreshToken, error) {
	if now.IsZero() {
		return store.RefreshToken{}, wrap("rotate refresh token", errZeroTime)
	}
	var old store.RefreshToken
	err := db.inBatch(ctx, "rotate refresh token", func(ctx context.Context, tx *sql.Tx) error {
		var err error
		old, err = rotateStatements(ctx, tx, oldHash, next, now)
		if err != nil || ev.Type == "" {
			return err
		}
		if ev.At.IsZero() {
			ev.At = now
		}
		_, err = insertAuditEvent(ctx, tx, ev)
		return err
	})
	switch {
	case errors.Is(err, errKeep):
		return old, wrap("rotate refresh token", store.ErrAlreadyUsed)
	case err != nil:
		return store.RefreshToken{}, wrap("rotate refresh token", err)
	}
	return old, nil
}

func rotateStatements(ctx context.Context, tx *sql.Tx, oldHash string, next store.RefreshToken, now time.Time) (store.RefreshToken, error) {
	old, err := scanRefreshToken(tx.QueryRowContext(ctx,
		`UPDATE refresh_tokens SET used_at = ?, replaced_by = ?
		WHERE hash = ? AND used_at IS NULL RETURNING `+refreshTokenColumns,
		micros(now), next.Hash, oldHash))
	if errors.Is(err, sql.ErrNoRows) {
		old, err = scanRefreshToken(tx.QueryRowContext(ctx,
			`SELECT `+refreshTokenColumns+` FROM refresh_tokens WHERE hash = ?`, oldHash))
		if err != nil {
			return store.RefreshToken{}, err
		}
		return old, errKeep
	}
	if err != nil {
		return store.RefreshToken{}, err
	}
	if err := insertRefreshToken(ctx, tx, next); err != nil {
		return store.RefreshToken{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE authorizations SET last_used_at = ? WHERE id = ?`,
		micros(now), old.AuthorizationID); err != nil {
		return store.RefreshToken{}, err
	}
	return old, nil
}
