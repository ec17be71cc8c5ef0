package sqlite

import (
	"context"
	"database/sql"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const refreshTokenColumns = `hash, authorization_id, client_id, created_at, expires_at, used_at, replaced_by, jkt`

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
		`INSERT INTO refresh_tokens (`+refreshTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.AuthorizationID, t.ClientID, micros(t.CreatedAt), micros(t.ExpiresAt),
		micros(t.UsedAt), t.ReplacedBy, t.JKT)
	return err
}

// GetRefreshToken implements store.RefreshTokens.
func (db *DB) GetRefreshToken(ctx context.Context, hash string) (store.RefreshToken, error) {
	t, err := scanRefreshToken(db.stmts.getRefreshToken.QueryRowContext(ctx, hash))
	if err != nil {
		return store.RefreshToken{}, wrap("get refresh token", err)
	}
	return t, nil
}

func scanRefreshToken(s rowScanner) (store.RefreshToken, error) {
	var (
		t                      store.RefreshToken
		created, expires, used nullMicros
	)
	if err := s.Scan(&t.Hash, &t.AuthorizationID, &t.ClientID, &created, &expires, &used,
		&t.ReplacedBy, &t.JKT); err != nil {
		return store.RefreshToken{}, err
	}
	t.CreatedAt = created.time()
	t.ExpiresAt = expires.time()
	t.UsedAt = used.time()
	return t, nil
}
