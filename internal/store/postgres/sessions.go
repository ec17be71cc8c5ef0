package postgres

import (
	"context"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// CreateSession implements store.Sessions.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO sessions (id, user_id, created_at, expires_at, ended_at) VALUES ($1, $2, $3, $4, $5)`,
		s.ID, s.UserID, micros(s.CreatedAt), micros(s.ExpiresAt), micros(s.EndedAt))
	return wrap("create session", err)
}

// GetSession implements store.Sessions.
func (db *DB) GetSession(ctx context.Context, id string) (store.Session, error) {
	var (
		s                       store.Session
		created, expires, ended *int64
	)
	err := db.pool.QueryRow(ctx,
		`SELECT id, user_id, created_at, expires_at, ended_at FROM sessions WHERE id = $1`, id).
		Scan(&s.ID, &s.UserID, &created, &expires, &ended)
	if err != nil {
		return store.Session{}, wrap("get session", err)
	}
	s.CreatedAt, s.ExpiresAt, s.EndedAt = timeOf(created), timeOf(expires), timeOf(ended)
	return s, nil
}

// EndSession implements store.Sessions: the first end time is kept.
func (db *DB) EndSession(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return wrap("end session", errZeroTime)
	}
	tag, err := db.pool.Exec(ctx,
		`UPDATE sessions SET ended_at = COALESCE(ended_at, $1) WHERE id = $2`, micros(at), id)
	return wrap("end session", mustAffect(tag, err))
}
