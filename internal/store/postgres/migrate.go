package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrMigrationsPending reports, from OpenNoMigrate, a database whose schema
// lacks migrations this release needs: run Migrate first.
var ErrMigrationsPending = errors.New("schema migrations pending")

// migrationLock is the key of the session-level advisory lock held while
// migrating: "smartlau" in ASCII. Advisory locks are per database.
const migrationLock int64 = 0x736d6172746c6175

// Migrate applies to the database dsn names (see Open) every embedded
// migration not yet recorded in its schema_migrations table, in file-name
// order, each in a transaction of its own. It holds an advisory lock for
// the whole run, so that of several processes migrating one database at
// once, one applies each migration and the others wait and find it done.
func Migrate(ctx context.Context, dsn string) error {
	cfg, err := parseConfig(dsn)
	if err != nil {
		return err
	}
	return migrate(ctx, cfg.ConnConfig)
}

func migrate(ctx context.Context, cc *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("postgres: migrate: connect: %w", err)
	}
	// Closing the connection ends its session, which releases the lock
	// however the run ended.
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name       text PRIMARY KEY,
		applied_at bigint NOT NULL
	)`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	pending, err := pendingMigrations(ctx, conn)
	if err != nil {
		return err
	}
	for _, name := range pending {
		body, err := migrationFS.ReadFile(path.Join("migrations", name))
		if err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// Without arguments pgx sends the file as one simple-protocol
			// query, which may hold several statements.
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)`,
				name, time.Now().UnixMicro())
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migrate: %s: %w", name, err)
		}
	}
	return nil
}

// pendingMigrations returns the names of the embedded migrations not
// recorded in schema_migrations, in the order they are applied.
func pendingMigrations(ctx context.Context, q querier) ([]string, error) {
	paths, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = path.Base(p)
	}
	slices.Sort(names)
	applied, err := queryAll(ctx, q, func(r pgx.Row) (string, error) {
		var name string
		return name, r.Scan(&name)
	}, `SELECT name FROM schema_migrations`)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table: nothing applied
		return names, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return slices.DeleteFunc(names, func(n string) bool { return slices.Contains(applied, n) }), nil
}
