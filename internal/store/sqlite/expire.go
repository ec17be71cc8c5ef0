package sqlite

import (
	"context"
	"fmt"
	"time"
)

// expiryBatch is how many rows one statement of the janitor deletes: each
// batch is a short write, so requests never wait behind one long delete.
const expiryBatch = 1000

// deleteExpired deletes the rows of table whose expires_at is at or before
// now, a batch at a time. table is always a constant of this package,
// never input.
func (db *DB) deleteExpired(ctx context.Context, table string, now time.Time) (int, error) {
	return db.deleteBatches(ctx, "delete expired "+table,
		`DELETE FROM `+table+` WHERE rowid IN (SELECT rowid FROM `+table+
			` WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)`, micros(now))
}

// deleteBatches runs query, a DELETE of at most its second parameter's
// rows, until a batch deletes fewer than expiryBatch; it returns how many
// it deleted in all.
func (db *DB) deleteBatches(ctx context.Context, op, query string, arg any) (int, error) {
	total := 0
	for {
		res, err := db.sql.ExecContext(ctx, query, arg, expiryBatch)
		if err != nil {
			return total, fmt.Errorf("sqlite: %s: %w", op, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlite: %s: %w", op, err)
		}
		total += int(n)
		if n < expiryBatch {
			return total, nil
		}
	}
}
