package sqlite

import (
	"context"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// CreateSession implements store.Sessions.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	_, err := db.sql.ExecContext(ctx,
		`INSERT INTO sessions (id, user_id, created_at, expires_at, ended_at) VALUES (?, ?, ?, ?, ?)`,
		s.ID, s.UserID, micros(s.CreatedAt), micros(s.ExpiresAt), micros(s.EndedAt))
	return wrap("create session", err)
}

// GetSession implements store.Sessions.
func (db *DB) GetSession(ctx context.Context, id string) (store.Session, error) {
	var (
		s                       store.Session
		created, expires, ended nullMicros
	)
	err := db.sql.QueryRowContext(ctx,
		`SELECT id, user_id, created_at, expires_at, ended_at FROM sessions WHERE id = ?`, id).
		Scan(&s.ID, &s.UserID, &created, &expires, &ended)
	if err != nil {
		return store.Session{}, wrap("get session", err)
	}
	s.CreatedAt, s.ExpiresAt, s.EndedAt = created.time(), expires.time(), ended.time()
	return s, nil
}

// EndSession implements store.Sessions.
func (db *DB) EndSession(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return wrap("end session", errZeroTime)
	}
	res, err := db.sql.ExecContext(ctx,
		`UPDATE sessions SET ended_at = COALESCE(ended_at, ?) WHERE id = ?`, micros(at), id)
	return wrap("end session", mustAffect(res, err))
}
