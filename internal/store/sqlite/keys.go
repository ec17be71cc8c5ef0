package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// CreateKey implements store.Keys.
func (db *DB) CreateKey(ctx context.Context, k store.SigningKey) error {
	_, err := db.sql.ExecContext(ctx,
		`INSERT INTO signing_keys (id, algorithm, private_key, created_at, activates_at, retires_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.PrivateKey, micros(k.CreatedAt), micros(k.ActivatesAt), micros(k.RetiresAt))
	return wrap("create key", err)
}

// CreateNextKey implements store.Keys: one INSERT … SELECT … WHERE NOT
// EXISTS, which SQLite runs under its single write lock, so the check and
// the insert cannot interleave with another writer's. Withdrawn keys (a
// retirement not after the activation) do not count.
func (db *DB) CreateNextKey(ctx context.Context, k store.SigningKey, after time.Time) error {
	res, err := db.sql.ExecContext(ctx,
		`INSERT INTO signing_keys (id, algorithm, private_key, created_at, activates_at, retires_at)
		SELECT ?, ?, ?, ?, ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM signing_keys
			WHERE algorithm = ? AND COALESCE(activates_at, created_at) > ?
				AND (retires_at IS NULL OR retires_at > COALESCE(activates_at, created_at)))`,
		k.ID, k.Algorithm, k.PrivateKey, micros(k.CreatedAt), micros(k.ActivatesAt), micros(k.RetiresAt),
		k.Algorithm, micros(after))
	if err != nil {
		return wrap("create next key", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return wrap("create next key", orConflict(err))
	}
	return nil
}

// orConflict is err, or store.ErrConflict when err is nil.
func orConflict(err error) error {
	if err != nil {
		return err
	}
	return store.ErrConflict
}

// ListKeys implements store.Keys: every key, oldest first (ties by ID).
func (db *DB) ListKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := db.sql.QueryContext(ctx,
		`SELECT id, algorithm, private_key, created_at, activates_at, retires_at
		FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap("list keys", err)
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var (
			k                           store.SigningKey
			created, activates, retires nullMicros
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &created, &activates, &retires); err != nil {
			return nil, wrap("list keys", err)
		}
		k.CreatedAt, k.ActivatesAt, k.RetiresAt = created.time(), activates.time(), retires.time()
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list keys", err)
	}
	return out, nil
}

// SetKeyRetirement implements store.Keys: the earlier of the stored
// retirement and at.
func (db *DB) SetKeyRetirement(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return wrap("set key retirement", errZeroTime)
	}
	res, err := db.sql.ExecContext(ctx,
		`UPDATE signing_keys SET retires_at = ?1 WHERE id = ?2 AND (retires_at IS NULL OR retires_at > ?1)`,
		micros(at), id)
	if err != nil {
		return wrap("set key retirement", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return wrap("set key retirement", err)
	}
	return wrap("set key retirement", db.keyExists(ctx, id))
}

// ReplacePrivateKeys implements store.Keys: one write transaction, rolled
// back at the first replacement that does not apply.
func (db *DB) ReplacePrivateKeys(ctx context.Context, rs []store.PrivateKeyReplacement) error {
	if len(rs) == 0 {
		return nil
	}
	return db.inTx(ctx, "replace private keys", func(tx *sql.Tx) error {
		for _, r := range rs {
			res, err := tx.ExecContext(ctx,
				`UPDATE signing_keys SET private_key = ? WHERE id = ? AND private_key = ?`, r.New, r.ID, r.Old)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM signing_keys WHERE id = ?`, r.ID).Scan(&one); err != nil {
				return err // sql.ErrNoRows: wrapped as store.ErrNotFound
			}
			return store.ErrConflict
		}
		return nil
	})
}

// keyExists returns nil if key id exists, store.ErrNotFound if not.
func (db *DB) keyExists(ctx context.Context, id string) error {
	var one int
	return db.sql.QueryRowContext(ctx, `SELECT 1 FROM signing_keys WHERE id = ?`, id).Scan(&one)
}
