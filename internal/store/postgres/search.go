package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// SearchResources implements store.Resources. The total and the page are
// two queries sent in one round trip; like the SQLite backend's, they do
// not share a snapshot.
func (db *DB) SearchResources(ctx context.Context, q store.ResourceQuery) ([]store.Resource, int, error) {
	const op = "search resources"
	if q.Count < 0 || q.Offset < 0 {
		return nil, 0, fmt.Errorf("postgres: %s: negative count or offset", op)
	}
	var sb sqlBuilder
	if err := sb.where("r", q, 0); err != nil {
		return nil, 0, fmt.Errorf("postgres: %s: %w", op, err)
	}
	where := sb.b.String()
	var b pgx.Batch
	b.Queue(`SELECT count(*) FROM fhir_resources r WHERE `+where, sb.args...)
	if q.Count > 0 {
		order := sb.orderBy(q.Sort)
		b.Queue(`SELECT r.id, r.version_id, r.last_updated, r.json FROM fhir_resources r WHERE `+where+
			` ORDER BY `+order+` LIMIT `+sb.arg(q.Count)+` OFFSET `+sb.arg(q.Offset), sb.args...)
	}
	br := db.pool.SendBatch(ctx, &b)
	defer br.Close()
	var total int
	if err := br.QueryRow().Scan(&total); err != nil {
		return nil, 0, wrap(op, err)
	}
	if q.Count == 0 {
		return nil, total, wrap(op, br.Close())
	}
	rows, err := br.Query()
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	out, err := pgx.AppendRows([]store.Resource(nil), rows, func(row pgx.CollectableRow) (store.Resource, error) {
		r := store.Resource{Type: q.Type}
		var updated *int64
		err := row.Scan(&r.ID, &r.VersionID, &updated, &r.JSON)
		r.LastUpdated = timeOf(updated)
		return r, err
	})
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	return out, total, wrap(op, br.Close())
}

// maxNesting bounds how deep Match.Target and Link.From queries nest.
const maxNesting = 3

// sqlBuilder writes a WHERE clause and collects its arguments, numbering
// the placeholders $1, $2, ... as they are added, and naming the tables of
// nested conditions r1, i2, ... so that they never clash.
type sqlBuilder struct {
	b    strings.Builder
	args []any
	n    int
}

// arg adds an argument and returns its placeholder.
func (sb *sqlBuilder) arg(v any) string {
	sb.args = append(sb.args, v)
	return "$" + strconv.Itoa(len(sb.args))
}

func (sb *sqlBuilder) alias(prefix string) string {
	sb.n++
	return prefix + strconv.Itoa(sb.n)
}

func (sb *sqlBuilder) write(parts ...string) {
	for _, p := range parts {
		sb.b.WriteString(p)
	}
}

// where writes the condition that row r of fhir_resources is selected by
// q. Every condition is an "r.id IN (subquery)" on the index, which
// PostgreSQL turns into a semi-join.
func (sb *sqlBuilder) where(r string, q store.ResourceQuery, depth int) error {
	if depth > maxNesting {
		return errors.New("queries nested too deeply")
	}
	sb.write(r, ".type = ", sb.arg(q.Type))
	if err := sb.clause(r, q.Type, store.Clause{Patient: q.Patient, Filters: q.Filters}, depth); err != nil {
		return err
	}
	if len(q.AnyOf) > 0 {
		sb.write(" AND (")
		for j, c := range q.AnyOf {
			if j > 0 {
				sb.write(" OR ")
			}
			sb.write("(TRUE")
			if err := sb.clause(r, q.Type, c, depth); err != nil {
				return err
			}
			sb.write(")")
		}
		sb.write(")")
	}
	for _, l := range q.ReferencedBy {
		fr, fi := sb.alias("r"), sb.alias("i")
		prefix := sb.arg(q.Type + "/")
		sb.write(" AND ", r, ".id IN (SELECT substr(", fi, ".value, length(", prefix, ") + 1) FROM fhir_index ", fi,
			" JOIN fhir_resources ", fr, " ON ", fr, ".type = ", fi, ".type AND ", fr, ".id = ", fi, ".id",
			" WHERE ", fi, ".type = ", sb.arg(l.From.Type), " AND ", fi, ".param = ", sb.arg(l.Param),
			" AND ", fi, ".value >= ", prefix, " AND starts_with(", fi, ".value, ", prefix, ") AND ")
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
		sb.write(" AND ", r, ".id IN (SELECT c.id FROM fhir_compartments c WHERE c.patient = ",
			sb.arg(c.Patient), " AND c.type = ", sb.arg(typ), ")")
	}
	for _, f := range c.Filters {
		if ids, ok := plainIDs(f); ok {
			sb.write(" AND ", r, ".id = ANY(", sb.arg(ids), "::text[])")
			continue
		}
		i := sb.alias("i")
		sb.write(" AND ", r, ".id IN (SELECT ", i, ".id FROM fhir_index ", i, " WHERE ", i, ".type = ", sb.arg(typ),
			" AND ", i, ".param = ", sb.arg(f.Param), " AND (")
		if len(f.Any) == 0 {
			sb.write("FALSE")
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
func plainIDs(f store.Filter) ([]string, bool) {
	if f.Param != "_id" || len(f.Any) == 0 {
		return nil, false
	}
	ids := make([]string, 0, len(f.Any))
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
		sb.write(i, ".value IN (SELECT ", sb.arg(m.Target.Type+"/"), "::text || ", t, ".id FROM fhir_resources ", t, " WHERE ")
		if err := sb.where(t, *m.Target, depth+1); err != nil {
			return err
		}
		sb.write(")")
	case m.Prefix != "":
		return sb.dateCond(i, m)
	case m.StartsWith:
		v := sb.arg(m.Value)
		sb.write("(", i, ".value >= ", v, " AND starts_with(", i, ".value, ", v, "))")
	case m.HasSystem:
		sb.write("(", i, ".value = ", sb.arg(m.Value), " AND ", i, ".system = ", sb.arg(m.System), ")")
	default:
		sb.write(i, ".value = ", sb.arg(m.Value))
	}
	return nil
}

// dateCond writes the condition on index row i for a date Match; see
// store.PrefixEq for the semantics. Token rows have NULL low and high, so
// no date condition holds for them.
func (sb *sqlBuilder) dateCond(i string, m store.Match) error {
	lo, hi := lowMicros(m.Low), highMicros(m.High)
	low, high := i+".low", i+".high"
	switch m.Prefix {
	case store.PrefixEq:
		sb.write("(", low, " >= ", sb.arg(lo), " AND ", high, " <= ", sb.arg(hi), ")")
	case store.PrefixNe:
		sb.write("(", low, " IS NOT NULL AND NOT (", low, " >= ", sb.arg(lo), " AND ", high, " <= ", sb.arg(hi), "))")
	case store.PrefixLt:
		sb.write(low, " < ", sb.arg(lo))
	case store.PrefixGt:
		sb.write(high, " > ", sb.arg(hi))
	case store.PrefixLe:
		sb.write(low, " <= ", sb.arg(hi))
	case store.PrefixGe:
		sb.write(high, " >= ", sb.arg(lo))
	case store.PrefixSa:
		sb.write(low, " > ", sb.arg(hi))
	case store.PrefixEb:
		sb.write(high, " < ", sb.arg(lo))
	case store.PrefixAp:
		sb.write("(", low, " <= ", sb.arg(hi), " AND ", high, " >= ", sb.arg(lo), ")")
	default:
		return fmt.Errorf("unknown date prefix %q", m.Prefix)
	}
	return nil
}

// orderBy returns the ORDER BY terms for keys on row r of fhir_resources,
// ending with the id that breaks ties. A date parameter orders ascending
// by a resource's earliest value and descending by its latest (an open
// end, stored as the largest bigint, being the latest of all); resources
// without a value come last either way.
func (sb *sqlBuilder) orderBy(keys []store.SortKey) string {
	var o strings.Builder
	for _, k := range keys {
		dir := " ASC NULLS LAST, "
		if k.Desc {
			dir = " DESC NULLS LAST, "
		}
		switch {
		case k.Param == "_lastUpdated":
			o.WriteString("r.last_updated")
		case k.Desc:
			o.WriteString("(SELECT max(i.high) FROM fhir_index i WHERE i.type = r.type AND i.id = r.id AND i.param = " +
				sb.arg(k.Param) + ")")
		default:
			o.WriteString("(SELECT min(i.low) FROM fhir_index i WHERE i.type = r.type AND i.id = r.id AND i.param = " +
				sb.arg(k.Param) + ")")
		}
		o.WriteString(dir)
	}
	o.WriteString("r.id")
	return o.String()
}
