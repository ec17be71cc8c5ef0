package sqlite

import (
	"context"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// CreateKey implements store.Keys.
func (db *DB) CreateKey(ctx context.Context, k store.SigningKey) error {
	_, err := db.sql.ExecContext(ctx,
		`INSERT INTO signing_keys (id, algorithm, private_key, created_at) VALUES (?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.PrivateKey, micros(k.CreatedAt))
	return wrap("create key", err)
}

// ListKeys implements store.Keys: every key, oldest first (ties by ID).
func (db *DB) ListKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := db.sql.QueryContext(ctx,
		`SELECT id, algorithm, private_key, created_at FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap("list keys", err)
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var (
			k       store.SigningKey
			created nullMicros
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &created); err != nil {
			return nil, wrap("list keys", err)
		}
		k.CreatedAt = created.time()
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list keys", err)
	}
	return out, nil
}
