package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// WriteResources implements store.Resources: every change is checked
// against the current version it names as its Base before it is applied,
// and the version it replaces or deletes moves to fhir_history, all in one
// transaction.
func (db *DB) WriteResources(ctx context.Context, changes []store.Change) error {
	return db.inTx(ctx, "write resources", func(tx *sql.Tx) error {
		stmts, err := preparePut(ctx, tx)
		if err != nil {
			return err
		}
		defer stmts.close()
		seen := make(map[[2]string]bool, len(changes))
		for _, c := range changes {
			r := c.Resource
			key := [2]string{r.Type, r.ID}
			if seen[key] {
				return fmt.Errorf("%s/%s changed twice: %w", r.Type, r.ID, store.ErrConflict)
			}
			seen[key] = true
			if err := writeOne(ctx, tx, stmts, c); err != nil {
				return fmt.Errorf("%s/%s: %w", r.Type, r.ID, err)
			}
		}
		return nil
	})
}

// writeOne applies one change inside a transaction.
func writeOne(ctx context.Context, tx *sql.Tx, stmts *putStmts, c store.Change) error {
	r := c.Resource
	var current string
	err := tx.QueryRowContext(ctx, `SELECT version_id FROM fhir_resources WHERE type = ? AND id = ?`,
		r.Type, r.ID).Scan(&current)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if current != c.Base {
		return fmt.Errorf("current version %q, change based on %q: %w", current, c.Base, store.ErrConflict)
	}
	if c.Delete && current == "" {
		return fmt.Errorf("delete of a missing resource: %w", store.ErrConflict)
	}
	if current != "" {
		if err := keepVersion(ctx, tx, r.Type, r.ID, c.Delete, r.VersionID, r.LastUpdated); err != nil {
			return fmt.Errorf("keep version: %w", err)
		}
	}
	if !c.Delete {
		return stmts.put(ctx, r)
	}
	for _, q := range []string{
		`DELETE FROM fhir_index WHERE type = ? AND id = ?`,
		`DELETE FROM fhir_compartments WHERE type = ? AND id = ?`,
		`DELETE FROM fhir_resources WHERE type = ? AND id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, r.Type, r.ID); err != nil {
			return err
		}
	}
	return nil
}

// keepVersion copies the current version of typ/id, with its compartments
// and index, into fhir_history; with deleted it also records the deletion
// as version vid at updated.
func keepVersion(ctx context.Context, tx *sql.Tx, typ, id string, deleted bool, vid string, updated time.Time) error {
	patients, err := compartments(ctx, tx, typ, id)
	if err != nil {
		return err
	}
	index, err := indexEntries(ctx, tx, typ, id)
	if err != nil {
		return err
	}
	pj, err := json.Marshal(patients)
	if err != nil {
		return err
	}
	ij, err := json.Marshal(encodeIndex(index))
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO fhir_history (type, id, version_id, last_updated, json, patients, idx)
		SELECT type, id, version_id, last_updated, json, ?, ? FROM fhir_resources WHERE type = ? AND id = ?`,
		string(pj), string(ij), typ, id); err != nil {
		return err
	}
	if !deleted {
		return nil
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO fhir_history (type, id, version_id, last_updated, deleted, patients, idx)
		VALUES (?, ?, ?, ?, 1, ?, ?)`, typ, id, vid, micros(updated), string(pj), string(ij))
	return err
}

// historyEntry is an IndexEntry as kept in fhir_history.idx; date ends are
// unix microseconds, absent when unbounded.
type historyEntry struct {
	P string `json:"p"`
	S string `json:"s,omitempty"`
	V string `json:"v,omitempty"`
	L *int64 `json:"l,omitempty"`
	H *int64 `json:"h,omitempty"`
}

func encodeIndex(es []store.IndexEntry) []historyEntry {
	out := make([]historyEntry, len(es))
	for i, e := range es {
		out[i] = historyEntry{P: e.Param, S: e.System, V: e.Value}
		if !e.Low.IsZero() {
			l := e.Low.UnixMicro()
			out[i].L = &l
		}
		if !e.High.IsZero() {
			h := e.High.UnixMicro()
			out[i].H = &h
		}
	}
	return out
}

func decodeIndex(hs []historyEntry) []store.IndexEntry {
	out := make([]store.IndexEntry, len(hs))
	for i, h := range hs {
		out[i] = store.IndexEntry{Param: h.P, System: h.S, Value: h.V}
		if h.L != nil {
			out[i].Low = time.UnixMicro(*h.L).UTC()
		}
		if h.H != nil {
			out[i].High = time.UnixMicro(*h.H).UTC()
		}
	}
	return out
}

// ResourceHistory implements store.Resources.
func (db *DB) ResourceHistory(ctx context.Context, q store.HistoryQuery) ([]store.Resource, error) {
	var (
		where []string
		args  []any
	)
	if q.Type != "" {
		where, args = append(where, "type = ?"), append(args, q.Type)
	}
	if q.ID != "" {
		where, args = append(where, "id = ?"), append(args, q.ID)
	}
	query := `SELECT type, id, version_id, last_updated, json, deleted, patients, idx FROM fhir_history`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := db.sql.QueryContext(ctx, query+" ORDER BY rowid DESC", args...)
	if err != nil {
		return nil, wrap("resource history", err)
	}
	defer rows.Close()
	var out []store.Resource
	for rows.Next() {
		var (
			r       store.Resource
			updated nullMicros
			pj, ij  []byte
			idx     []historyEntry
		)
		if err := rows.Scan(&r.Type, &r.ID, &r.VersionID, &updated, &r.JSON, &r.Deleted, &pj, &ij); err != nil {
			return nil, wrap("resource history", err)
		}
		if err := json.Unmarshal(pj, &r.Patients); err != nil {
			return nil, fmt.Errorf("sqlite: resource history: patients: %w", err)
		}
		if err := json.Unmarshal(ij, &idx); err != nil {
			return nil, fmt.Errorf("sqlite: resource history: index: %w", err)
		}
		r.LastUpdated, r.Index = updated.time(), decodeIndex(idx)
		out = append(out, r)
	}
	return out, wrap("resource history", rows.Err())
}
