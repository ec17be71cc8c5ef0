package fhir

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
	"github.com/smartlaunch/smartlaunch/sampledata"
	"github.com/smartlaunch/smartlaunch/smart"
)

// The full sample data is loaded once per test binary into a database in
// sharedDir, which TestMain removes.
var (
	sharedDir  string
	sharedOnce sync.Once
	shared     *sqlite.DB
	sharedN    int
	sharedTook time.Duration
	sharedErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// sampleStore returns the store holding all sample data. Tests must not
// change it.
func sampleStore(t *testing.T) *sqlite.DB {
	t.Helper()
	sharedOnce.Do(func() {
		ctx := context.Background()
		sharedDir, sharedErr = os.MkdirTemp("", "fhirtest")
		if sharedErr != nil {
			return
		}
		shared, sharedErr = sqlite.Open(ctx, filepath.Join(sharedDir, "sample.db"))
		if sharedErr != nil {
			return
		}
		start := time.Now()
		sharedN, sharedErr = Load(ctx, shared, sampledata.FS)
		sharedTook = time.Since(start)
	})
	if sharedErr != nil {
		t.Fatalf("loading sample data: %v", sharedErr)
	}
	return shared
}

// emptyStore returns a fresh database in t.TempDir.
func emptyStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// fakeVerifier accepts the tokens in its map.
type fakeVerifier map[string]Access

func (v fakeVerifier) VerifyRequest(r *http.Request) (Access, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return Access{}, &AuthError{Scheme: "Bearer"}
	}
	a, ok := v[token]
	if !ok {
		return Access{}, &AuthError{Scheme: "Bearer", Code: "invalid_token"}
	}
	return a, nil
}

// access builds an Access from a scope string and patient context.
func access(scopes, patient string) Access {
	return Access{ClientID: "app", Patient: patient, Scopes: smart.ParseScopes(scopes)}
}

const testBase = "http://fhir.test/fhir"

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// newTestServer serves st under /fhir with the given tokens.
func newTestServer(t *testing.T, st store.Resources, tokens fakeVerifier) *httptest.Server {
	t.Helper()
	return serveConfig(t, Config{Store: st, Verifier: tokens})
}

// serveConfig serves a Server of cfg, on testBase with testNow, under
// /fhir.
func serveConfig(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	cfg.BaseURL = testBase
	cfg.OAuth = OAuthURIs{Authorize: "http://fhir.test/authorize", Token: "http://fhir.test/token"}
	cfg.Now = func() time.Time { return testNow }
	s := New(cfg)
	mux := http.NewServeMux()
	mux.Handle("/fhir", http.StripPrefix("/fhir", s))
	mux.Handle("/fhir/", http.StripPrefix("/fhir", s))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

// do sends a request with an optional bearer token and returns the
// response and its body.
func do(t *testing.T, method, url, token, contentType string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// localURL turns an absolute link on testBase into one on ts.
func localURL(ts *httptest.Server, link string) string {
	return ts.URL + "/fhir" + strings.TrimPrefix(link, testBase)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("must: %v", err))
	}
	return v
}
