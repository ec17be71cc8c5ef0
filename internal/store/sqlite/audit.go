package sqlite

import (
	"context"
	"database/sql"
	"math"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// AppendAuditEvent implements store.AuditEvents.
func (db *DB) AppendAuditEvent(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error) {
	if e.At.IsZero() {
		return e, wrap("append audit event", errZeroTime)
	}
	// Events come with hot-path writes (one per refresh-token rotation):
	// they are group-committed like those (batch.go), not one fsync each.
	err := db.inBatch(ctx, "append audit event", func(ctx context.Context, tx *sql.Tx) error {
		var err error
		e.ID, err = insertAuditEvent(ctx, tx, e)
		return err
	})
	return e, wrap("append audit event", err)
}

// insertAuditEvent appends e in tx and returns its ID.
func insertAuditEvent(ctx context.Context, tx *sql.Tx, e store.AuditEvent) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx,
		`INSERT INTO audit_events (at, type, user_id, client_id, authorization_id, detail, address)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		micros(e.At), e.Type, e.UserID, e.ClientID, e.AuthorizationID, e.Detail, e.Address).Scan(&id)
	return id, err
}

// ListAuditEvents implements store.AuditEvents.
func (db *DB) ListAuditEvents(ctx context.Context, q store.AuditQuery) ([]store.AuditEvent, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	since, before := auditWindow(q)
	rows, err := db.sql.QueryContext(ctx,
		`SELECT id, at, type, user_id, client_id, authorization_id, detail, address FROM audit_events
		WHERE (?1 = '' OR user_id = ?1) AND (?2 = '' OR client_id = ?2)
		AND (?3 = '' OR authorization_id = ?3) AND (?4 = '' OR type = ?4)
		AND at >= ?5 AND at < ?6 AND id > ?7
		ORDER BY id LIMIT ?8`,
		q.UserID, q.ClientID, q.AuthorizationID, q.Type, since, before, q.AfterID, limit)
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
		if err := rows.Scan(&e.ID, &at, &e.Type, &e.UserID, &e.ClientID, &e.AuthorizationID, &e.Detail, &e.Address); err != nil {
			return nil, wrap("list audit events", err)
		}
		e.At = time.UnixMicro(at).UTC()
		out = append(out, e)
	}
	return out, wrap("list audit events", rows.Err())
}

// auditWindow returns q's time window in microseconds, open ends made
// the smallest and largest times.
func auditWindow(q store.AuditQuery) (since, before int64) {
	since, before = 0, math.MaxInt64
	if !q.Since.IsZero() {
		since = q.Since.UnixMicro()
	}
	if !q.Before.IsZero() {
		before = q.Before.UnixMicro()
	}
	return since, before
}
