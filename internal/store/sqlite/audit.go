package sqlite

import (
	"context"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// AppendAuditEvent implements store.AuditEvents.
func (db *DB) AppendAuditEvent(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error) {
	if e.At.IsZero() {
		return e, wrap("append audit event", errZeroTime)
	}
	err := db.sql.QueryRowContext(ctx,
		`INSERT INTO audit_events (at, type, user_id, client_id, authorization_id, detail)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		micros(e.At), e.Type, e.UserID, e.ClientID, e.AuthorizationID, e.Detail).Scan(&e.ID)
	return e, wrap("append audit event", err)
}

// ListAuditEvents implements store.AuditEvents.
func (db *DB) ListAuditEvents(ctx context.Context, q store.AuditQuery) ([]store.AuditEvent, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var since any = int64(0)
	if !q.Since.IsZero() {
		since = micros(q.Since)
	}
	rows, err := db.sql.QueryContext(ctx,
		`SELECT id, at, type, user_id, client_id, authorization_id, detail FROM audit_events
		WHERE (? = '' OR user_id = ?) AND (? = '' OR authorization_id = ?) AND at >= ?
		ORDER BY id LIMIT ?`,
		q.UserID, q.UserID, q.AuthorizationID, q.AuthorizationID, since, limit)
	if err != nil {
		return nil, wrap("list audit events", err)
	}
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		var (
			e  store.AuditEvent
			at int64
		)
		if err := rows.Scan(&e.ID, &at, &e.Type, &e.UserID, &e.ClientID, &e.AuthorizationID, &e.Detail); err != nil {
			return nil, wrap("list audit events", err)
		}
		e.At = time.UnixMicro(at).UTC()
		out = append(out, e)
	}
	return out, wrap("list audit events", rows.Err())
}
