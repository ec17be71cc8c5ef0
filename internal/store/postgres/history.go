package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// resourceKey is a resource's type and id.
type resourceKey struct{ typ, id string }

// WriteResources implements store.Resources in one transaction. It first
// locks the stored rows of every resource it changes, in (type, id) order,
// and reads their current versions; a concurrent writer of one of them
// waits here, and then reads what the first one committed. Each change's
// Base is checked against those versions before anything is written.
// Updates and deletions then move the current version to fhir_history, in
// the order given; creations come last, in (type, id) order, as plain
// inserts, so that a concurrent creation of the same resource fails with a
// unique violation (store.ErrConflict) instead of replacing it.
func (db *DB) WriteResources(ctx context.Context, changes []store.Change) error {
	const op = "write resources"
	seen := make(map[resourceKey]bool, len(changes))
	for _, c := range changes {
		k := resourceKey{c.Resource.Type, c.Resource.ID}
		switch {
		case k.typ == "" || k.id == "":
			return fmt.Errorf("postgres: %s: resource without type or id", op)
		case seen[k]:
			return fmt.Errorf("postgres: %s: %s/%s changed twice: %w", op, k.typ, k.id, store.ErrConflict)
		}
		seen[k] = true
	}
	return db.inTx(ctx, op, func(tx pgx.Tx) error {
		current, err := lockCurrent(ctx, tx, changes)
		if err != nil {
			return err
		}
		var (
			b       batch
			creates []store.Resource
		)
		for _, c := range changes {
			r := c.Resource
			cur := current[resourceKey{r.Type, r.ID}]
			switch {
			case cur != c.Base:
				return fmt.Errorf("%s/%s: current version %q, change based on %q: %w", r.Type, r.ID, cur, c.Base, store.ErrConflict)
			case c.Delete && cur == "":
				return fmt.Errorf("%s/%s: delete of a missing resource: %w", r.Type, r.ID, store.ErrConflict)
			case cur == "":
				creates = append(creates, r)
				continue
			}
			if err := queueReplace(&b, c); err != nil {
				return fmt.Errorf("%s/%s: %w", r.Type, r.ID, err)
			}
			if err := b.runIfFull(ctx, tx); err != nil {
				return err
			}
		}
		slices.SortFunc(creates, func(a, b store.Resource) int {
			return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID))
		})
		for _, r := range creates {
			if err := queuePut(&b, r, true); err != nil {
				return fmt.Errorf("%s/%s: %w", r.Type, r.ID, err)
			}
			if err := b.runIfFull(ctx, tx); err != nil {
				return err
			}
		}
		return b.run(ctx, tx)
	})
}

// lockCurrent locks the stored rows of the resources changes name, in
// (type, id) order, and returns their current versions.
func lockCurrent(ctx context.Context, tx pgx.Tx, changes []store.Change) (map[resourceKey]string, error) {
	types, ids := make([]string, len(changes)), make([]string, len(changes))
	for i, c := range changes {
		types[i], ids[i] = c.Resource.Type, c.Resource.ID
	}
	rows, err := tx.Query(ctx, `SELECT type, id, version_id FROM fhir_resources
		WHERE (type, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
		ORDER BY type, id FOR UPDATE`, types, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	current := make(map[resourceKey]string, len(changes))
	for rows.Next() {
		var k resourceKey
		var v string
		if err := rows.Scan(&k.typ, &k.id, &v); err != nil {
			return nil, err
		}
		current[k] = v
	}
	return current, rows.Err()
}

// queueReplace queues an update or deletion of a stored, locked resource:
// its current version is copied into fhir_history first, and a deletion
// is recorded there as version c.Resource.VersionID with the compartments
// and index of the version deleted.
func queueReplace(b *batch, c store.Change) error {
	r := c.Resource
	what := r.Type + "/" + r.ID
	b.queue(what, `INSERT INTO fhir_history (type, id, version_id, last_updated, json, patients, idx)
		SELECT type, id, version_id, last_updated, json, patients, idx FROM fhir_resources
		WHERE type = $1 AND id = $2`, r.Type, r.ID)
	if !c.Delete {
		return queuePut(b, r, false)
	}
	b.queue(what, `INSERT INTO fhir_history (type, id, version_id, last_updated, deleted, patients, idx)
		SELECT type, id, $3, $4, true, patients, idx FROM fhir_resources
		WHERE type = $1 AND id = $2`, r.Type, r.ID, r.VersionID, micros(r.LastUpdated))
	for _, table := range []string{"fhir_index", "fhir_compartments", "fhir_resources"} {
		b.queue(what, `DELETE FROM `+table+` WHERE type = $1 AND id = $2`, r.Type, r.ID)
	}
	return nil
}

// ResourceHistory implements store.Resources.
func (db *DB) ResourceHistory(ctx context.Context, q store.HistoryQuery) ([]store.Resource, error) {
	var (
		where []string
		args  []any
	)
	if q.Type != "" {
		args = append(args, q.Type)
		where = append(where, "type = $"+strconv.Itoa(len(args)))
	}
	if q.ID != "" {
		args = append(args, q.ID)
		where = append(where, "id = $"+strconv.Itoa(len(args)))
	}
	query := `SELECT type, id, version_id, last_updated, json, deleted, patients, idx FROM fhir_history`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	out, err := queryAll(ctx, db.pool, scanHistory, query+" ORDER BY seq DESC", args...)
	return out, wrap("resource history", err)
}

func scanHistory(row pgx.Row) (store.Resource, error) {
	var (
		r       store.Resource
		updated *int64
		idx     []byte
	)
	if err := row.Scan(&r.Type, &r.ID, &r.VersionID, &updated, &r.JSON, &r.Deleted, &r.Patients, &idx); err != nil {
		return store.Resource{}, err
	}
	r.LastUpdated, r.Patients = timeOf(updated), orNil(r.Patients)
	var err error
	r.Index, err = decodeIndex(idx)
	return r, err
}
