package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"slices"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

var _ store.Store = (*DB)(nil)

// DB is a store.Store backed by one SQLite database file. It is safe for
// concurrent use, also by several processes sharing the file.
type DB struct {
	sql   *sql.DB
	stmts stmts
	// lax is a second pool on the same file whose commits skip the disk
	// flush; only the replay cache writes through it.
	lax *sql.DB
	// batch feeds the group committer (batch.go).
	batch   chan *batchOp
	stop    chan struct{}
	stopped chan struct{}
}

// Open opens the SQLite database at path, creating the file if it does not
// exist, and applies every embedded migration not yet recorded in it.
// Several processes may open the same file at once.
func Open(ctx context.Context, path string) (*DB, error) {
	dsn, err := dataSourceName(path, "FULL")
	if err != nil {
		return nil, err
	}
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db := &DB{sql: sdb}
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := db.migrate(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	// One-time values get their own pool whose commits do not wait for the
	// disk flush (see replay.go). The DSN differs only in that pragma.
	laxDSN, _ := dataSourceName(path, "NORMAL")
	if db.lax, err = sql.Open("sqlite", laxDSN); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One connection: its writers queue in Go instead of spinning on
	// SQLite's busy handler.
	db.lax.SetMaxOpenConns(1)
	if err := db.prepare(ctx); err != nil {
		db.stmts.close()
		db.lax.Close()
		sdb.Close()
		return nil, err
	}
	db.startCommitter()
	return db, nil
}

// dataSourceName builds the driver DSN for path: a file: URI (so the path
// may hold any character) with the pragmas every connection must run.
func dataSourceName(path, synchronous string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	// busy_timeout comes first so that the journal_mode change waits for
	// another process instead of failing.
	const pragmas = "_pragma=busy_timeout(10000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)" +
		"&_txlock=immediate" +
		"&_pragma=synchronous("
	return u.String() + "?" + pragmas + synchronous + ")", nil
}

// Close closes the database.
func (db *DB) Close() error {
	db.stopCommitter()
	if err := errors.Join(db.stmts.close(), db.lax.Close(), db.sql.Close()); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// migrate applies the embedded migrations not yet recorded, in file-name
// order, inside one IMMEDIATE transaction so that concurrent openers apply
// each migration exactly once.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	slices.Sort(names)
	return db.inTx(ctx, "migrate", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			name TEXT PRIMARY KEY,
			applied_at INTEGER NOT NULL
		) STRICT`); err != nil {
			return err
		}
		applied := map[string]bool{}
		rows, err := tx.QueryContext(ctx, `SELECT name FROM schema_migrations`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return err
			}
			applied[name] = true
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, path := range names {
			name := filepath.Base(path)
			if applied[name] {
				continue
			}
			body, err := migrationFS.ReadFile(path)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`,
				name, time.Now().UnixMicro()); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		return nil
	})
}

// inTx runs fn in one write transaction (BEGIN IMMEDIATE, from the DSN) and
// commits it, or rolls it back if fn fails. Errors are wrapped with op.
func (db *DB) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %s: begin: %w", op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return wrap(op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: commit: %w", op, err)
	}
	return nil
}

// wrap adds op to err, turning constraint violations into store.ErrConflict
// and sql.ErrNoRows into store.ErrNotFound. Errors that already wrap a store
// sentinel keep it.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict),
		errors.Is(err, store.ErrAlreadyUsed):
		return fmt.Errorf("sqlite: %s: %w", op, err)
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("sqlite: %s: %w (%v)", op, store.ErrConflict, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// isUniqueViolation reports whether err is a PRIMARY KEY or UNIQUE
// constraint failure.
func isUniqueViolation(err error) bool {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code()
	return c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || c == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// rowScanner is the Scan method shared by *sql.Row and *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// micros converts t to unix microseconds, or NULL for the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// nullMicros scans a time column: unix microseconds, or NULL for the zero
// time.
type nullMicros struct{ sql.NullInt64 }

// time returns the scanned value as a UTC time, or the zero time for NULL.
func (n nullMicros) time() time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMicro(n.Int64).UTC()
}

// errZeroTime is returned when a transition is asked to record the zero
// time, which would be stored as "not set" and undo the transition.
var errZeroTime = errors.New("zero time")

// mustAffect passes on err, or store.ErrNotFound when the statement that
// produced res changed no row.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
