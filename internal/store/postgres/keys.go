package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// keysLock is the transaction-level advisory lock CreateNextKey holds
// ("smartkey"): under READ COMMITTED two transactions could both find no
// next key and both insert one, so they take turns, and the second sees
// the first's key.
const keysLock int64 = 0x736d6172746b6579

const keyColumns = `id, algorithm, private_key, created_at, activates_at, retires_at`

// CreateKey implements store.Keys.
func (db *DB) CreateKey(ctx context.Context, k store.SigningKey) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO signing_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.Algorithm, nonNilBytes(k.PrivateKey), micros(k.CreatedAt), micros(k.ActivatesAt), micros(k.RetiresAt))
	return wrap("create key", err)
}

// CreateNextKey implements store.Keys: the check and the insert run in one
// transaction holding keysLock, so instances racing to add the next key
// take turns and only the first adds one. Withdrawn keys (a retirement
// not after the activation) do not count.
func (db *DB) CreateNextKey(ctx context.Context, k store.SigningKey, after time.Time) error {
	return db.inTx(ctx, "create next key", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, keysLock); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO signing_keys (`+keyColumns+`)
			SELECT $1::text, $2::text, $3::bytea, $4::bigint, $5::bigint, $6::bigint
			WHERE NOT EXISTS (SELECT 1 FROM signing_keys
				WHERE algorithm = $2 AND COALESCE(activates_at, created_at) > $7::bigint
					AND (retires_at IS NULL OR retires_at > COALESCE(activates_at, created_at)))`,
			k.ID, k.Algorithm, nonNilBytes(k.PrivateKey), micros(k.CreatedAt), micros(k.ActivatesAt), micros(k.RetiresAt),
			micros(after))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrConflict
		}
		return nil
	})
}

// ListKeys implements store.Keys: every key, oldest first (ties by ID; a
// key without a creation time first, as in the SQLite backend).
func (db *DB) ListKeys(ctx context.Context) ([]store.SigningKey, error) {
	out, err := queryAll(ctx, db.pool, func(r pgx.Row) (store.SigningKey, error) {
		var (
			k                           store.SigningKey
			created, activates, retires *int64
		)
		err := r.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &created, &activates, &retires)
		k.CreatedAt, k.ActivatesAt, k.RetiresAt = timeOf(created), timeOf(activates), timeOf(retires)
		return k, err
	}, `SELECT `+keyColumns+` FROM signing_keys ORDER BY created_at NULLS FIRST, id`)
	return out, wrap("list keys", err)
}

// SetKeyRetirement implements store.Keys: the earlier of the stored
// retirement and at (LEAST ignores a NULL).
func (db *DB) SetKeyRetirement(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return wrap("set key retirement", errZeroTime)
	}
	tag, err := db.pool.Exec(ctx,
		`UPDATE signing_keys SET retires_at = LEAST(retires_at, $1::bigint)
		WHERE id = $2 AND (retires_at IS NULL OR retires_at > $1::bigint)`, micros(at), id)
	if err != nil || tag.RowsAffected() > 0 {
		return wrap("set key retirement", err)
	}
	return wrap("set key retirement", db.keyExists(ctx, id))
}

// ReplacePrivateKeys implements store.Keys: one transaction, rolled back
// at the first replacement that does not apply. Rows are updated in the
// order of their IDs, so that concurrent calls lock them in one order
// (no deadlock); under READ COMMITTED a call that waited for another's
// row lock sees the other's bytes, and conflicts.
func (db *DB) ReplacePrivateKeys(ctx context.Context, rs []store.PrivateKeyReplacement) error {
	if len(rs) == 0 {
		return nil
	}
	rs = slices.SortedFunc(slices.Values(rs), func(a, b store.PrivateKeyReplacement) int { return strings.Compare(a.ID, b.ID) })
	return db.inTx(ctx, "replace private keys", func(tx pgx.Tx) error {
		for _, r := range rs {
			tag, err := tx.Exec(ctx, `UPDATE signing_keys SET private_key = $1 WHERE id = $2 AND private_key = $3`,
				nonNilBytes(r.New), r.ID, nonNilBytes(r.Old))
			if err != nil {
				return err
			}
			if tag.RowsAffected() > 0 {
				continue
			}
			var one int
			err = tx.QueryRow(ctx, `SELECT 1 FROM signing_keys WHERE id = $1`, r.ID).Scan(&one)
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrNotFound
			}
			if err != nil {
				return err
			}
			return store.ErrConflict
		}
		return nil
	})
}

// keyExists returns nil if key id exists, store.ErrNotFound if not.
func (db *DB) keyExists(ctx context.Context, id string) error {
	var one int
	err := db.pool.QueryRow(ctx, `SELECT 1 FROM signing_keys WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// nonNilBytes returns b, or an empty slice for nil: pgx sends a nil slice
// as NULL, and bytea columns are NOT NULL.
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
