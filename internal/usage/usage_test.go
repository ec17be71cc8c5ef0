package usage

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
)

func TestRecordFlush(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "u.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 5, 1, 23, 0, 0, 0, time.UTC)
	r := New(db, func() time.Time { return now })
	for range 3 {
		r.Record("a1", "Observation")
	}
	r.Record("a1", "Patient")
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour) // the next day
	r.Record("a1", "Observation")
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(t.Context()); err != nil { // nothing pending: no write, no double count
		t.Fatal(err)
	}
	recs, err := db.ListAccess(t.Context(), "a1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, rec := range recs {
		got[rec.Day.Format("01-02")+" "+rec.ResourceType] = rec.Count
	}
	want := map[string]int{"05-01 Observation": 3, "05-01 Patient": 1, "05-02 Observation": 1}
	if len(got) != len(want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s = %d, want %d", k, got[k], n)
		}
	}
}
