package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const appStateColumns = `id, version, code, subject, client_id, last_updated, deleted_at, json`

func scanAppState(row rowScanner) (store.AppState, error) {
	var (
		s                store.AppState
		updated, deleted nullMicros
	)
	if err := row.Scan(&s.ID, &s.Version, &s.Code, &s.Subject, &s.ClientID, &updated, &deleted, &s.JSON); err != nil {
		return store.AppState{}, err
	}
	s.LastUpdated, s.DeletedAt = updated.time(), deleted.time()
	if len(s.JSON) == 0 {
		s.JSON = nil
	}
	return s, nil
}

// CreateAppState implements store.AppStates.
func (db *DB) CreateAppState(ctx context.Context, s store.AppState) error {
	_, err := db.sql.ExecContext(ctx,
		`INSERT INTO app_states (`+appStateColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.Version, s.Code, s.Subject, s.ClientID, micros(s.LastUpdated), micros(s.DeletedAt), appStateJSON(s.JSON))
	return wrap("create app state", err)
}

// GetAppState implements store.AppStates.
func (db *DB) GetAppState(ctx context.Context, id string) (store.AppState, error) {
	s, err := scanAppState(db.sql.QueryRowContext(ctx,
		`SELECT `+appStateColumns+` FROM app_states WHERE id = ?`, id))
	if err != nil {
		return store.AppState{}, wrap("get app state", err)
	}
	return s, nil
}

// UpdateAppState implements store.AppStates.
func (db *DB) UpdateAppState(ctx context.Context, s store.AppState, prev int64) error {
	return db.inTx(ctx, "update app state", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE app_states SET version = ?, last_updated = ?, json = ?
			WHERE id = ? AND version = ? AND deleted_at IS NULL`,
			s.Version, micros(s.LastUpdated), appStateJSON(s.JSON), s.ID, prev)
		return appStateCAS(ctx, tx, s.ID, res, err)
	})
}

// DeleteAppState implements store.AppStates.
func (db *DB) DeleteAppState(ctx context.Context, id string, prev int64, at time.Time) error {
	if at.IsZero() {
		return wrap("delete app state", errZeroTime)
	}
	return db.inTx(ctx, "delete app state", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE app_states SET deleted_at = ?, json = x''
			WHERE id = ? AND version = ? AND deleted_at IS NULL`,
			micros(at), id, prev)
		return appStateCAS(ctx, tx, id, res, err)
	})
}

// appStateCAS turns a compare-and-set UPDATE of record id that changed no
// row into store.ErrNotFound (no such id) or store.ErrConflict (a
// tombstone, or another version).
func appStateCAS(ctx context.Context, tx *sql.Tx, id string, res sql.Result, err error) error {
	err = mustAffect(res, err)
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM app_states WHERE id = ?`, id).Scan(&one); err != nil {
		return err // sql.ErrNoRows: store.ErrNotFound
	}
	return store.ErrConflict
}

// SearchAppStates implements store.AppStates.
func (db *DB) SearchAppStates(ctx context.Context, q store.AppStateQuery) ([]store.AppState, error) {
	rows, err := db.sql.QueryContext(ctx,
		`SELECT `+appStateColumns+` FROM app_states
		WHERE code = ? AND subject = ? AND deleted_at IS NULL ORDER BY id`, q.Code, q.Subject)
	if err != nil {
		return nil, wrap("search app states", err)
	}
	defer rows.Close()
	var out []store.AppState
	for rows.Next() {
		s, err := scanAppState(rows)
		if err != nil {
			return nil, wrap("search app states", err)
		}
		out = append(out, s)
	}
	return out, wrap("search app states", rows.Err())
}

// appStateJSON returns b, or an empty slice for nil, for NOT NULL BLOB columns.
func appStateJSON(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
