package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/postgres"
	"github.com/smartlaunch/smartlaunch/internal/store/storetest"
)

// serverDSN returns the DSN of the PostgreSQL server to test against,
// from SMARTLAUNCH_TEST_POSTGRES (.ci/postgres.sh starts one and prints
// it). Without it the test is skipped; under .ci/run
// (SMARTLAUNCH_REQUIRE_TOOLS set), which starts a server, it fails.
func serverDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("SMARTLAUNCH_TEST_POSTGRES")
	if dsn == "" {
		const why = "SMARTLAUNCH_TEST_POSTGRES is not set: eval \"$(bash .ci/postgres.sh)\" starts a server and sets it"
		if os.Getenv("SMARTLAUNCH_REQUIRE_TOOLS") != "" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	return dsn
}

// freshDSN creates an empty schema, dropped when t ends, in the test
// server's database and returns a DSN whose search_path is that schema. A
// schema is as good as a database for the store, which names no schema,
// and is made in a millisecond where CREATE DATABASE takes hundreds.
func freshDSN(t *testing.T) string {
	t.Helper()
	base := serverDSN(t)
	var b [8]byte
	rand.Read(b[:])
	name := "smartlaunch_test_" + hex.EncodeToString(b[:])
	admin(t, base, `CREATE SCHEMA `+name)
	t.Cleanup(func() { admin(t, base, `DROP SCHEMA IF EXISTS `+name+` CASCADE`) })
	return withParam(t, base, "search_path", name)
}

// withParam returns dsn, a URL or key=value connection string, with one
// more parameter.
func withParam(t *testing.T, dsn, key, value string) string {
	t.Helper()
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " " + key + "=" + value
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("SMARTLAUNCH_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// admin runs one statement on the test server's database.
func admin(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx := context.Background() // also at cleanup, after t.Context is done
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func open(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
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
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, freshDSN(t)) })
}

// TestConformanceSimpleProtocol runs the suite with pgx's simple query
// protocol, which connection poolers such as PgBouncer in transaction mode
// may need: every argument must then be sent as text the server can parse.
func TestConformanceSimpleProtocol(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, withParam(t, freshDSN(t), "default_query_exec_mode", "simple_protocol"))
	})
}

// TestMigrateConcurrently starts several migrations of one database at
// once, as several instances starting together do: every one succeeds and
// each migration is applied once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	dsn := freshDSN(t)
	const n = 6
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			errs <- postgres.Migrate(t.Context(), dsn)
		}()
	}
	close(start)
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("Migrate: %v", err)
		}
	}
	applied := appliedMigrations(t, dsn)
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(files) {
		t.Errorf("schema_migrations holds %d rows, want one per migration file (%d)", len(applied), len(files))
	}
	for _, f := range files {
		if _, ok := applied[f.Name()]; !ok {
			t.Errorf("migration %s not recorded", f.Name())
		}
	}
}

// TestOpenNoMigrate checks that opening without migrating refuses a
// database whose schema is behind, and that migrating again changes
// nothing and keeps the data.
func TestOpenNoMigrate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := freshDSN(t)
	if db, err := postgres.OpenNoMigrate(ctx, dsn); !errors.Is(err, postgres.ErrMigrationsPending) {
		if err == nil {
			db.Close()
		}
		t.Fatalf("OpenNoMigrate of an empty database: error %v, want ErrMigrationsPending", err)
	}
	db := open(t, dsn)
	if err := db.CreateClient(ctx, store.Client{ID: "c1", Name: "App", Type: store.ClientPublic}); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	before := appliedMigrations(t, dsn)
	if err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	if after := appliedMigrations(t, dsn); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("migrations after a second Migrate = %v, want %v unchanged", after, before)
	}
	other, err := postgres.OpenNoMigrate(ctx, dsn)
	if err != nil {
		t.Fatalf("OpenNoMigrate of a migrated database: %v", err)
	}
	defer other.Close()
	if c, err := other.GetClient(ctx, "c1"); err != nil || c.Name != "App" {
		t.Errorf("GetClient through a second handle = %+v, %v; want the client", c, err)
	}
}

// appliedMigrations reads schema_migrations: name to applied_at.
func appliedMigrations(t *testing.T, dsn string) map[string]int64 {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(t.Context())
	rows, err := conn.Query(t.Context(), `SELECT name, applied_at FROM schema_migrations`)
	if err != nil {
		t.Fatalf("query schema_migrations: %v", err)
	}
	m := map[string]int64{}
	var (
		name string
		at   int64
	)
	_, err = pgx.ForEachRow(rows, []any{&name, &at}, func() error {
		m[name] = at
		return nil
	})
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return m
}

// TestCrossedWrites runs writes of the same two resources in opposite
// orders at once. PutResources must never fail (it orders its writes, and
// a deadlock would be retried); of concurrent creations of the same pair
// exactly one wins and the rest get ErrConflict.
func TestCrossedWrites(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := open(t, freshDSN(t))
	res := func(id, v string) store.Resource {
		return store.Resource{Type: "Patient", ID: id, VersionID: v, JSON: []byte(`{}`), Patients: []string{id},
			Index: []store.IndexEntry{{Param: "_id", Value: id}, {Param: "birthdate", Low: time.Unix(0, 0)}}}
	}
	const n = 16
	errs := make(chan error, n)
	for i := range n {
		go func() {
			rs := []store.Resource{res("a", fmt.Sprint(i)), res("b", fmt.Sprint(i))}
			if i%2 == 1 {
				slices.Reverse(rs)
			}
			errs <- db.PutResources(ctx, rs)
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("PutResources: %v", err)
		}
	}
	for i := range n {
		go func() {
			cs := []store.Change{{Resource: res("c", "1")}, {Resource: res("d", "1")}}
			if i%2 == 1 {
				slices.Reverse(cs)
			}
			errs <- db.WriteResources(ctx, cs)
		}()
	}
	won := 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("WriteResources: %v, want nil or ErrConflict", err)
		}
	}
	if won != 1 {
		t.Errorf("%d concurrent creations of c and d won, want exactly 1", won)
	}
}

// TestDeadlockRetried crosses a WriteResources that updates z and creates
// a with a PutResources of a and z, which lock them in the other order:
// when PostgreSQL breaks the deadlock by aborting one, that one is run
// again, so PutResources never fails and WriteResources succeeds or, when
// a was put first, reports ErrConflict.
func TestDeadlockRetried(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// Detect deadlocks in 20 ms instead of a second. The setting needs a
	// superuser, as the CI server's postgres is; others wait the second.
	dsn := freshDSN(t)
	db, err := postgres.Open(ctx, withParam(t, dsn, "deadlock_timeout", "20ms"))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42501" { // insufficient_privilege
		db, err = postgres.Open(ctx, dsn)
	}
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	res := func(id, v string) store.Resource {
		return store.Resource{Type: "Patient", ID: id, VersionID: v, JSON: []byte(`{}`),
			Index: []store.IndexEntry{{Param: "_id", Value: id}}}
	}
	for round := range 30 {
		a, z := fmt.Sprint("a", round), fmt.Sprint("z", round)
		if err := db.PutResources(ctx, []store.Resource{res(z, "1")}); err != nil {
			t.Fatalf("PutResources: %v", err)
		}
		var writeErr, putErr error
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			<-start
			writeErr = db.WriteResources(ctx, []store.Change{{Resource: res(z, "2"), Base: "1"}, {Resource: res(a, "1")}})
		})
		wg.Go(func() {
			<-start
			putErr = db.PutResources(ctx, []store.Resource{res(a, "p"), res(z, "p")})
		})
		close(start)
		wg.Wait()
		if writeErr != nil && !errors.Is(writeErr, store.ErrConflict) {
			t.Errorf("round %d: WriteResources: %v, want nil or ErrConflict", round, writeErr)
		}
		if putErr != nil {
			t.Errorf("round %d: PutResources: %v", round, putErr)
		}
	}
}

// TestTextWithNUL checks that text PostgreSQL cannot store, a NUL
// character or (in a UTF8 database, as .ci/postgres.sh makes) invalid
// UTF-8, is refused with an error, not cut short.
func TestTextWithNUL(t *testing.T) {
	t.Parallel()
	db := open(t, freshDSN(t))
	for _, name := range []string{"a\x00b", "a\xffb"} {
		err := db.CreateClient(t.Context(), store.Client{ID: "c", Name: name, Type: store.ClientPublic})
		if err == nil || errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateClient with name %q: error %v, want a refusal", name, err)
		}
	}
	if _, err := db.GetClient(t.Context(), "c"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetClient after refused creations: error %v, want ErrNotFound", err)
	}
}
