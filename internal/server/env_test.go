package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/oauth2"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/keys"
	"github.com/smartlaunch/smartlaunch/internal/server"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
	"github.com/smartlaunch/smartlaunch/sampledata"
)

// Sample bundles the tests load: the demo users' patients.
var testBundles = []string{
	"Jill_Tillman_c4b7d178-c437-4202-9fb0-1b64afb8bc09.json",
	"Claudie_Walsh_498377b3-e385-40ab-9acd-06b657e2f599.json",
	"Versie_Botsford_56121408-15fe-47a5-8279-6f05dee51464.json",
	"Chad_Quigley_b9737c68-296c-46fa-9a3c-aca513681a73.json", // Dr. Keeley Yundt, the demo clinician
}

var (
	subsetOnce sync.Once
	subset     fstest.MapFS
)

// sampleSubset is the sample data's definitions and testBundles only, so
// each test's fresh database loads in a fraction of a second.
func sampleSubset(t testing.TB) fs.FS {
	subsetOnce.Do(func() {
		subset = fstest.MapFS{}
		add := func(name string) {
			b, err := fs.ReadFile(sampledata.FS, name)
			if err != nil {
				t.Fatal(err)
			}
			subset[name] = &fstest.MapFile{Data: b}
		}
		defs, err := fs.ReadDir(sampledata.FS, "definitions")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range defs {
			add(path.Join("definitions", d.Name()))
		}
		for _, b := range testBundles {
			add(path.Join("patients", b))
		}
	})
	return subset
}

// testStart is the injected time at which every test environment starts.
var testStart = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

var (
	templateOnce sync.Once
	templateDB   []byte
	templateErr  error
)

// copyTemplate writes a database seeded like a first start (sample
// subset, demo users and apps, the test apps, signing keys) to path. The
// template is built once per test binary: password hashing, key
// generation and loading are the slow parts of a fresh start.
func copyTemplate(t testing.TB, path string) {
	t.Helper()
	templateOnce.Do(func() { templateDB, templateErr = buildTemplate(sampleSubset(t)) })
	if templateErr != nil {
		t.Fatal(templateErr)
	}
	if err := os.WriteFile(path, templateDB, 0o600); err != nil {
		t.Fatal(err)
	}
}

func buildTemplate(sample fs.FS) ([]byte, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "smartlaunch-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := seedTemplate(ctx, st, sample); err != nil {
		return nil, err
	}
	// Closing the last connection checkpoints the WAL into the file.
	if err := st.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// seedTemplate seeds st like a first start: the sample subset, the demo
// users and apps, the test apps and the signing keys.
func seedTemplate(ctx context.Context, st store.Store, sample fs.FS) error {
	if err := demo.Seed(ctx, st, sample, testStart); err != nil {
		return err
	}
	for _, c := range []store.Client{
		{ID: "test-public", Name: "Test Public App", Type: store.ClientPublic, RedirectURIs: []string{testRedirect}, Scope: demo.AppScope},
		{ID: "test-confidential", Name: "Test Confidential App", Type: store.ClientConfidentialSymmetric,
			SecretHash: store.Hash("test-secret"), RedirectURIs: []string{testRedirect}, Scope: demo.AppScope},
	} {
		if err := st.CreateClient(ctx, c); err != nil {
			return err
		}
	}
	_, err := keys.Load(ctx, st, testStart)
	return err
}

// clock is a settable time source shared by the server under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// env is a running smartlaunch server on a real listener with a real
// SQLite store seeded like a first start.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	app   *server.Server
	st    testStore
	clock *clock
	logs  *lockedBuffer
	base  string
	fhir  string
}

const testRedirect = "http://127.0.0.1:9/callback"

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with a chance to change the server's configuration.
func newEnvWith(t testing.TB, configure func(*server.Config)) *env {
	t.Helper()
	ctx := context.Background()
	st := openTestStore(t)
	var err error
	clk := &clock{t: testStart}
	e := &env{t: t, st: st, clock: clk, logs: &lockedBuffer{}}
	var h http.Handler
	watch := &secretWatch{}
	e.srv = httptest.NewServer(watch.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) })))
	t.Cleanup(func() { watch.check(t, e.logs.String()) })
	t.Cleanup(e.srv.Close)
	e.base = e.srv.URL
	e.fhir = e.base + "/fhir"
	cfg := server.Config{
		Store: st, BaseURL: e.base, Now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if configure != nil {
		configure(&cfg)
	}
	e.app, err = server.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h = e.app
	return e
}

// oauthConfig is a golang.org/x/oauth2 client for one of the test apps.
func (e *env) oauthConfig(clientID string, scopes ...string) *oauth2.Config {
	c := &oauth2.Config{
		ClientID:    clientID,
		Endpoint:    oauth2.Endpoint{AuthURL: e.base + "/authorize", TokenURL: e.base + "/token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: testRedirect,
		Scopes:      scopes,
	}
	if clientID == "test-confidential" {
		c.ClientSecret = "test-secret"
		c.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	}
	return c
}

// launch describes one standalone launch to play through.
type launch struct {
	conf     *oauth2.Config
	verifier string
	username string
	password string
	patient  string // picker choice, when the picker appears
	extra    []oauth2.AuthCodeOption
}

// authorize plays the browser through sign-in, picker and consent and
// returns the app's redirect: the parsed query of its Location.
func (e *env) authorize(l launch) url.Values {
	e.t.Helper()
	opts := append([]oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(l.verifier),
		oauth2.SetAuthURLParam("aud", e.fhir),
	}, l.extra...)
	b := newBrowser(e.t, testRedirect)
	p := b.get(l.conf.AuthCodeURL("state-123", opts...))
	if p.URL.Path != "/login" || p.Status != http.StatusOK {
		e.t.Fatalf("authorize led to %v, want the login page; body:\n%s", p, p.Body)
	}
	p = b.submit(p, url.Values{"username": {l.username}, "password": {l.password}})
	if p.URL.Path == "/pick" {
		p = b.submit(p, url.Values{"patient": {l.patient}})
	}
	if p.URL.Path != "/consent" || p.Status != http.StatusOK {
		e.t.Fatalf("after sign-in got %v, want the consent page; body:\n%s", p, p.Body)
	}
	p = b.submit(p, url.Values{"decision": {"allow"}})
	return e.appRedirect(p)
}

// appRedirect checks that p is a redirect to the app and returns its query.
func (e *env) appRedirect(p page) url.Values {
	e.t.Helper()
	if !strings.HasPrefix(p.Location, testRedirect+"?") {
		e.t.Fatalf("got %v with Location %q, want a redirect to the app", p, p.Location)
	}
	u, err := url.Parse(p.Location)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.Query()
}

// fhirGet performs an authenticated FHIR request and decodes the JSON body.
func (e *env) fhirGet(token, rel string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.fhir+"/"+rel, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		e.t.Fatalf("GET %s: %d, body is not JSON: %q", rel, resp.StatusCode, body)
	}
	return resp.StatusCode, m, resp.Header
}

// postToken posts a raw form to the token endpoint.
func (e *env) postToken(form url.Values, basicUser, basicPass string) (*http.Response, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.base+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(basicUser, basicPass)
	}
	return e.doJSON(req)
}

func (e *env) doJSON(req *http.Request) (*http.Response, map[string]any) {
	e.t.Helper()
	resp, m := e.doJSONOrEmpty(req)
	if m == nil {
		e.t.Fatalf("%s %s: %d, body is not a JSON object", req.Method, req.URL, resp.StatusCode)
	}
	return resp, m
}

// doJSONOrEmpty is doJSON for responses whose body may be empty or not
// JSON (a 404 from the mux): the map is then nil.
func (e *env) doJSONOrEmpty(req *http.Request) (*http.Response, map[string]any) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	return resp, m
}

const timeHour = time.Hour

func hashOf(s string) string { return store.Hash(s) }
