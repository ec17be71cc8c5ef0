package client

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// NewSQLiteStore returns a TokenStore kept in the SQLite database at path
// (created if missing), shared by every process that opens it: one row
// with a version column, compare-and-swap by UPDATE ... WHERE version = ?,
// WAL mode with synchronous=FULL so a swap is durable when it returns.
func NewSQLiteStore(path string) (TokenStore, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("client: sqlite store: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS smart_token (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		version INTEGER NOT NULL,
		token TEXT NOT NULL)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("client: sqlite store: %w", err)
	}
	return &sqliteStore{db: db}, nil
}

type sqliteStore struct{ db *sql.DB }

func (s *sqliteStore) Load(ctx context.Context) (*Token, uint64, error) {
	var v uint64
	var raw string
	err := s.db.QueryRowContext(ctx, `SELECT version, token FROM smart_token WHERE id = 1`).Scan(&v, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("client: sqlite store: %w", err)
	}
	var t Token
	if err := json.Unmarshal([]byte(raw), &t); err != nil {
		return nil, 0, fmt.Errorf("client: sqlite store: corrupt token: %w", err)
	}
	return &t, v, nil
}

func (s *sqliteStore) CompareAndSwap(ctx context.Context, old uint64, t *Token) error {
	raw, err := json.Marshal(t)
	if err != nil {
		return err
	}
	var res sql.Result
	if old == 0 {
		res, err = s.db.ExecContext(ctx, `INSERT INTO smart_token (id, version, token) VALUES (1, 1, ?) ON CONFLICT (id) DO NOTHING`, string(raw))
	} else {
		res, err = s.db.ExecContext(ctx, `UPDATE smart_token SET version = version + 1, token = ? WHERE id = 1 AND version = ?`, string(raw), old)
	}
	if err != nil {
		return fmt.Errorf("client: sqlite store: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("client: sqlite store: %w", err)
	} else if n != 1 {
		return ErrConflict
	}
	return nil
}

// Close closes the database; NewSQLiteStore's store is an io.Closer.
func (s *sqliteStore) Close() error { return s.db.Close() }
