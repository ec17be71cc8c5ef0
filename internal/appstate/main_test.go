package appstate_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/appstate"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
	"github.com/smartlaunch/smartlaunch/smart"
)

const (
	fhirBase = "https://ehr.example/fhir"
	base     = "https://ehr.example/appstate"
	// patientRef and userRef are the subjects of the patient ("a") and the
	// user (Practitioner/b) in context of the test tokens.
	patientRef = fhirBase + "/Patient/a"
	userRef    = fhirBase + "/Practitioner/b"
	// appCode's system has the origin of app1's redirect URI, launchCode's
	// that of its launch URL (with the default port written out);
	// foreignCode's is no origin of app1.
	appCode     = "https://app.example.org/state|prefs"
	launchCode  = "https://launch.example.net:443|keys"
	foreignCode = "https://other.example.com|prefs"
)

// now is the fixed clock of the tests.
var now = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// callers are the tokens the fake verifier knows, by bearer value.
var callers = map[string]appstate.Caller{
	"patient":       caller("app1", "patient/Basic.cruds"),
	"user":          caller("app1", "user/Basic.cruds"),
	"patient-read":  caller("app1", "patient/Observation.rs"),
	"system":        caller("app1", "system/Basic.cruds"),
	"patient-c":     caller("app1", "patient/Basic.c"),
	"other-app":     caller("app2", "patient/Basic.cruds user/Basic.cruds"),
	"other-app-for": caller("app2", "patient/Basic.cuds?code="+appCode+" user/Basic.s?code="+appCode),
	"odd-query":     caller("app1", "patient/Basic.cruds?category=x"),
	"unregistered":  caller("gone", "patient/Basic.cruds user/Basic.cruds"),
	"wildcard":      caller("app1", "patient/*.cruds"),
	// A patient signed in as herself: fhirUser is the patient in context,
	// so a user/ scope reaches her state too.
	"self-user": {ClientID: "app1", Patient: "a", FHIRUser: "Patient/a", Scopes: smart.ParseScopes("user/Basic.cruds")},
}

func caller(clientID, scope string) appstate.Caller {
	return appstate.Caller{ClientID: clientID, Patient: "a", FHIRUser: "Practitioner/b", Scopes: smart.ParseScopes(scope)}
}

// fakeVerifier accepts "Bearer <name>" for the names in callers.
type fakeVerifier struct{}

var errVerifierDown = errors.New("verifier down")

func (fakeVerifier) VerifyRequest(r *http.Request) (appstate.Caller, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !ok:
		return appstate.Caller{}, &appstate.AuthError{Scheme: "Bearer"}
	case tok == "broken":
		return appstate.Caller{}, errVerifierDown
	case tok == "dpop-nonce":
		return appstate.Caller{}, &appstate.AuthError{Scheme: "DPoP", Code: "use_dpop_nonce", Nonce: "n1"}
	}
	c, ok := callers[tok]
	if !ok {
		return appstate.Caller{}, &appstate.AuthError{Scheme: "Bearer", Code: "invalid_token"}
	}
	return c, nil
}

// env is a Handler over real SQLite, served by an httptest server at
// /appstate as the server package mounts it.
type env struct {
	srv *httptest.Server
	db  *sqlite.DB
}

func newEnv(t *testing.T, maxBytes int64) *env {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, c := range []store.Client{
		{ID: "app1", Name: "App 1", Type: store.ClientPublic,
			RedirectURIs: []string{"https://APP.example.org/callback"}, LaunchURL: "https://launch.example.net/launch"},
		{ID: "app2", Name: "App 2", Type: store.ClientPublic, RedirectURIs: []string{"https://companion.example.com/cb"}},
	} {
		if err := db.CreateClient(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	h := appstate.New(appstate.Config{
		Store: db, Clients: db, Verifier: fakeVerifier{},
		Base: base, FHIRBase: fhirBase, MaxBytes: maxBytes,
		Now: func() time.Time { return now },
	})
	mux := http.NewServeMux()
	mux.Handle("/appstate/", http.StripPrefix("/appstate", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{srv: srv, db: db}
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with the bearer token (none when empty) and headers
// given as name, value pairs.
func (e *env) do(t *testing.T, method, path, token, body string, header ...string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+"/appstate"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// want fails t unless the answer has the status; errors must be
// OperationOutcomes.
func (r response) want(t *testing.T, what string, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
	}
	if status >= 400 {
		var oo struct{ ResourceType string }
		if json.Unmarshal(r.body, &oo) != nil || oo.ResourceType != "OperationOutcome" {
			t.Errorf("%s: error body %s, want an OperationOutcome", what, r.body)
		}
	}
	if len(r.body) > 0 && r.header.Get("Content-Type") != "application/fhir+json" {
		t.Errorf("%s: Content-Type %q, want application/fhir+json", what, r.header.Get("Content-Type"))
	}
}

// state is the part of a Basic the tests look at.
type state struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Meta         struct {
		VersionID   string `json:"versionId"`
		LastUpdated string `json:"lastUpdated"`
	} `json:"meta"`
	Subject *struct {
		Reference string `json:"reference"`
	} `json:"subject"`
	Code struct {
		Coding []struct{ System, Code string }
	} `json:"code"`
	Extension []struct {
		URL         string `json:"url"`
		ValueString string `json:"valueString"`
	} `json:"extension"`
}

func (r response) state(t *testing.T) state {
	t.Helper()
	var s state
	if err := json.Unmarshal(r.body, &s); err != nil {
		t.Fatalf("decode Basic %s: %v", r.body, err)
	}
	return s
}

// basicJSON returns a Basic with the state code ("system|code"), the
// subject ("" for none) and one extension holding value; id is set when
// not empty.
func basicJSON(id, code, subject, value string) string {
	system, c, _ := strings.Cut(code, "|")
	m := map[string]any{
		"resourceType": "Basic",
		"code":         map[string]any{"coding": []map[string]string{{"system": system, "code": c}}},
		"extension":    []map[string]string{{"url": "https://app.example.org/ext", "valueString": value}},
	}
	if id != "" {
		m["id"] = id
	}
	if subject != "" {
		m["subject"] = map[string]string{"reference": subject}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// create posts a state with token and returns its id, failing t unless
// it was created.
func (e *env) create(t *testing.T, token, code, subject, value string) string {
	t.Helper()
	r := e.do(t, "POST", "/Basic", token, basicJSON("", code, subject, value))
	r.want(t, "create", http.StatusCreated)
	return r.state(t).ID
}

// bundle is the part of a searchset the tests look at.
type bundle struct {
	ResourceType string
	Type         string
	Total        int
	Entry        []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
	}
}

func (e *env) search(t *testing.T, token, query string) bundle {
	t.Helper()
	r := e.do(t, "GET", "/Basic?"+query, token, "")
	r.want(t, "search "+query, http.StatusOK)
	var b bundle
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("decode Bundle %s: %v", r.body, err)
	}
	if b.ResourceType != "Bundle" || b.Type != "searchset" || b.Total != len(b.Entry) {
		t.Errorf("search %s: got %s, want a searchset Bundle whose total counts its entries", query, r.body)
	}
	return b
}
