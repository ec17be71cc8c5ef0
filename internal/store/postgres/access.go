package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// AddAccess implements store.AccessRecords with one upsert of every
// record; records of one authorization, day and kind are summed first,
// since one statement may change a row only once.
func (db *DB) AddAccess(ctx context.Context, recs []store.AccessRecord) error {
	type key struct {
		authz, kind string
		day         int64
	}
	sums := map[key]int64{}
	var keys []key
	for _, r := range recs {
		k := key{r.AuthorizationID, r.ResourceType, dayOf(r.Day).UnixMicro()}
		if _, ok := sums[k]; !ok {
			keys = append(keys, k)
		}
		sums[k] += int64(r.Count)
	}
	if len(keys) == 0 {
		return nil
	}
	var (
		authz, kinds []string
		days, counts []int64
	)
	for _, k := range keys {
		authz, kinds = append(authz, k.authz), append(kinds, k.kind)
		days, counts = append(days, k.day), append(counts, sums[k])
	}
	_, err := db.pool.Exec(ctx,
		`INSERT INTO access_records (authorization_id, day, resource_type, count)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[])
		ON CONFLICT (authorization_id, day, resource_type)
		DO UPDATE SET count = access_records.count + excluded.count`,
		authz, days, kinds, counts)
	return wrap("add access", err)
}

// ListAccess implements store.AccessRecords.
func (db *DB) ListAccess(ctx context.Context, authorizationID string, since time.Time) ([]store.AccessRecord, error) {
	var from int64
	if !since.IsZero() {
		from = dayOf(since).UnixMicro()
	}
	out, err := queryAll(ctx, db.pool, func(r pgx.Row) (store.AccessRecord, error) {
		rec := store.AccessRecord{AuthorizationID: authorizationID}
		var day int64
		err := r.Scan(&day, &rec.ResourceType, &rec.Count)
		rec.Day = time.UnixMicro(day).UTC()
		return rec, err
	}, `SELECT day, resource_type, count FROM access_records WHERE authorization_id = $1 AND day >= $2
		ORDER BY day, resource_type`, authorizationID, from)
	return out, wrap("list access", err)
}

// DeleteAccessBefore implements store.AccessRecords.
func (db *DB) DeleteAccessBefore(ctx context.Context, before time.Time) (int, error) {
	return db.deleteBatches(ctx, "delete access",
		`DELETE FROM access_records WHERE ctid IN (SELECT ctid FROM access_records WHERE day < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		dayOf(before).UnixMicro())
}

// dayOf is the UTC midnight starting t's day.
func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
