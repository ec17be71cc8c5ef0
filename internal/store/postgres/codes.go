package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const codeColumns = `hash, authorization_id, client_id, redirect_uri, code_challenge, nonce,
	created_at, expires_at, used_at`

// CreateCode implements store.Codes.
func (db *DB) CreateCode(ctx context.Context, c store.Code) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO codes (`+codeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.Hash, c.AuthorizationID, c.ClientID, c.RedirectURI, c.CodeChallenge, c.Nonce,
		micros(c.CreatedAt), micros(c.ExpiresAt), micros(c.UsedAt))
	return wrap("create code", err)
}

// ConsumeCode implements store.Codes (RFC 6749 §4.1.2: a code is used at
// most once). The compare-and-set is one UPDATE ... RETURNING: concurrent
// callers wait for the first to commit, then find used_at set and change
// nothing; they read the used code and get store.ErrAlreadyUsed. now must
// not be the zero time.
func (db *DB) ConsumeCode(ctx context.Context, hash string, now time.Time) (store.Code, error) {
	if now.IsZero() {
		return store.Code{}, wrap("consume code", errZeroTime)
	}
	c, err := scanCode(db.pool.QueryRow(ctx,
		`UPDATE codes SET used_at = $1 WHERE hash = $2 AND used_at IS NULL RETURNING `+codeColumns,
		micros(now), hash))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return store.Code{}, wrap("consume code", err)
	}
	// No unused code: either it was used (used_at never goes back to
	// NULL, so this read cannot race into a false "not found") or unknown.
	c, err = scanCode(db.pool.QueryRow(ctx, `SELECT `+codeColumns+` FROM codes WHERE hash = $1`, hash))
	if err != nil {
		return store.Code{}, wrap("consume code", err)
	}
	return c, wrap("consume code", store.ErrAlreadyUsed)
}

func scanCode(row pgx.Row) (store.Code, error) {
	var (
		c                      store.Code
		created, expires, used *int64
	)
	if err := row.Scan(&c.Hash, &c.AuthorizationID, &c.ClientID, &c.RedirectURI, &c.CodeChallenge,
		&c.Nonce, &created, &expires, &used); err != nil {
		return store.Code{}, err
	}
	c.CreatedAt, c.ExpiresAt, c.UsedAt = timeOf(created), timeOf(expires), timeOf(used)
	return c, nil
}

// DeleteExpiredCodes implements store.Codes.
func (db *DB) DeleteExpiredCodes(ctx context.Context, now time.Time) (int, error) {
	return db.deleteExpired(ctx, "codes", now)
}
