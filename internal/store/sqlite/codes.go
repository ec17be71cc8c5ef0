package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const codeColumns = `hash, authorization_id, client_id, redirect_uri, code_challenge, nonce,
	created_at, expires_at, used_at`

// CreateCode implements store.Codes.
func (db *DB) CreateCode(ctx context.Context, c store.Code) error {
	_, err := db.sql.ExecContext(ctx,
		`INSERT INTO codes (`+codeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Hash, c.AuthorizationID, c.ClientID, c.RedirectURI, c.CodeChallenge, c.Nonce,
		micros(c.CreatedAt), micros(c.ExpiresAt), micros(c.UsedAt))
	return wrap("create code", err)
}

// ConsumeCode implements store.Codes (RFC 6749 §4.1.2: a code is used at
// most once). The compare-and-set is one UPDATE ... RETURNING, so of
// concurrent callers exactly one sees the row; the rest read the used code
// and get store.ErrAlreadyUsed. now must not be the zero time.
func (db *DB) ConsumeCode(ctx context.Context, hash string, now time.Time) (store.Code, error) {
	if now.IsZero() {
		return store.Code{}, wrap("consume code", errZeroTime)
	}
	c, err := scanCode(db.sql.QueryRowContext(ctx,
		`UPDATE codes SET used_at = ? WHERE hash = ? AND used_at IS NULL RETURNING `+codeColumns,
		micros(now), hash))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.Code{}, wrap("consume code", err)
	}
	// No unused code: either it was used (used_at never goes back to
	// NULL, so this read cannot race into a false "not found") or unknown.
	c, err = scanCode(db.sql.QueryRowContext(ctx,
		`SELECT `+codeColumns+` FROM codes WHERE hash = ?`, hash))
	if err != nil {
		return store.Code{}, wrap("consume code", err)
	}
	return c, wrap("consume code", store.ErrAlreadyUsed)
}

func scanCode(s rowScanner) (store.Code, error) {
	var (
		c                      store.Code
		created, expires, used nullMicros
	)
	if err := s.Scan(&c.Hash, &c.AuthorizationID, &c.ClientID, &c.RedirectURI, &c.CodeChallenge,
		&c.Nonce, &created, &expires, &used); err != nil {
		return store.Code{}, err
	}
	c.CreatedAt = created.time()
	c.ExpiresAt = expires.time()
	c.UsedAt = used.time()
	return c, nil
}

// DeleteExpiredCodes implements store.Codes.
func (db *DB) DeleteExpiredCodes(ctx context.Context, now time.Time) (int, error) {
	return db.deleteExpired(ctx, "codes", now)
}
