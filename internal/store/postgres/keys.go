package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// CreateKey implements store.Keys.
func (db *DB) CreateKey(ctx context.Context, k store.SigningKey) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO signing_keys (id, algorithm, private_key, created_at) VALUES ($1, $2, $3, $4)`,
		k.ID, k.Algorithm, nonNilBytes(k.PrivateKey), micros(k.CreatedAt))
	return wrap("create key", err)
}

// ListKeys implements store.Keys: every key, oldest first (ties by ID; a
// key without a creation time first, as in the SQLite backend).
func (db *DB) ListKeys(ctx context.Context) ([]store.SigningKey, error) {
	out, err := queryAll(ctx, db.pool, func(r pgx.Row) (store.SigningKey, error) {
		var (
			k       store.SigningKey
			created *int64
		)
		err := r.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &created)
		k.CreatedAt = timeOf(created)
		return k, err
	}, `SELECT id, algorithm, private_key, created_at FROM signing_keys ORDER BY created_at NULLS FIRST, id`)
	return out, wrap("list keys", err)
}

// nonNilBytes returns b, or an empty slice for nil: pgx sends a nil slice
// as NULL, and bytea columns are NOT NULL.
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
