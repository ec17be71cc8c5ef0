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
	} {
		st, err := db.sql.PrepareContext(ctx, p.query)
		if err != nil {
			return fmt.Errorf("sqlite: prepare: %w", err)
		}
		*p.dst = st
	}
	return nil
}

func (s *stmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.getClient, s.getAuthorization, s.getRefreshToken, s.getUser} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}
