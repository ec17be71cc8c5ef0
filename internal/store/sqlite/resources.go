package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	if r.Patients, err = compartments(ctx, db.sql, typ, id); err != nil {
		return store.Resource{}, wrap("get resource", err)
	}
	if r.Index, err = indexEntries(ctx, db.sql, typ, id); err != nil {
		return store.Resource{}, wrap("get resource", err)
	}
	return r, nil
}

// querier is what reads need of a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// compartments returns the patients in whose compartment a resource is.
func compartments(ctx context.Context, q querier, typ, id string) ([]string, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT patient FROM fhir_compartments WHERE type = ? AND id = ? ORDER BY patient`, typ, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// indexEntries returns a resource's index entries in insertion order.
func indexEntries(ctx context.Context, q querier, typ, id string) ([]store.IndexEntry, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT param, system, value, low, high FROM fhir_index WHERE type = ? AND id = ? ORDER BY rowid`, typ, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.IndexEntry
	for rows.Next() {
		var (
			e             store.IndexEntry
			system, value sql.NullString
			low, high     sql.NullInt64
		)
		if err := rows.Scan(&e.Param, &system, &value, &low, &high); err != nil {
			return nil, err
		}
		e.System, e.Value = system.String, value.String
		if low.Valid && low.Int64 != math.MinInt64 {
			e.Low = time.UnixMicro(low.Int64).UTC()
		}
		if high.Valid && high.Int64 != math.MaxInt64 {
			e.High = time.UnixMicro(high.Int64).UTC()
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// SearchResources implements store.Resources.
func (db *DB) SearchResources(ctx context.Context, q store.ResourceQuery) ([]store.Resource, int, error) {
	if q.Count < 0 || q.Offset < 0 {
		return nil, 0, fmt.Errorf("sqlite: search resources: negative count or offset")
	}
	var sb sqlBuilder
	if err := sb.where("r", q, 0); err != nil {
		return nil, 0, fmt.Errorf("sqlite: search resources: %w", err)
	}
	where, args := sb.b.String(), sb.args
	var total int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM fhir_resources r WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, wrap("search resources", err)
	}
	if q.Count == 0 || q.Offset >= total {
		return nil, total, nil
	}
	keys, order, sortArgs := sortColumns(q.Sort)
	rows, err := db.sql.QueryContext(ctx,
		`SELECT r.id, r.version_id, r.last_updated, r.json`+keys+` FROM fhir_resources r WHERE `+where+
			` ORDER BY `+order+`r.id LIMIT ? OFFSET ?`, append(append(sortArgs, args...), q.Count, q.Offset)...)
	if err != nil {
		return nil, 0, wrap("search resources", err)
	}
	defer rows.Close()
	var out []store.Resource
	sortVals := make([]any, len(q.Sort))
	for i := range sortVals {
		sortVals[i] = new(any)
	}
	for rows.Next() {
		r := store.Resource{Type: q.Type}
		var updated nullMicros
		if err := rows.Scan(append([]any{&r.ID, &r.VersionID, &updated, &r.JSON}, sortVals...)...); err != nil {
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

// sortColumns returns the extra result columns that hold q's sort keys
// (s0, s1, ...), the ORDER BY terms for them, each ending in ", ", and
// the columns' arguments, which come before the WHERE clause's.
func sortColumns(keys []store.SortKey) (cols, order string, args []any) {
	var c, o strings.Builder
	for i, k := range keys {
		name := fmt.Sprintf("s%d", i)
		switch {
		case k.Param == "_lastUpdated":
			c.WriteString(", r.last_updated AS " + name)
		case k.Desc:
			c.WriteString(", (SELECT MAX(i.high) FROM fhir_index i WHERE i.type = r.type AND i.id = r.id AND i.param = ? AND i.high IS NOT NULL) AS " + name)
			args = append(args, k.Param)
		default:
			c.WriteString(", (SELECT MIN(i.low) FROM fhir_index i WHERE i.type = r.type AND i.id = r.id AND i.param = ? AND i.low IS NOT NULL) AS " + name)
			args = append(args, k.Param)
		}
		dir := " ASC"
		if k.Desc {
			dir = " DESC"
		}
		o.WriteString(name + " IS NULL, " + name + dir + ", ")
	}
	return c.String(), o.String(), args
}

// maxNesting bounds how deep Match.Target and Link.From queries nest.
const maxNesting = 3

// sqlBuilder writes a WHERE clause and its arguments, in order, naming
// the tables of nested conditions r1, i2, ... so that they never clash.
type sqlBuilder struct {
	b    strings.Builder
	args []any
	n    int
}

func (sb *sqlBuilder) alias(prefix string) string {
	sb.n++
	return prefix + strconv.Itoa(sb.n)
}

func (sb *sqlBuilder) write(sql string, args ...any) {
	sb.b.WriteString(sql)
	sb.args = append(sb.args, args...)
}

// where writes the condition that row r of fhir_resources is selected by
// q. Every condition is an uncorrelated "r.id IN (subquery)", which SQLite
// evaluates once, through the fhir_index_value index where it can.
func (sb *sqlBuilder) where(r string, q store.ResourceQuery, depth int) error {
	if depth > maxNesting {
		return errors.New("queries nested too deeply")
	}
	sb.write(r+".type = ?", q.Type)
	if err := sb.clause(r, q.Type, store.Clause{Patient: q.Patient, Filters: q.Filters}, depth); err != nil {
		return err
	}
	if len(q.AnyOf) > 0 {
		sb.write(" AND (")
		for j, c := range q.AnyOf {
			if j > 0 {
				sb.write(" OR ")
			}
			sb.write("(1")
			if err := sb.clause(r, q.Type, c, depth); err != nil {
				return err
			}
			sb.write(")")
		}
		sb.write(")")
	}
	for _, l := range q.ReferencedBy {
		fr, fi := sb.alias("r"), sb.alias("i")
		prefix := q.Type + "/"
		sb.write(" AND "+r+".id IN (SELECT substr("+fi+".value, ?) FROM fhir_index "+fi+" JOIN fhir_resources "+fr+
			" ON "+fr+".type = "+fi+".type AND "+fr+".id = "+fi+".id WHERE "+fi+".type = ? AND "+fi+
			".param = ? AND "+fi+".value >= ? AND substr("+fi+".value, 1, ?) = ? AND ",
			utf8.RuneCountInString(prefix)+1, l.From.Type, l.Param, prefix, utf8.RuneCountInString(prefix), prefix)
		if err := sb.where(fr, l.From, depth+1); err != nil {
			return err
		}
		sb.write(")")
	}
	return nil
}

// clause writes " AND ..." conditions on row r of type typ for a
// compartment and filters. The "_id" parameter is the resource's id.
func (sb *sqlBuilder) clause(r, typ string, c store.Clause, depth int) error {
	if c.Patient != "" {
		sb.write(" AND "+r+".id IN (SELECT c.id FROM fhir_compartments c WHERE c.patient = ? AND c.type = ?)", c.Patient, typ)
	}
	for _, f := range c.Filters {
		if ids, ok := plainIDs(f); ok {
			sb.write(" AND " + r + ".id IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")")
			sb.args = append(sb.args, ids...)
			continue
		}
		i := sb.alias("i")
		sb.write(" AND "+r+".id IN (SELECT "+i+".id FROM fhir_index "+i+" WHERE "+i+".type = ? AND "+
			i+".param = ? AND (", typ, f.Param)
		if len(f.Any) == 0 {
			sb.write("0")
		}
		for j, m := range f.Any {
			if j > 0 {
				sb.write(" OR ")
			}
			if err := sb.match(i, m, depth); err != nil {
				return fmt.Errorf("%s: %w", f.Param, err)
			}
		}
		sb.write("))")
	}
	return nil
}

// plainIDs returns the ids an "_id" filter of plain values selects.
func plainIDs(f store.Filter) ([]any, bool) {
	if f.Param != "_id" || len(f.Any) == 0 {
		return nil, false
	}
	ids := make([]any, 0, len(f.Any))
	for _, m := range f.Any {
		if m.HasSystem || m.StartsWith || m.Prefix != "" || m.Target != nil {
			return nil, false
		}
		ids = append(ids, m.Value)
	}
	return ids, true
}

// match writes the condition on index row i for one Match.
func (sb *sqlBuilder) match(i string, m store.Match, depth int) error {
	switch {
	case m.Target != nil:
		t := sb.alias("r")
		sb.write(i+".value IN (SELECT ? || "+t+".id FROM fhir_resources "+t+" WHERE ", m.Target.Type+"/")
		if err := sb.where(t, *m.Target, depth+1); err != nil {
			return err
		}
		sb.write(")")
	case m.Prefix != "":
		cond, args, err := dateCond(m)
		if err != nil {
			return err
		}
		sb.write(strings.ReplaceAll(cond, "i.", i+"."), args...)
	case m.StartsWith:
		sb.write("("+i+".value >= ? AND substr("+i+".value, 1, ?) = ?)",
			m.Value, utf8.RuneCountInString(m.Value), m.Value)
	case m.HasSystem:
		sb.write("("+i+".value = ? AND "+i+".system = ?)", m.Value, m.System)
	default:
		sb.write(i+".value = ?", m.Value)
	}
	return nil
}

// dateCond is the SQL condition on index row i for a date Match; see
// store.PrefixEq for the semantics.
func dateCond(m store.Match) (string, []any, error) {
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
