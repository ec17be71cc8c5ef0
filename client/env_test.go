package client_test

// The tests of package client run the real smartlaunch server in-process
// (internal/testserver: a real listener, a real SQLite store, every
// handler). Only this external test package imports the server's internal
// packages (Go allows it within the module; DESIGN.md's rule is about
// package client itself, and internal/layering checks Imports, not
// TestImports).

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/server"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
	"github.com/smartlaunch/smartlaunch/internal/testserver"
)

const (
	testRedirect = "http://127.0.0.1:9/callback"
	publicApp    = "client-test-public"
	secretApp    = "client-test-confidential"
	appSecret    = "client-test-secret"
)

// testApps are the apps the tests use, besides the demo ones.
var testApps = []store.Client{
	{ID: publicApp, Name: "Client Test Public", Type: store.ClientPublic, RedirectURIs: []string{testRedirect}, Scope: demo.AppScope},
	{ID: secretApp, Name: "Client Test Confidential", Type: store.ClientConfidentialSymmetric,
		SecretHash: store.Hash(appSecret), RedirectURIs: []string{testRedirect}, Scope: demo.AppScope},
}

// env is a running smartlaunch server.
type env struct {
	t    testing.TB
	srv  *testserver.Server
	st   *sqlite.DB
	app  *server.Server
	base string
	fhir string
}

func newEnv(t testing.TB, configure func(*server.Config)) *env {
	t.Helper()
	s := testserver.Start(t, testserver.Options{Clients: testApps, Configure: configure})
	return &env{t: t, srv: s, st: s.Store, app: s.App, base: s.Base, fhir: s.FHIR}
}

// reuseEndings counts the authorizations the server ended for
// refresh-token reuse, from its audit trail.
func (e *env) reuseEndings() int { return e.srv.ReuseEndings() }

// endAll ends every authorization of the demo patient user, as the
// connected-apps page's "End access" does.
func (e *env) endAll() {
	e.t.Helper()
	ctx := context.Background()
	as, err := e.st.ListUserAuthorizations(ctx, "user-patient")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range as {
		e.app.OAuth.EndAuthorization(ctx, a.ID, store.EndUserRevoked)
	}
}

// signIn plays the browser from the authorize URL through sign-in,
// (picker) and consent, and returns the app's callback URL.
func signIn(t testing.TB, authorizeURL, username, password string) *url.URL {
	t.Helper()
	u := testserver.SignIn(t, authorizeURL, username, password)
	if !strings.HasPrefix(u.String(), testRedirect+"?") {
		t.Fatalf("consent redirected to %s, want the app's redirect %s", u, testRedirect)
	}
	return u
}
