package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const refreshTokenColumns = `hash, authorization_id, client_id, created_at, expires_at, used_at, replaced_by`

// CreateRefreshToken implements store.RefreshTokens.
func (db *DB) CreateRefreshToken(ctx context.Context, t store.RefreshToken) error {
	return wrap("create refresh token", insertRefreshToken(ctx, db.sql, t))
}

// execer is the ExecContext method shared by *sql.DB and *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertRefreshToken(ctx context.Context, e execer, t store.RefreshToken) error {
	_, err := e.ExecContext(ctx,
		`INSERT INTO refresh_tokens (`+refreshTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.AuthorizationID, t.ClientID, micros(t.CreatedAt), micros(t.ExpiresAt),
		micros(t.UsedAt), t.ReplacedBy)
	return err
}

// GetRefreshToken implements store.RefreshTokens.
func (db *DB) GetRefreshToken(ctx context.Context, hash string) (store.RefreshToken, error) {
	t, err := scanRefreshToken(db.sql.QueryRowContext(ctx,
		`SELECT `+refreshTokenColumns+` FROM refresh_tokens WHERE hash = ?`, hash))
	if err != nil {
		return store.RefreshToken{}, wrap("get refresh token", err)
	}
	return t, nil
}

// RotateRefreshToken implements store.RefreshTokens (RFC 9700 §4.14.2,
// refresh token rotation). In one IMMEDIATE transaction it marks the old
// token used (a compare-and-set on used_at IS NULL) and inserts next; a
// losing or later caller gets the old token, as stored, with
// store.ErrAlreadyUsed, and nothing of its next is stored. The returned old
// token carries UsedAt and ReplacedBy as stored. now must not be the zero
// time.
func (db *DB) RotateRefreshToken(ctx context.Context, oldHash string, next store.RefreshToken, now time.Time) (store.RefreshToken, error) {
	if now.IsZero() {
		return store.RefreshToken{}, wrap("rotate refresh token", errZeroTime)
	}
	var old store.RefreshToken
	err := db.inTx(ctx, "rotate refresh token", func(tx *sql.Tx) error {
		var err error
		old, err = scanRefreshToken(tx.QueryRowContext(ctx,
			`UPDATE refresh_tokens SET used_at = ?, replaced_by = ?
			WHERE hash = ? AND used_at IS NULL RETURNING `+refreshTokenColumns,
			micros(now), next.Hash, oldHash))
		if errors.Is(err, sql.ErrNoRows) {
			old, err = scanRefreshToken(tx.QueryRowContext(ctx,
				`SELECT `+refreshTokenColumns+` FROM refresh_tokens WHERE hash = ?`, oldHash))
			if err != nil {
				return err
			}
			return store.ErrAlreadyUsed
		}
		if err != nil {
			return err
		}
		return insertRefreshToken(ctx, tx, next)
	})
	switch {
	case errors.Is(err, store.ErrAlreadyUsed):
		return old, err
	case err != nil:
		return store.RefreshToken{}, err
	}
	return old, nil
}

func scanRefreshToken(s rowScanner) (store.RefreshToken, error) {
	var (
		t                      store.RefreshToken
		created, expires, used nullMicros
	)
	if err := s.Scan(&t.Hash, &t.AuthorizationID, &t.ClientID, &created, &expires, &used,
		&t.ReplacedBy); err != nil {
		return store.RefreshToken{}, err
	}
	t.CreatedAt = created.time()
	t.ExpiresAt = expires.time()
	t.UsedAt = used.time()
	return t, nil
}
