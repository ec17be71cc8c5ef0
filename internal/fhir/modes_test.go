package fhir

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/fhir/upstream"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// mode is how a test serves a store: embedded, or as a proxy in front of
// the store served by another Server, without SMART, on another loopback
// port (issue 10: the same scope tests run against both modes).
type mode struct {
	name  string
	serve func(t *testing.T, st store.Resources, tokens fakeVerifier) *httptest.Server
}

var modes = []mode{{"embedded", newTestServer}, {"proxy", newProxyTestServer}}

// forModes runs test once per mode.
func forModes(t *testing.T, test func(t *testing.T, m mode)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { test(t, m) })
	}
}

// upstreamSecret is the static bearer token the proxy sends upstream.
const upstreamSecret = "upstream-secret"

// upstreamVerifier lets the proxy (and only it) do anything.
type upstreamVerifier struct{}

func (upstreamVerifier) VerifyRequest(r *http.Request) (Access, error) {
	if r.Header.Get("Authorization") != "Bearer "+upstreamSecret {
		return Access{}, &AuthError{Code: "invalid_token"}
	}
	return Access{ClientID: "proxy", Scopes: smart.ParseScopes("system/*.cruds")}, nil
}

// newProxyTestServer serves st from an upstream Server on one loopback
// port and, under /fhir on another, a proxy in front of it with tokens.
func newProxyTestServer(t *testing.T, st store.Resources, tokens fakeVerifier) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	up := httptest.NewServer(mux)
	t.Cleanup(up.Close)
	upstreamServer := New(Config{Store: st, Verifier: upstreamVerifier{}, BaseURL: up.URL + "/fhir",
		Now: func() time.Time { return testNow }})
	mux.Handle("/fhir", http.StripPrefix("/fhir", upstreamServer))
	mux.Handle("/fhir/", http.StripPrefix("/fhir", upstreamServer))
	client, err := upstream.New(upstream.Config{Base: up.URL + "/fhir", Bearer: upstreamSecret})
	if err != nil {
		t.Fatal(err)
	}
	return serveConfig(t, Config{Upstream: client, Verifier: tokens})
}
