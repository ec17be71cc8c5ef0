package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// PutResources implements store.Resources: each resource replaces any
// stored one with the same type and id, together with all its index and
// compartment rows, in one transaction.
func (db *DB) PutResources(ctx context.Context, rs []store.Resource) error {
	return db.inTx(ctx, "put resources", func(tx *sql.Tx) error {
		stmts, err := preparePut(ctx, tx)
		if err != nil {
			return err
		}
		defer stmts.close()
		for _, r := range rs {
			if err := stmts.put(ctx, r); err != nil {
				return fmt.Errorf("%s/%s: %w", r.Type, r.ID, err)
			}
		}
		return nil
	})
}

// putStmts are the statements PutResources runs for every resource.
type putStmts struct {
	delIndex, delComp, upsert, addIndex, addComp *sql.Stmt
}

func preparePut(ctx context.Context, tx *sql.Tx) (*putStmts, error) {
	s := &putStmts{}
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&s.delIndex, `DELETE FROM fhir_index WHERE type = ? AND id = ?`},
		{&s.delComp, `DELETE FROM fhir_compartments WHERE type = ? AND id = ?`},
		{&s.upsert, `INSERT INTO fhir_resources (type, id, version_id, last_updated, json)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (type, id) DO UPDATE SET version_id = excluded.version_id,
			last_updated = excluded.last_updated, json = excluded.json`},
		{&s.addIndex, `INSERT INTO fhir_index (type, id, param, system, value, low, high)
			VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&s.addComp, `INSERT OR IGNORE INTO fhir_compartments (patient, type, id) VALUES (?, ?, ?)`},
	} {
		st, err := tx.PrepareContext(ctx, p.query)
		if err != nil {
			s.close()
			return nil, err
		}
		*p.dst = st
	}
	return s, nil
}

func (s *putStmts) close() {
	for _, st := range []*sql.Stmt{s.delIndex, s.delComp, s.upsert, s.addIndex, s.addComp} {
		if st != nil {
			st.Close()
		}
	}
}

func (s *putStmts) put(ctx context.Context, r store.Resource) error {
	if r.Type == "" || r.ID == "" {
		return errors.New("resource without type or id")
	}
	if _, err := s.delIndex.ExecContext(ctx, r.Type, r.ID); err != nil {
		return err
	}
	if _, err := s.delComp.ExecContext(ctx, r.Type, r.ID); err != nil {
		return err
	}
	if _, err := s.upsert.ExecContext(ctx, r.Type, r.ID, r.VersionID, micros(r.LastUpdated), r.JSON); err != nil {
		return err
	}
	for _, e := range r.Index {
		var err error
		if e.IsDate() {
			_, err = s.addIndex.ExecContext(ctx, r.Type, r.ID, e.Param, nil, nil, lowMicros(e.Low), highMicros(e.High))
		} else {
			_, err = s.addIndex.ExecContext(ctx, r.Type, r.ID, e.Param, e.System, e.Value, nil, nil)
		}
		if err != nil {
			return err
		}
	}
	for _, p := range r.Patients {
		if _, err := s.addComp.ExecContext(ctx, p, r.Type, r.ID); err != nil {
			return err
		}
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
	var updated nullMicros
	err := db.sql.QueryRowContext(ctx,
		`SELECT version_id, last_updated, json FROM fhir_resources WHERE type = ? AND id = ?`,
		typ, id).Scan(&r.VersionID, &updated, &r.JSON)
	if err != nil {
		return store.Resource{}, wrap("get resource", err)
	}
	r.LastUpdated = updated.time()
	rows, err := db.sql.QueryContext(ctx,
		`SELECT patient FROM fhir_compartments WHERE type = ? AND id = ? ORDER BY patient`, typ, id)
	if err != nil {
		return store.Resource{}, wrap("get resource", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return store.Resource{}, wrap("get resource", err)
		}
		r.Patients = append(r.Patients, p)
	}
	return r, wrap("get resource", rows.Err())
}

// SearchResources implements store.Resources.
func (db *DB) SearchResources(ctx context.Context, q store.ResourceQuery) ([]store.Resource, int, error) {
	if q.Count < 0 || q.Offset < 0 {
		return nil, 0, fmt.Errorf("sqlite: search resources: negative count or offset")
	}
	where, args, err := searchWhere(q)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: search resources: %w", err)
	}
	var total int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM fhir_resources r WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, wrap("search resources", err)
	}
	if q.Count == 0 || q.Offset >= total {
		return nil, total, nil
	}
	rows, err := db.sql.QueryContext(ctx,
		`SELECT r.id, r.version_id, r.last_updated, r.json FROM fhir_resources r WHERE `+where+
			` ORDER BY r.id LIMIT ? OFFSET ?`, append(args, q.Count, q.Offset)...)
	if err != nil {
		return nil, 0, wrap("search resources", err)
	}
	defer rows.Close()
	var out []store.Resource
	for rows.Next() {
		r := store.Resource{Type: q.Type}
		var updated nullMicros
		if err := rows.Scan(&r.ID, &r.VersionID, &updated, &r.JSON); err != nil {
			return nil, 0, wrap("search resources", err)
		}
		r.LastUpdated = updated.time()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, wrap("search resources", err)
	}
	return out, total, nil
}

// searchWhere builds the WHERE clause over fhir_resources r for q.
func searchWhere(q store.ResourceQuery) (string, []any, error) {
	var b strings.Builder
	args := []any{q.Type}
	b.WriteString("r.type = ?")
	if q.Patient != "" {
		b.WriteString(` AND EXISTS (SELECT 1 FROM fhir_compartments c
			WHERE c.patient = ? AND c.type = r.type AND c.id = r.id)`)
		args = append(args, q.Patient)
	}
	for _, f := range q.Filters {
		b.WriteString(` AND EXISTS (SELECT 1 FROM fhir_index i
			WHERE i.type = r.type AND i.id = r.id AND i.param = ? AND (`)
		args = append(args, f.Param)
		if len(f.Any) == 0 {
			b.WriteString("0")
		}
		for j, m := range f.Any {
			if j > 0 {
				b.WriteString(" OR ")
			}
			cond, cargs, err := matchCond(m)
			if err != nil {
				return "", nil, fmt.Errorf("%s: %w", f.Param, err)
			}
			b.WriteString(cond)
			args = append(args, cargs...)
		}
		b.WriteString("))")
	}
	return b.String(), args, nil
}

// matchCond is the SQL condition on index row i for one Match; see
// store.PrefixEq for the date semantics.
func matchCond(m store.Match) (string, []any, error) {
	if m.Prefix == "" {
		if m.HasSystem {
			return "(i.value = ? AND i.system = ?)", []any{m.Value, m.System}, nil
		}
		return "i.value = ?", []any{m.Value}, nil
	}
	lo, hi := lowMicros(m.Low), highMicros(m.High)
	switch m.Prefix {
	case store.PrefixEq:
		return "(i.low >= ? AND i.high <= ?)", []any{lo, hi}, nil
	case store.PrefixNe:
		return "(i.low IS NOT NULL AND NOT (i.low >= ? AND i.high <= ?))", []any{lo, hi}, nil
	case store.PrefixLt:
		return "i.low < ?", []any{lo}, nil
	case store.PrefixGt:
		return "i.high > ?", []any{hi}, nil
	case store.PrefixLe:
		return "i.low <= ?", []any{hi}, nil
	case store.PrefixGe:
		return "i.high >= ?", []any{lo}, nil
	case store.PrefixSa:
		return "i.low > ?", []any{hi}, nil
	case store.PrefixEb:
		return "i.high < ?", []any{lo}, nil
	case store.PrefixAp:
		return "(i.low <= ? AND i.high >= ?)", []any{hi, lo}, nil
	}
	return "", nil, fmt.Errorf("unknown date prefix %q", m.Prefix)
}

// CountResources implements store.Resources.
func (db *DB) CountResources(ctx context.Context) (int, error) {
	var n int
	err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM fhir_resources`).Scan(&n)
	return n, wrap("count resources", err)
}
