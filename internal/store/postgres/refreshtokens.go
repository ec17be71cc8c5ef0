package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const refreshTokenColumns = `hash, authorization_id, client_id, created_at, expires_at, used_at, replaced_by, jkt`

// CreateRefreshToken implements store.RefreshTokens.
func (db *DB) CreateRefreshToken(ctx context.Context, t store.RefreshToken) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO refresh_tokens (`+refreshTokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		t.Hash, t.AuthorizationID, t.ClientID, micros(t.CreatedAt), micros(t.ExpiresAt),
		micros(t.UsedAt), t.ReplacedBy, t.JKT)
	return wrap("create refresh token", err)
}

// GetRefreshToken implements store.RefreshTokens.
func (db *DB) GetRefreshToken(ctx context.Context, hash string) (store.RefreshToken, error) {
	t, err := scanRefreshToken(db.pool.QueryRow(ctx,
		`SELECT `+refreshTokenColumns+` FROM refresh_tokens WHERE hash = $1`, hash))
	if err != nil {
		return store.RefreshToken{}, wrap("get refresh token", err)
	}
	return t, nil
}

// rotateQuery is the whole rotation as one statement, so one round trip
// and atomic: old marks the token used (the compare-and-set on used_at IS
// NULL), next inserts its successor only if old changed a row, and touch
// sets the authorization's last use, and audit appends the event, if any.
// A successor whose hash is taken fails
// the statement with a unique violation, undoing old as well.
const rotateQuery = `WITH old AS (
	UPDATE refresh_tokens SET used_at = $1, replaced_by = $2
	WHERE hash = $3 AND used_at IS NULL RETURNING ` + refreshTokenColumns + `
), next AS (
	INSERT INTO refresh_tokens (` + refreshTokenColumns + `)
	SELECT $2, $4, $5, $6, $7, $8, $9, $10 FROM old
), touch AS (
	UPDATE authorizations SET last_used_at = $1 WHERE id = (SELECT authorization_id FROM old)
), audit AS (
	INSERT INTO audit_events (at, type, user_id, client_id, authorization_id, detail, address)
	SELECT $11, $12, $13, $14, $15, $16, $17 FROM old WHERE $12::text <> ''
)
SELECT ` + refreshTokenColumns + ` FROM old`

// RotateRefreshToken implements store.RefreshTokens (RFC 9700 §4.14.2,
// refresh token rotation): atomically it marks the old token used, inserts
// next, and sets the authorization's last_used_at to now. Concurrent
// callers wait for the first to commit and then find the token used; a
// losing or later caller gets the old token, as stored, with
// store.ErrAlreadyUsed, and nothing of its next is stored. now must not be
// the zero time. The commit is durable before it returns.
func (db *DB) RotateRefreshToken(ctx context.Context, oldHash string, next store.RefreshToken, now time.Time, ev store.AuditEvent) (store.RefreshToken, error) {
	const op = "rotate refresh token"
	if now.IsZero() {
		return store.RefreshToken{}, wrap(op, errZeroTime)
	}
	if ev.At.IsZero() {
		ev.At = now
	}
	old, err := scanRefreshToken(db.pool.QueryRow(ctx, rotateQuery,
		micros(now), next.Hash, oldHash, next.AuthorizationID, next.ClientID, micros(next.CreatedAt),
		micros(next.ExpiresAt), micros(next.UsedAt), next.ReplacedBy, next.JKT,
		micros(ev.At), ev.Type, ev.UserID, ev.ClientID, ev.AuthorizationID, ev.Detail, ev.Address))
	if err == nil {
		return old, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return store.RefreshToken{}, wrap(op, err)
	}
	// Not rotated: used before (used_at never goes back to NULL) or unknown.
	old, err = scanRefreshToken(db.pool.QueryRow(ctx,
		`SELECT `+refreshTokenColumns+` FROM refresh_tokens WHERE hash = $1`, oldHash))
	if err != nil {
		return store.RefreshToken{}, wrap(op, err)
	}
	return old, wrap(op, store.ErrAlreadyUsed)
}

func scanRefreshToken(r pgx.Row) (store.RefreshToken, error) {
	var (
		t                      store.RefreshToken
		created, expires, used *int64
	)
	if err := r.Scan(&t.Hash, &t.AuthorizationID, &t.ClientID, &created, &expires, &used,
		&t.ReplacedBy, &t.JKT); err != nil {
		return store.RefreshToken{}, err
	}
	t.CreatedAt, t.ExpiresAt, t.UsedAt = timeOf(created), timeOf(expires), timeOf(used)
	return t, nil
}
