package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const authorizationColumns = `id, user_id, client_id, patient_id, scope, offline,
	created_at, last_used_at, expires_at, ended_at, end_reason, session_id, context`

// CreateAuthorization implements store.Authorizations.
func (db *DB) CreateAuthorization(ctx context.Context, a store.Authorization) error {
	_, err := db.sql.ExecContext(ctx,
		`INSERT INTO authorizations (`+authorizationColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.UserID, a.ClientID, a.PatientID, a.Scope, a.Offline,
		micros(a.CreatedAt), micros(a.LastUsedAt), micros(a.ExpiresAt), micros(a.EndedAt),
		string(a.EndReason), a.SessionID, launchContextJSON(a.Context))
	return wrap("create authorization", err)
}

// GetAuthorization implements store.Authorizations.
func (db *DB) GetAuthorization(ctx context.Context, id string) (store.Authorization, error) {
	a, err := scanAuthorization(db.stmts.getAuthorization.QueryRowContext(ctx, id))
	if err != nil {
		return store.Authorization{}, wrap("get authorization", err)
	}
	return a, nil
}

// EndAuthorization implements store.Authorizations. Only the first end is
// recorded: the UPDATE applies only while ended_at IS NULL. An unknown id
// gives store.ErrNotFound; at must not be the zero time.
func (db *DB) EndAuthorization(ctx context.Context, id string, at time.Time, reason store.EndReason) (bool, error) {
	if at.IsZero() {
		return false, wrap("end authorization", errZeroTime)
	}
	res, err := db.sql.ExecContext(ctx,
		`UPDATE authorizations SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL`,
		micros(at), string(reason), id)
	if err = mustAffect(res, err); !errors.Is(err, store.ErrNotFound) {
		return err == nil, wrap("end authorization", err)
	}
	// Nothing changed: already ended (not an error) or unknown.
	var one int
	err = db.sql.QueryRowContext(ctx, `SELECT 1 FROM authorizations WHERE id = ?`, id).Scan(&one)
	return false, wrap("end authorization", err)
}

// TouchAuthorization implements store.Authorizations; an unknown id gives
// store.ErrNotFound.
func (db *DB) TouchAuthorization(ctx context.Context, id string, at time.Time) error {
	res, err := db.sql.ExecContext(ctx,
		`UPDATE authorizations SET last_used_at = ? WHERE id = ?`, micros(at), id)
	return wrap("touch authorization", mustAffect(res, err))
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
	rows, err := db.sql.QueryContext(ctx,
		`SELECT id FROM authorizations WHERE ended_at IS NOT NULL AND ended_at >= ?
		ORDER BY ended_at, id`, from)
	if err != nil {
		return nil, wrap("list ended authorizations", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("list ended authorizations", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list ended authorizations", err)
	}
	return ids, nil
}

// ListUserAuthorizations implements store.Authorizations: newest CreatedAt
// first, ties broken by descending ID.
func (db *DB) ListUserAuthorizations(ctx context.Context, userID string) ([]store.Authorization, error) {
	rows, err := db.sql.QueryContext(ctx,
		`SELECT `+authorizationColumns+` FROM authorizations WHERE user_id = ?
		ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, wrap("list user authorizations", err)
	}
	defer rows.Close()
	var out []store.Authorization
	for rows.Next() {
		a, err := scanAuthorization(rows)
		if err != nil {
			return nil, wrap("list user authorizations", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list user authorizations", err)
	}
	return out, nil
}

func scanAuthorization(s rowScanner) (store.Authorization, error) {
	var (
		a                             store.Authorization
		created, used, expires, ended nullMicros
		reason, lctx                  string
	)
	if err := s.Scan(&a.ID, &a.UserID, &a.ClientID, &a.PatientID, &a.Scope, &a.Offline,
		&created, &used, &expires, &ended, &reason, &a.SessionID, &lctx); err != nil {
		return store.Authorization{}, err
	}
	if err := json.Unmarshal([]byte(lctx), &a.Context); err != nil {
		return store.Authorization{}, fmt.Errorf("decode launch context: %w", err)
	}
	a.CreatedAt = created.time()
	a.LastUsedAt = used.time()
	a.ExpiresAt = expires.time()
	a.EndedAt = ended.time()
	a.EndReason = store.EndReason(reason)
	return a, nil
}

// launchContextJSON encodes a launch context; it cannot fail for this type.
func launchContextJSON(c store.LaunchContext) string {
	b, _ := json.Marshal(c)
	return string(b)
}
