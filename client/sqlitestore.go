package client

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// NewSQLiteStore returns a TokenStore kept in the SQLite database at path
// (created if missing), shared by every process that opens it: one row
// with a version column, compare-and-swap by UPDATE ... WHERE version = ?,
// WAL mode with synchronous=FULL so a swap is durable when it returns.
// With WithSealer the token is stored encrypted.
func NewSQLiteStore(path string, opts ...StoreOption) (TokenStore, error) {
	where := path
	if abs, err := filepath.Abs(path); err == nil {
		where = abs
	}
	// Tokens are secrets: the database is the owner's alone (SQLite gives
	// its -wal and -shm files the database's mode).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("client: sqlite store: %w", err)
	}
	f.Close()
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
	return &sqliteStore{db: db, where: "sqlite:" + where, opts: newStoreOptions(opts)}, nil
}

type sqliteStore struct {
	db    *sql.DB
	where string // what sealed records are bound to
	opts  storeOptions
}

// sealedPrefix marks a token column holding a sealed record (base64).
const sealedPrefix = "sealed:"

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
	b, sealed := []byte(raw), false
	if enc, ok := strings.CutPrefix(raw, sealedPrefix); ok {
		if b, err = base64.StdEncoding.DecodeString(enc); err != nil {
			return nil, 0, fmt.Errorf("client: sqlite store: corrupt sealed token: %w", err)
		}
		sealed = true
	}
	t, err := s.opts.open(b, sealed, s.where, v)
	if err != nil {
		return nil, 0, fmt.Errorf("client: sqlite store: %w", err)
	}
	return t, v, nil
}

func (s *sqliteStore) CompareAndSwap(ctx context.Context, old uint64, t *Token) error {
	b, sealed, err := s.opts.seal(t, s.where, old+1)
	if err != nil {
		return err
	}
	raw := string(b)
	if sealed {
		raw = sealedPrefix + base64.StdEncoding.EncodeToString(b)
	}
	var res sql.Result
	if old == 0 {
		res, err = s.db.ExecContext(ctx, `INSERT INTO smart_token (id, version, token) VALUES (1, 1, ?) ON CONFLICT (id) DO NOTHING`, raw)
	} else {
		res, err = s.db.ExecContext(ctx, `UPDATE smart_token SET version = version + 1, token = ? WHERE id = 1 AND version = ?`, raw, old)
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
