package testserver

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/server"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
	"github.com/smartlaunch/smartlaunch/sampledata"
)

// JillBundle is the sample patient the server holds.
const JillBundle = "patients/Jill_Tillman_c4b7d178-c437-4202-9fb0-1b64afb8bc09.json"

// Options configure Start.
type Options struct {
	// Clients are registered besides the demo apps.
	Clients []store.Client
	// Configure, when set, adjusts the server's configuration.
	Configure func(*server.Config)
}

// Server is a running smartlaunch server.
type Server struct {
	Store *sqlite.DB
	App   *server.Server
	// Base is the server's base URL; FHIR is Base + "/fhir".
	Base, FHIR string

	t testing.TB
}

var (
	templateOnce sync.Once
	templateDB   []byte
	templateErr  error
)

// Start runs a server on a copy of a database seeded once per test binary
// (password hashing and loading are the slow parts); it stops when t ends.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	templateOnce.Do(func() { templateDB, templateErr = buildTemplate() })
	if templateErr != nil {
		t.Fatal(templateErr)
	}
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "smartlaunch.db")
	if err := os.WriteFile(p, templateDB, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, c := range opt.Clients {
		if c.CreatedAt.IsZero() {
			c.CreatedAt = time.Now()
		}
		if err := st.CreateClient(ctx, c); err != nil {
			t.Fatalf("register %s: %v", c.ID, err)
		}
	}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cfg := server.Config{Store: st, BaseURL: srv.URL, Now: time.Now}
	if opt.Configure != nil {
		opt.Configure(&cfg)
	}
	app, err := server.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h = app
	return &Server{Store: st, App: app, Base: srv.URL, FHIR: srv.URL + "/fhir", t: t}
}

// ReuseEndings counts the authorizations the server ended for
// refresh-token reuse, from its audit trail.
func (s *Server) ReuseEndings() int {
	s.t.Helper()
	evs, err := s.Store.ListAuditEvents(context.Background(), store.AuditQuery{})
	if err != nil {
		s.t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == "authorization.ended" && ev.Detail == string(store.EndRefreshTokenReuse) {
			n++
		}
	}
	return n
}

// sample is the sample data's definitions and Jill Tillman's bundle only.
func sample() (fs.FS, error) {
	m := fstest.MapFS{}
	add := func(name string) error {
		b, err := fs.ReadFile(sampledata.FS, name)
		m[name] = &fstest.MapFile{Data: b}
		return err
	}
	defs, err := fs.ReadDir(sampledata.FS, "definitions")
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		if err := add(path.Join("definitions", d.Name())); err != nil {
			return nil, err
		}
	}
	return m, add(JillBundle)
}

// buildTemplate seeds a database with the demo users and apps and Jill
// Tillman's record, and returns its bytes.
func buildTemplate() ([]byte, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "smartlaunch-testserver-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "template.db")
	st, err := sqlite.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	s, err := sample()
	if err != nil {
		return nil, err
	}
	if err := demo.Seed(ctx, st, s, time.Now()); err != nil {
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}
