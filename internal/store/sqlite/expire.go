package sqlite

import (
	"context"
	"fmt"
	"time"
)

// deleteExpired deletes the rows of table whose expires_at is at or before
// now. table is always a constant of this package, never input.
func (db *DB) deleteExpired(ctx context.Context, table string, now time.Time) (int, error) {
	res, err := db.sql.ExecContext(ctx,
		`DELETE FROM `+table+` WHERE expires_at IS NOT NULL AND expires_at <= ?`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired %s: %w", table, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired %s: %w", table, err)
	}
	return int(n), nil
}
