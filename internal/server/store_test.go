package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/postgres"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
)

// testStore is a store backend the end-to-end tests run on.
type testStore interface {
	store.Store
	Close() error
}

// openTestStore returns a store seeded like a first start: a copy of the
// SQLite template, or, when SMARTLAUNCH_E2E_POSTGRES names a PostgreSQL
// server (CI sets it, to run these tests on both stores), a database
// cloned from a template database built once per test binary.
func openTestStore(t testing.TB) testStore {
	t.Helper()
	if admin := os.Getenv("SMARTLAUNCH_E2E_POSTGRES"); admin != "" {
		return openPostgresStore(t, admin)
	}
	path := filepath.Join(t.TempDir(), "smartlaunch.db")
	copyTemplate(t, path)
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var (
	pgTemplateOnce sync.Once
	pgTemplate     string
	pgTemplateErr  error
)

// openPostgresStore clones the template database into a fresh one, which
// the test's cleanup drops.
func openPostgresStore(t testing.TB, admin string) testStore {
	t.Helper()
	ctx := context.Background()
	pgTemplateOnce.Do(func() { pgTemplate, pgTemplateErr = buildPostgresTemplate(admin, sampleSubset(t)) })
	if pgTemplateErr != nil {
		t.Fatal(pgTemplateErr)
	}
	name := randomName("smartlaunch_e2e_")
	if err := adminExec(admin, "CREATE DATABASE "+name+" TEMPLATE "+pgTemplate); err != nil {
		t.Fatal(err)
	}
	st, err := postgres.OpenNoMigrate(ctx, withDatabase(t, admin, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Close()
		adminExec(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return st
}

// buildPostgresTemplate creates and seeds the template database; it is
// left for the throwaway server to take with it.
func buildPostgresTemplate(admin string, sample fs.FS) (string, error) {
	ctx := context.Background()
	name := randomName("smartlaunch_e2e_template_")
	if err := adminExec(admin, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	st, err := postgres.Open(ctx, u.String())
	if err != nil {
		return "", err
	}
	if err := seedTemplate(ctx, st, sample); err != nil {
		st.Close()
		return "", err
	}
	// A database with open connections cannot be a template.
	return name, st.Close()
}

func adminExec(admin, sql string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func withDatabase(t testing.TB, dsn, name string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
