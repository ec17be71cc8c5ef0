package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// PutResources implements store.Resources: each resource replaces any
// stored one with the same type and id, together with all its index and
// compartment rows, in one transaction. Resources are written in (type,
// id) order, so that concurrent calls lock rows in one order and cannot
// deadlock; a resource given twice is written twice, the last one staying.
func (db *DB) PutResources(ctx context.Context, rs []store.Resource) error {
	for _, r := range rs {
		if r.Type == "" || r.ID == "" {
			return fmt.Errorf("postgres: put resources: resource without type or id")
		}
	}
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(a, b store.Resource) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID))
	})
	err := db.inTx(ctx, "put resources", func(tx pgx.Tx) error {
		var b batch
		for _, r := range rs {
			if err := queuePut(&b, r, false); err != nil {
				return fmt.Errorf("%s/%s: %w", r.Type, r.ID, err)
			}
			if err := b.runIfFull(ctx, tx); err != nil {
				return err
			}
		}
		return b.run(ctx, tx)
	})
	if err == nil && len(rs) >= analyzeAfter {
		// Statistics only speed searches up and the data is committed, so
		// a failure (such as not owning the tables) is no error of the put.
		_, _ = db.pool.Exec(ctx, `ANALYZE fhir_resources, fhir_index, fhir_compartments`)
	}
	return err
}

// analyzeAfter is how many resources one PutResources call (a bulk load,
// such as the sample data's) writes before it refreshes the planner's
// statistics of the resource tables. Autovacuum would, but only within a
// minute or so; until then the planner, which takes the freshly loaded
// tables for nearly empty, picks plans that make searches a hundred times
// slower.
const analyzeAfter = 1000

// queuePut queues the statements that store r as the current version of
// its resource, replacing the stored one unless create, which fails on a
// stored one with a unique violation.
func queuePut(b *batch, r store.Resource, create bool) error {
	if r.Type == "" || r.ID == "" {
		return errors.New("resource without type or id")
	}
	idx, err := encodeIndex(r.Index)
	if err != nil {
		return err
	}
	patients := slices.Compact(slices.Sorted(slices.Values(r.Patients)))
	what := r.Type + "/" + r.ID
	insert := `INSERT INTO fhir_resources (type, id, version_id, last_updated, json, patients, idx)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`
	if !create {
		insert += ` ON CONFLICT (type, id) DO UPDATE SET version_id = excluded.version_id,
		last_updated = excluded.last_updated, json = excluded.json,
		patients = excluded.patients, idx = excluded.idx`
	}
	// The resource row first: it locks an existing resource before its
	// index and compartment rows are touched.
	b.queue(what, insert, r.Type, r.ID, r.VersionID, micros(r.LastUpdated), nonNilBytes(r.JSON), strs(patients), idx)
	b.queue(what, `DELETE FROM fhir_index WHERE type = $1 AND id = $2`, r.Type, r.ID)
	b.queue(what, `DELETE FROM fhir_compartments WHERE type = $1 AND id = $2`, r.Type, r.ID)
	var (
		tokParams, systems, values []string
		dateParams                 []string
		lows, highs                []int64
	)
	for _, e := range r.Index {
		if e.IsDate() {
			dateParams, lows, highs = append(dateParams, e.Param), append(lows, lowMicros(e.Low)), append(highs, highMicros(e.High))
		} else {
			tokParams, systems, values = append(tokParams, e.Param), append(systems, e.System), append(values, e.Value)
		}
	}
	if len(tokParams) > 0 {
		b.queue(what, `INSERT INTO fhir_index (type, id, param, system, value)
			SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[])`, r.Type, r.ID, tokParams, systems, values)
	}
	if len(dateParams) > 0 {
		b.queue(what, `INSERT INTO fhir_index (type, id, param, low, high)
			SELECT $1, $2, * FROM unnest($3::text[], $4::bigint[], $5::bigint[])`, r.Type, r.ID, dateParams, lows, highs)
	}
	if len(patients) > 0 {
		b.queue(what, `INSERT INTO fhir_compartments (patient, type, id)
			SELECT p, $2, $3 FROM unnest($1::text[]) AS p`, patients, r.Type, r.ID)
	}
	return nil
}

// lowMicros and highMicros store an unbounded range end as the smallest or
// largest int64.
func lowMicros(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixMicro()
}

func highMicros(t time.Time) int64 {
	if t.IsZero() {
		return math.MaxInt64
	}
	return t.UnixMicro()
}

// GetResource implements store.Resources.
func (db *DB) GetResource(ctx context.Context, typ, id string) (store.Resource, error) {
	r := store.Resource{Type: typ, ID: id}
	var (
		updated *int64
		idx     []byte
	)
	err := db.pool.QueryRow(ctx,
		`SELECT version_id, last_updated, json, patients, idx FROM fhir_resources WHERE type = $1 AND id = $2`,
		typ, id).Scan(&r.VersionID, &updated, &r.JSON, &r.Patients, &idx)
	if err != nil {
		return store.Resource{}, wrap("get resource", err)
	}
	r.LastUpdated, r.Patients = timeOf(updated), orNil(r.Patients)
	if r.Index, err = decodeIndex(idx); err != nil {
		return store.Resource{}, fmt.Errorf("postgres: get resource: %w", err)
	}
	return r, nil
}

// CountResources implements store.Resources.
func (db *DB) CountResources(ctx context.Context) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM fhir_resources`).Scan(&n)
	return n, wrap("count resources", err)
}

// indexJSON is an IndexEntry as kept in the idx columns: date ends are
// unix microseconds, absent when unbounded; a date value keeps no system
// or value, as it has no index row for them.
type indexJSON struct {
	P string `json:"p"`
	S string `json:"s,omitempty"`
	V string `json:"v,omitempty"`
	L *int64 `json:"l,omitempty"`
	H *int64 `json:"h,omitempty"`
}

// encodeIndex returns the idx value of es. It is a string, not a []byte,
// which pgx would send as bytea in its simple protocol (pgbouncer setups).
func encodeIndex(es []store.IndexEntry) (string, error) {
	out := make([]indexJSON, len(es))
	for i, e := range es {
		if !e.IsDate() {
			out[i] = indexJSON{P: e.Param, S: e.System, V: e.Value}
			continue
		}
		out[i] = indexJSON{P: e.Param, L: micros(e.Low), H: micros(e.High)}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encode index: %w", err)
	}
	return string(b), nil
}

func decodeIndex(b []byte) ([]store.IndexEntry, error) {
	var es []indexJSON
	if err := json.Unmarshal(b, &es); err != nil {
		return nil, fmt.Errorf("decode index: %w", err)
	}
	if len(es) == 0 {
		return nil, nil
	}
	out := make([]store.IndexEntry, len(es))
	for i, e := range es {
		out[i] = store.IndexEntry{Param: e.P, System: e.S, Value: e.V, Low: timeOf(e.L), High: timeOf(e.H)}
	}
	return out, nil
}

// maxBatch is how many statements a batch gathers before it is sent.
const maxBatch = 512

// batch gathers statements to send to the server in one round trip, with
// what each is about, so that a failure names its resource.
type batch struct {
	b    pgx.Batch
	what []string
}

func (b *batch) queue(what, sql string, args ...any) {
	b.b.Queue(sql, args...)
	b.what = append(b.what, what)
}

// runIfFull runs the batch once it holds maxBatch statements or more.
func (b *batch) runIfFull(ctx context.Context, tx pgx.Tx) error {
	if len(b.what) < maxBatch {
		return nil
	}
	return b.run(ctx, tx)
}

// run sends the queued statements in tx, reads every result, and empties
// the batch.
func (b *batch) run(ctx context.Context, tx pgx.Tx) error {
	if len(b.what) == 0 {
		return nil
	}
	queued, what := b.b, b.what
	*b = batch{}
	br := tx.SendBatch(ctx, &queued)
	for _, w := range what {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("%s: %w", w, err)
		}
	}
	return br.Close()
}
