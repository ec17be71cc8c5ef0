package keys

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/postgres"
)

// TestOneInstanceCreatesTheNextKeyPostgres: instances on one PostgreSQL
// database, each with its own connection pool, run their janitors at the
// same moment when the next key is due; exactly one next key of each
// algorithm is created. Runs when SMARTLAUNCH_TEST_POSTGRES names a server
// (eval "$(bash .ci/postgres.sh)").
func TestOneInstanceCreatesTheNextKeyPostgres(t *testing.T) {
	base := os.Getenv("SMARTLAUNCH_TEST_POSTGRES")
	if base == "" {
		t.Skip("SMARTLAUNCH_TEST_POSTGRES is not set")
	}
	dsn := freshSchema(t, base)
	raceNextKey(t, func() store.Store {
		db, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// freshSchema creates a schema, dropped when t ends, on the server base
// names, and returns a DSN whose search_path is that schema.
func freshSchema(t *testing.T, base string) string {
	t.Helper()
	var b [8]byte
	rand.Read(b[:])
	name := "smartlaunch_keys_test_" + hex.EncodeToString(b[:])
	exec := func(sql string) {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatalf("connect to the test server: %v", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`CREATE SCHEMA ` + name)
	t.Cleanup(func() { exec(`DROP SCHEMA IF EXISTS ` + name + ` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("SMARTLAUNCH_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}
