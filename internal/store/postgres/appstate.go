package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const appStateColumns = `id, version, code, subject, client_id, last_updated, deleted_at, json`

func scanAppState(row pgx.Row) (store.AppState, error) {
	var (
		s                store.AppState
		updated, deleted *int64
	)
	if err := row.Scan(&s.ID, &s.Version, &s.Code, &s.Subject, &s.ClientID, &updated, &deleted, &s.JSON); err != nil {
		return store.AppState{}, err
	}
	s.LastUpdated, s.DeletedAt = timeOf(updated), timeOf(deleted)
	if len(s.JSON) == 0 {
		s.JSON = nil
	}
	return s, nil
}

// CreateAppState implements store.AppStates.
func (db *DB) CreateAppState(ctx context.Context, s store.AppState) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO app_states (`+appStateColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		s.ID, s.Version, s.Code, s.Subject, s.ClientID, micros(s.LastUpdated), micros(s.DeletedAt), nonNilBytes(s.JSON))
	return wrap("create app state", err)
}

// GetAppState implements store.AppStates.
func (db *DB) GetAppState(ctx context.Context, id string) (store.AppState, error) {
	s, err := scanAppState(db.pool.QueryRow(ctx, `SELECT `+appStateColumns+` FROM app_states WHERE id = $1`, id))
	if err != nil {
		return store.AppState{}, wrap("get app state", err)
	}
	return s, nil
}

// UpdateAppState implements store.AppStates. The compare-and-set is the
// UPDATE's WHERE clause, re-checked by concurrent callers once the first
// commits.
func (db *DB) UpdateAppState(ctx context.Context, s store.AppState, prev int64) error {
	tag, err := db.pool.Exec(ctx,
		`UPDATE app_states SET version = $1, last_updated = $2, json = $3
		WHERE id = $4 AND version = $5 AND deleted_at IS NULL`,
		s.Version, micros(s.LastUpdated), nonNilBytes(s.JSON), s.ID, prev)
	return wrap("update app state", db.appStateCAS(ctx, s.ID, tag, err))
}

// DeleteAppState implements store.AppStates.
func (db *DB) DeleteAppState(ctx context.Context, id string, prev int64, at time.Time) error {
	if at.IsZero() {
		return wrap("delete app state", errZeroTime)
	}
	tag, err := db.pool.Exec(ctx,
		`UPDATE app_states SET deleted_at = $1, json = '\x'::bytea
		WHERE id = $2 AND version = $3 AND deleted_at IS NULL`,
		micros(at), id, prev)
	return wrap("delete app state", db.appStateCAS(ctx, id, tag, err))
}

// appStateCAS turns a compare-and-set UPDATE of record id that changed no
// row into store.ErrNotFound (no such id) or store.ErrConflict (a
// tombstone, or another version). Records are never deleted, so the
// follow-up read needs no transaction.
func (db *DB) appStateCAS(ctx context.Context, id string, tag pgconn.CommandTag, err error) error {
	err = mustAffect(tag, err)
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var one int
	if err := db.pool.QueryRow(ctx, `SELECT 1 FROM app_states WHERE id = $1`, id).Scan(&one); err != nil {
		return err // pgx.ErrNoRows: store.ErrNotFound
	}
	return store.ErrConflict
}

// SearchAppStates implements store.AppStates.
func (db *DB) SearchAppStates(ctx context.Context, q store.AppStateQuery) ([]store.AppState, error) {
	out, err := queryAll(ctx, db.pool, scanAppState,
		`SELECT `+appStateColumns+` FROM app_states
		WHERE code = $1 AND subject = $2 AND deleted_at IS NULL ORDER BY id`, q.Code, q.Subject)
	return out, wrap("search app states", err)
}
