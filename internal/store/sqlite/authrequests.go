package sqlite

import (
	"context"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const authRequestColumns = `id, client_id, redirect_uri, scope, state, code_challenge, nonce, aud,
	created_at, expires_at, user_id, patient_id, granted_scope, decision, proof_hash, session_id, launch_id`

// CreateAuthRequest implements store.AuthRequests.
func (db *DB) CreateAuthRequest(ctx context.Context, r store.AuthRequest) error {
	_, err := db.sql.ExecContext(ctx,
		`INSERT INTO auth_requests (`+authRequestColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.ClientID, r.RedirectURI, r.Scope, r.State, r.CodeChallenge, r.Nonce, r.Aud,
		micros(r.CreatedAt), micros(r.ExpiresAt), r.UserID, r.PatientID, r.GrantedScope,
		string(r.Decision), r.ProofHash, r.SessionID, r.LaunchID)
	return wrap("create auth request", err)
}

// GetAuthRequest implements store.AuthRequests.
func (db *DB) GetAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	r, err := scanAuthRequest(db.sql.QueryRowContext(ctx,
		`SELECT `+authRequestColumns+` FROM auth_requests WHERE id = ?`, id))
	if err != nil {
		return store.AuthRequest{}, wrap("get auth request", err)
	}
	return r, nil
}

// UpdateAuthRequest implements store.AuthRequests. Only UserID, PatientID,
// GrantedScope, Decision, ProofHash and SessionID are written.
func (db *DB) UpdateAuthRequest(ctx context.Context, r store.AuthRequest) error {
	res, err := db.sql.ExecContext(ctx,
		`UPDATE auth_requests SET user_id = ?, patient_id = ?, granted_scope = ?, decision = ?, proof_hash = ?,
		session_id = ? WHERE id = ?`,
		r.UserID, r.PatientID, r.GrantedScope, string(r.Decision), r.ProofHash, r.SessionID, r.ID)
	return wrap("update auth request", mustAffect(res, err))
}

// TakeAuthRequest implements store.AuthRequests with one DELETE ... RETURNING,
// so of concurrent callers exactly one gets the row.
func (db *DB) TakeAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	r, err := scanAuthRequest(db.sql.QueryRowContext(ctx,
		`DELETE FROM auth_requests WHERE id = ? RETURNING `+authRequestColumns, id))
	if err != nil {
		return store.AuthRequest{}, wrap("take auth request", err)
	}
	return r, nil
}

func scanAuthRequest(s rowScanner) (store.AuthRequest, error) {
	var (
		r                store.AuthRequest
		created, expires nullMicros
		decision         string
	)
	if err := s.Scan(&r.ID, &r.ClientID, &r.RedirectURI, &r.Scope, &r.State, &r.CodeChallenge,
		&r.Nonce, &r.Aud, &created, &expires, &r.UserID, &r.PatientID, &r.GrantedScope,
		&decision, &r.ProofHash, &r.SessionID, &r.LaunchID); err != nil {
		return store.AuthRequest{}, err
	}
	r.CreatedAt = created.time()
	r.ExpiresAt = expires.time()
	r.Decision = store.Decision(decision)
	return r, nil
}

// DeleteExpiredAuthRequests implements store.AuthRequests.
func (db *DB) DeleteExpiredAuthRequests(ctx context.Context, now time.Time) (int, error) {
	return db.deleteExpired(ctx, "auth_requests", now)
}
