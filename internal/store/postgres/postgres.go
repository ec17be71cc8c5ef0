package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

var _ store.Store = (*DB)(nil)

// DB is a store.Store backed by a PostgreSQL database through a pool of
// connections. It is safe for concurrent use, also by several processes
// sharing the database.
type DB struct {
	pool *pgxpool.Pool
}

// Open connects to the database dsn names, applies every embedded
// migration not yet applied to it (see Migrate), and returns the store.
// dsn is a PostgreSQL URL (postgres://user@host:port/db?sslmode=...) or
// key=value connection string, and may carry the pool settings of
// pgxpool.ParseConfig, such as pool_max_conns.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := parseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, cfg.ConnConfig); err != nil {
		return nil, err
	}
	return connect(ctx, cfg)
}

// OpenNoMigrate connects to the database dsn names without changing its
// schema, for deployments that run Migrate (smartlaunch migrate) as a step
// of their own. It fails with an error wrapping ErrMigrationsPending when
// an embedded migration has not been applied; migrations it does not know,
// applied by a newer release, are accepted.
func OpenNoMigrate(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := parseConfig(dsn)
	if err != nil {
		return nil, err
	}
	db, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pending, err := pendingMigrations(ctx, db.pool)
	if err == nil && len(pending) > 0 {
		err = fmt.Errorf("postgres: open: %w: %s", ErrMigrationsPending, strings.Join(pending, ", "))
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// parseConfig parses dsn. pgx redacts the password in its errors.
//
// Sessions run at READ COMMITTED, PostgreSQL's default, whatever the
// server's default_transaction_isolation, unless dsn sets it: the
// compare-and-set statements rely on a concurrent UPDATE waiting for the
// first and re-checking its WHERE clause, where REPEATABLE READ and
// SERIALIZABLE fail it instead.
func parseConfig(dsn string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse connection string: %w", err)
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["default_transaction_isolation"]; !ok {
		cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "read committed"
	}
	return cfg, nil
}

func connect(ctx context.Context, cfg *pgxpool.Config) (*DB, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return &DB{pool: pool}, nil
}

// Close closes every connection of the pool, waiting for those in use to
// be returned.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// maxAttempts bounds how often inTx runs a transaction that PostgreSQL
// aborted to break a deadlock or for a serialization failure: running it
// again is safe, since nothing of the aborted one remains.
const maxAttempts = 3

// inTx runs fn in one transaction and commits it, or rolls it back if fn
// fails. Errors are wrapped with op.
func (db *DB) inTx(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.tryTx(ctx, fn)
		if err == nil || attempt == maxAttempts || !isRetryable(err) || ctx.Err() != nil {
			return wrap(op, err)
		}
	}
}

func (db *DB) tryTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		// A failed rollback closes the connection, which ends the
		// transaction on the server as well.
		_ = tx.Rollback(ctx)
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// isRetryable reports whether err is a deadlock (SQLSTATE 40P01) or a
// serialization failure (40001), which abort a transaction that may
// succeed when run again.
func isRetryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// wrap adds op to err, turning unique violations into store.ErrConflict
// and pgx.ErrNoRows into store.ErrNotFound. Errors that already wrap a
// store sentinel keep it.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict),
		errors.Is(err, store.ErrAlreadyUsed):
		return fmt.Errorf("postgres: %s: %w", op, err)
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("postgres: %s: %w (%w)", op, store.ErrConflict, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// isUniqueViolation reports whether err is a PRIMARY KEY or UNIQUE
// constraint failure (SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// mustAffect passes on err, or store.ErrNotFound when the statement that
// produced tag changed no row.
func mustAffect(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// querier is what reads need of a *pgxpool.Pool or a pgx.Tx.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// queryAll runs a query and scans every row with scan; no rows give nil.
func queryAll[T any](ctx context.Context, q querier, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.AppendRows([]T(nil), rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
}

// micros converts t to unix microseconds, or NULL for the zero time.
func micros(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMicro()
	return &v
}

// timeOf converts a scanned time column to a UTC time, or the zero time
// for NULL.
func timeOf(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return time.UnixMicro(*v).UTC()
}

// errZeroTime is returned when a transition is asked to record the zero
// time, which would be stored as "not set" and undo the transition.
var errZeroTime = errors.New("zero time")

// strs returns ss, or an empty list for nil: text[] columns are NOT NULL,
// and pgx sends a nil slice as NULL.
func strs(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// orNil returns ss, or nil for an empty list, as the SQLite backend does.
func orNil(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	return ss
}

// params returns the placeholders "$from, ..., $(from+n-1)".
func params(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	return b.String()
}
