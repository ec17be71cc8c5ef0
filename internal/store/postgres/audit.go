package postgres

import (
	"context"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// AppendAuditEvent implements store.AuditEvents.
func (db *DB) AppendAuditEvent(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error) {
	if e.At.IsZero() {
		return e, wrap("append audit event", errZeroTime)
	}
	err := db.pool.QueryRow(ctx,
		`INSERT INTO audit_events (at, type, user_id, client_id, authorization_id, detail, address)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		micros(e.At), e.Type, e.UserID, e.ClientID, e.AuthorizationID, e.Detail, e.Address).Scan(&e.ID)
	return e, wrap("append audit event", err)
}

// ListAuditEvents implements store.AuditEvents.
func (db *DB) ListAuditEvents(ctx context.Context, q store.AuditQuery) ([]store.AuditEvent, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	since, before := int64(0), int64(math.MaxInt64)
	if !q.Since.IsZero() {
		since = q.Since.UnixMicro()
	}
	if !q.Before.IsZero() {
		before = q.Before.UnixMicro()
	}
	out, err := queryAll(ctx, db.pool, func(r pgx.Row) (store.AuditEvent, error) {
		var (
			e  store.AuditEvent
			at *int64
		)
		err := r.Scan(&e.ID, &at, &e.Type, &e.UserID, &e.ClientID, &e.AuthorizationID, &e.Detail, &e.Address)
		e.At = timeOf(at)
		return e, err
	}, `SELECT id, at, type, user_id, client_id, authorization_id, detail, address FROM audit_events
		WHERE ($1::text = '' OR user_id = $1) AND ($2::text = '' OR client_id = $2)
		AND ($3::text = '' OR authorization_id = $3) AND ($4::text = '' OR type = $4)
		AND at >= $5 AND at < $6 AND id > $7
		ORDER BY id LIMIT $8`,
		q.UserID, q.ClientID, q.AuthorizationID, q.Type, since, before, q.AfterID, limit)
	return out, wrap("list audit events", err)
}
