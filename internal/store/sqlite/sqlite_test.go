package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
	"github.com/smartlaunch/smartlaunch/internal/store/storetest"
)

func open(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "test.db"))
	})
}

func TestOpenOddPath(t *testing.T) {
	t.Parallel()
	// Characters that mean something in a file: URI must stay part of the name.
	path := filepath.Join(t.TempDir(), "a dir?#%20", "db?x=1#y.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	db := open(t, path)
	if err := db.CreateKey(t.Context(), store.SigningKey{ID: "k1", Algorithm: "RS256", PrivateKey: []byte{1}}); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not at %q: %v", path, err)
	}
}

func TestReopenKeepsDataAndMigrations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "test.db")

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	c := store.Client{ID: "c1", Name: "App", Type: store.ClientPublic, RedirectURIs: []string{"https://a/cb"}}
	if err := db.CreateClient(ctx, c); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	before := appliedMigrations(ctx, t, path)
	if len(before) == 0 {
		t.Fatal("no migrations recorded after first Open")
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db = open(t, path)
	got, err := db.GetClient(ctx, "c1")
	if err != nil {
		t.Fatalf("GetClient after reopen: %v", err)
	}
	if got.Name != c.Name {
		t.Errorf("after reopen: Name = %q, want %q", got.Name, c.Name)
	}
	after := appliedMigrations(ctx, t, path)
	if len(after) != len(before) {
		t.Fatalf("migrations after reopen = %v, want %v", after, before)
	}
	for name, appliedAt := range before {
		if after[name] != appliedAt {
			t.Errorf("migration %s: applied_at %d after reopen, want %d (re-applied)", name, after[name], appliedAt)
		}
	}
}

func TestTwoHandlesShareWrites(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "test.db")
	// Open both at once, as a CLI and the server may.
	dbs := make([]*sqlite.DB, 2)
	errs := make([]error, 2)
	done := make(chan int)
	for i := range dbs {
		go func() {
			dbs[i], errs[i] = sqlite.Open(ctx, path)
			done <- i
		}()
	}
	<-done
	<-done
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	server, cli := dbs[0], dbs[1]

	if err := cli.CreateClient(ctx, store.Client{ID: "from-cli", Type: store.ClientPublic}); err != nil {
		t.Fatalf("cli CreateClient: %v", err)
	}
	if _, err := server.GetClient(ctx, "from-cli"); err != nil {
		t.Errorf("server GetClient of cli's client: %v", err)
	}
	if err := server.CreateAuthorization(ctx, store.Authorization{ID: "a1", UserID: "u1"}); err != nil {
		t.Fatalf("server CreateAuthorization: %v", err)
	}
	if _, err := cli.EndAuthorization(ctx, "a1", time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC), store.EndAdminRevoked); err != nil {
		t.Fatalf("cli EndAuthorization: %v", err)
	}
	a, err := server.GetAuthorization(ctx, "a1")
	if err != nil {
		t.Fatalf("server GetAuthorization: %v", err)
	}
	if a.EndReason != store.EndAdminRevoked {
		t.Errorf("server sees EndReason %q, want %q", a.EndReason, store.EndAdminRevoked)
	}
	if err := cli.CreateClient(ctx, store.Client{ID: "from-cli", Type: store.ClientPublic}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate CreateClient via second handle: got %v, want ErrConflict", err)
	}
}

// appliedMigrations reads schema_migrations through a separate connection
// to the file.
func appliedMigrations(ctx context.Context, t *testing.T, path string) map[string]int64 {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	defer raw.Close()
	rows, err := raw.QueryContext(ctx, `SELECT name, applied_at FROM schema_migrations`)
	if err != nil {
		t.Fatalf("query schema_migrations: %v", err)
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var (
			name string
			at   int64
		)
		if err := rows.Scan(&name, &at); err != nil {
			t.Fatalf("scan schema_migrations: %v", err)
		}
		m[name] = at
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return m
}
