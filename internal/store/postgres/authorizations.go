package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const authorizationColumns = `id, user_id, client_id, patient_id, scope, offline,
	created_at, last_used_at, expires_at, ended_at, end_reason, session_id, context`

// CreateAuthorization implements store.Authorizations.
func (db *DB) CreateAuthorization(ctx context.Context, a store.Authorization) error {
	lctx, err := json.Marshal(a.Context)
	if err != nil {
		return wrap("create authorization", fmt.Errorf("encode launch context: %w", err))
	}
	_, err = db.pool.Exec(ctx,
		`INSERT INTO authorizations (`+authorizationColumns+`) VALUES (`+params(1, 13)+`)`,
		a.ID, a.UserID, a.ClientID, a.PatientID, a.Scope, a.Offline,
		micros(a.CreatedAt), micros(a.LastUsedAt), micros(a.ExpiresAt), micros(a.EndedAt),
		string(a.EndReason), a.SessionID, string(lctx))
	return wrap("create authorization", err)
}

// GetAuthorization implements store.Authorizations.
func (db *DB) GetAuthorization(ctx context.Context, id string) (store.Authorization, error) {
	a, err := scanAuthorization(db.pool.QueryRow(ctx,
		`SELECT `+authorizationColumns+` FROM authorizations WHERE id = $1`, id))
	if err != nil {
		return store.Authorization{}, wrap("get authorization", err)
	}
	return a, nil
}

// EndAuthorization implements store.Authorizations. Only the first end is
// recorded: the UPDATE applies only while ended_at IS NULL, and concurrent
// callers re-check that once the first commits. An unknown id gives
// store.ErrNotFound; at must not be the zero time.
func (db *DB) EndAuthorization(ctx context.Context, id string, at time.Time, reason store.EndReason) (bool, error) {
	if at.IsZero() {
		return false, wrap("end authorization", errZeroTime)
	}
	tag, err := db.pool.Exec(ctx,
		`UPDATE authorizations SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL`,
		micros(at), string(reason), id)
	if err = mustAffect(tag, err); !errors.Is(err, store.ErrNotFound) {
		return err == nil, wrap("end authorization", err)
	}
	// Nothing changed: already ended (not an error) or unknown.
	var one int
	err = db.pool.QueryRow(ctx, `SELECT 1 FROM authorizations WHERE id = $1`, id).Scan(&one)
	return false, wrap("end authorization", err)
}

// TouchAuthorization implements store.Authorizations; an unknown id gives
// store.ErrNotFound.
func (db *DB) TouchAuthorization(ctx context.Context, id string, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE authorizations SET last_used_at = $1 WHERE id = $2`, micros(at), id)
	return wrap("touch authorization", mustAffect(tag, err))
}

// ListEndedAuthorizations implements store.Authorizations, ordered by
// EndedAt then ID. A zero since lists every ended authorization.
func (db *DB) ListEndedAuthorizations(ctx context.Context, since time.Time) ([]string, error) {
	from := int64(math.MinInt64)
	if !since.IsZero() {
		from = since.UnixMicro()
		if since.After(time.UnixMicro(from)) {
			from++ // since has sub-microsecond digits; stored times never do
		}
	}
	ids, err := queryAll(ctx, db.pool, func(r pgx.Row) (string, error) {
		var id string
		return id, r.Scan(&id)
	}, `SELECT id FROM authorizations WHERE ended_at IS NOT NULL AND ended_at >= $1 ORDER BY ended_at, id`, from)
	return ids, wrap("list ended authorizations", err)
}

// ListUserAuthorizations implements store.Authorizations: newest CreatedAt
// first (those without one last, as in the SQLite backend), ties broken by
// descending ID.
func (db *DB) ListUserAuthorizations(ctx context.Context, userID string) ([]store.Authorization, error) {
	out, err := queryAll(ctx, db.pool, scanAuthorization,
		`SELECT `+authorizationColumns+` FROM authorizations WHERE user_id = $1
		ORDER BY created_at DESC NULLS LAST, id DESC`, userID)
	return out, wrap("list user authorizations", err)
}

func scanAuthorization(r pgx.Row) (store.Authorization, error) {
	var (
		a                             store.Authorization
		created, used, expires, ended *int64
		reason, lctx                  string
	)
	if err := r.Scan(&a.ID, &a.UserID, &a.ClientID, &a.PatientID, &a.Scope, &a.Offline,
		&created, &used, &expires, &ended, &reason, &a.SessionID, &lctx); err != nil {
		return store.Authorization{}, err
	}
	if err := json.Unmarshal([]byte(lctx), &a.Context); err != nil {
		return store.Authorization{}, fmt.Errorf("decode launch context: %w", err)
	}
	a.CreatedAt, a.LastUsedAt = timeOf(created), timeOf(used)
	a.ExpiresAt, a.EndedAt = timeOf(expires), timeOf(ended)
	a.EndReason = store.EndReason(reason)
	return a, nil
}
