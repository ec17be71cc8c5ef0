package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

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

// DeleteStaleRefreshTokens implements store.RefreshTokens: first tokens
// expired or of ended or expired authorizations, then used tokens beyond
// the keep most recent of their authorization, at most limit in all.
func (db *DB) DeleteStaleRefreshTokens(ctx context.Context, now time.Time, keep, limit int) (int, error) {
	n := 0
	for i, q := range []string{
		`DELETE FROM refresh_tokens WHERE rowid IN (
			SELECT r.rowid FROM refresh_tokens r LEFT JOIN authorizations a ON a.id = r.authorization_id
			WHERE (r.expires_at IS NOT NULL AND r.expires_at <= ?1) OR a.id IS NULL OR a.ended_at IS NOT NULL
				OR (a.expires_at IS NOT NULL AND a.expires_at <= ?1)
			LIMIT ?2)`,
		`DELETE FROM refresh_tokens WHERE rowid IN (
			SELECT id FROM (SELECT rowid AS id, row_number() OVER (
				PARTITION BY authorization_id ORDER BY used_at DESC, rowid DESC) AS n
				FROM refresh_tokens WHERE used_at IS NOT NULL)
			WHERE n > ?1 LIMIT ?2)`,
	} {
		if n >= limit {
			break
		}
		first := micros(now)
		if i == 1 {
			first = keep
		}
		res, err := db.sql.ExecContext(ctx, q, first, limit-n)
		if err != nil {
			return n, fmt.Errorf("sqlite: delete stale refresh tokens: %w", err)
		}
		d, err := res.RowsAffected()
		if err != nil {
			return n, fmt.Errorf("sqlite: delete stale refresh tokens: %w", err)
		}
		n += int(d)
	}
	return n, nil
}
