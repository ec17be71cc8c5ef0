package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// CreateLaunch implements store.Launches.
func (db *DB) CreateLaunch(ctx context.Context, l store.Launch) error {
	c, err := json.Marshal(l.Context)
	if err != nil {
		return fmt.Errorf("postgres: create launch: %w", err)
	}
	_, err = db.pool.Exec(ctx,
		`INSERT INTO launches (id, client_id, user_id, context, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		l.ID, l.ClientID, l.UserID, string(c), micros(l.CreatedAt), micros(l.ExpiresAt))
	return wrap("create launch", err)
}

// GetLaunch implements store.Launches.
func (db *DB) GetLaunch(ctx context.Context, id string) (store.Launch, error) {
	var (
		l                store.Launch
		c                string
		created, expires *int64
	)
	err := db.pool.QueryRow(ctx,
		`SELECT id, client_id, user_id, context, created_at, expires_at FROM launches WHERE id = $1`, id).
		Scan(&l.ID, &l.ClientID, &l.UserID, &c, &created, &expires)
	if err != nil {
		return store.Launch{}, wrap("get launch", err)
	}
	if err := json.Unmarshal([]byte(c), &l.Context); err != nil {
		return store.Launch{}, fmt.Errorf("postgres: get launch: context: %w", err)
	}
	l.CreatedAt, l.ExpiresAt = timeOf(created), timeOf(expires)
	return l, nil
}
