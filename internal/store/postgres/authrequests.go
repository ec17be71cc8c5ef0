package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const authRequestColumns = `id, client_id, redirect_uri, scope, state, code_challenge, nonce, aud,
	created_at, expires_at, user_id, patient_id, granted_scope, decision, proof_hash, session_id, launch_id`

// CreateAuthRequest implements store.AuthRequests.
func (db *DB) CreateAuthRequest(ctx context.Context, r store.AuthRequest) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO auth_requests (`+authRequestColumns+`) VALUES (`+params(1, 17)+`)`,
		r.ID, r.ClientID, r.RedirectURI, r.Scope, r.State, r.CodeChallenge, r.Nonce, r.Aud,
		micros(r.CreatedAt), micros(r.ExpiresAt), r.UserID, r.PatientID, r.GrantedScope,
		string(r.Decision), r.ProofHash, r.SessionID, r.LaunchID)
	return wrap("create auth request", err)
}

// GetAuthRequest implements store.AuthRequests.
func (db *DB) GetAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	r, err := scanAuthRequest(db.pool.QueryRow(ctx,
		`SELECT `+authRequestColumns+` FROM auth_requests WHERE id = $1`, id))
	if err != nil {
		return store.AuthRequest{}, wrap("get auth request", err)
	}
	return r, nil
}

// UpdateAuthRequest implements store.AuthRequests. Only UserID, PatientID,
// GrantedScope, Decision, ProofHash and SessionID are written.
func (db *DB) UpdateAuthRequest(ctx context.Context, r store.AuthRequest) error {
	tag, err := db.pool.Exec(ctx,
		`UPDATE auth_requests SET user_id = $1, patient_id = $2, granted_scope = $3, decision = $4,
		proof_hash = $5, session_id = $6 WHERE id = $7`,
		r.UserID, r.PatientID, r.GrantedScope, string(r.Decision), r.ProofHash, r.SessionID, r.ID)
	return wrap("update auth request", mustAffect(tag, err))
}

// TakeAuthRequest implements store.AuthRequests with one DELETE ...
// RETURNING: of concurrent callers, the first deletes the row and the
// others, once it commits, find none.
func (db *DB) TakeAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	r, err := scanAuthRequest(db.pool.QueryRow(ctx,
		`DELETE FROM auth_requests WHERE id = $1 RETURNING `+authRequestColumns, id))
	if err != nil {
		return store.AuthRequest{}, wrap("take auth request", err)
	}
	return r, nil
}

func scanAuthRequest(row pgx.Row) (store.AuthRequest, error) {
	var (
		r                store.AuthRequest
		created, expires *int64
		decision         string
	)
	if err := row.Scan(&r.ID, &r.ClientID, &r.RedirectURI, &r.Scope, &r.State, &r.CodeChallenge,
		&r.Nonce, &r.Aud, &created, &expires, &r.UserID, &r.PatientID, &r.GrantedScope,
		&decision, &r.ProofHash, &r.SessionID, &r.LaunchID); err != nil {
		return store.AuthRequest{}, err
	}
	r.CreatedAt, r.ExpiresAt = timeOf(created), timeOf(expires)
	r.Decision = store.Decision(decision)
	return r, nil
}

// DeleteExpiredAuthRequests implements store.AuthRequests.
func (db *DB) DeleteExpiredAuthRequests(ctx context.Context, now time.Time) (int, error) {
	return db.deleteExpired(ctx, "auth_requests", now)
}

// deleteExpired deletes the rows of table whose expires_at is at or before
// now, a batch at a time. table is always a constant of this package,
// never input.
func (db *DB) deleteExpired(ctx context.Context, table string, now time.Time) (int, error) {
	return db.deleteBatches(ctx, "delete expired "+table,
		`DELETE FROM `+table+` WHERE ctid IN (SELECT ctid FROM `+table+
			` WHERE expires_at IS NOT NULL AND expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, micros(now))
}

// expiryBatch is how many rows one statement of the janitor deletes: each
// batch is a short transaction, and SKIP LOCKED lets the janitors of
// several instances work side by side on different rows instead of
// waiting for one another.
const expiryBatch = 1000

// deleteBatches runs query, a DELETE of at most $2 rows, until a batch
// deletes fewer than expiryBatch; it returns how many it deleted in all.
func (db *DB) deleteBatches(ctx context.Context, op, query string, arg any) (int, error) {
	total := 0
	for {
		tag, err := db.pool.Exec(ctx, query, arg, expiryBatch)
		if err != nil {
			return total, wrap(op, err)
		}
		total += int(tag.RowsAffected())
		if tag.RowsAffected() < expiryBatch {
			return total, nil
		}
	}
}
