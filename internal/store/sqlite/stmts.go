package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// stmts are the reads on the hot paths (the token endpoint, the FHIR
// access-token check), prepared once: parsing SQL costs more than running
// these primary-key lookups. database/sql keeps one prepared copy per
// connection.
type stmts struct {
	getClient, getAuthorization, getRefreshToken, getUser *sql.Stmt
	// remember is the replay-cache upsert, run inside group commits.
	remember *sql.Stmt
}

func (db *DB) prepare(ctx context.Context) error {
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&db.stmts.getClient, `SELECT ` + clientColumns + ` FROM clients WHERE id = ?`},
		{&db.stmts.getAuthorization, `SELECT ` + authorizationColumns + ` FROM authorizations WHERE id = ?`},
		{&db.stmts.getRefreshToken, `SELECT ` + refreshTokenColumns + ` FROM refresh_tokens WHERE hash = ?`},
		{&db.stmts.getUser, `SELECT ` + userColumns + ` FROM users WHERE id = ?`},
		{&db.stmts.remember, `INSERT INTO replay_cache (key, expires_at) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
			WHERE replay_cache.expires_at <= ?`},
	} {
		pool := db.sql
		if p.dst == &db.stmts.remember {
			pool = db.lax
		}
		st, err := pool.PrepareContext(ctx, p.query)
		if err != nil {
			return fmt.Errorf("sqlite: prepare: %w", err)
		}
		*p.dst = st
	}
	return nil
}

func (s *stmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.getClient, s.getAuthorization, s.getRefreshToken, s.getUser, s.remember} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}
