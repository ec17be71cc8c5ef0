package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// AddAccess implements store.AccessRecords.
func (db *DB) AddAccess(ctx context.Context, recs []store.AccessRecord) error {
	if len(recs) == 0 {
		return nil
	}
	return db.inTx(ctx, "add access", func(tx *sql.Tx) error {
		for _, r := range recs {
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO access_records (authorization_id, day, resource_type, count) VALUES (?, ?, ?, ?)
				ON CONFLICT (authorization_id, day, resource_type) DO UPDATE SET count = count + excluded.count`,
				r.AuthorizationID, micros(dayOf(r.Day)), r.ResourceType, r.Count); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListAccess implements store.AccessRecords.
func (db *DB) ListAccess(ctx context.Context, authorizationID string, since time.Time) ([]store.AccessRecord, error) {
	var from any = int64(0)
	if !since.IsZero() {
		from = micros(dayOf(since))
	}
	rows, err := db.sql.QueryContext(ctx,
		`SELECT day, resource_type, count FROM access_records WHERE authorization_id = ? AND day >= ?
		ORDER BY day, resource_type`, authorizationID, from)
	if err != nil {
		return nil, wrap("list access", err)
	}
	defer rows.Close()
	var out []store.AccessRecord
	for rows.Next() {
		r := store.AccessRecord{AuthorizationID: authorizationID}
		var day int64
		if err := rows.Scan(&day, &r.ResourceType, &r.Count); err != nil {
			return nil, wrap("list access", err)
		}
		r.Day = time.UnixMicro(day).UTC()
		out = append(out, r)
	}
	return out, wrap("list access", rows.Err())
}

// DeleteAccessBefore implements store.AccessRecords.
func (db *DB) DeleteAccessBefore(ctx context.Context, before time.Time) (int, error) {
	return db.deleteBatches(ctx, "delete access",
		`DELETE FROM access_records WHERE rowid IN (SELECT rowid FROM access_records WHERE day < ? LIMIT ?)`,
		micros(dayOf(before)))
}

// dayOf is the UTC midnight starting t's day.
func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
