package client_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/client"
	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

var appScopes = []string{"launch/patient", "openid", "fhirUser", "offline_access", "patient/*.rs"}

func newP256(t testing.TB) crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newClient(t testing.TB, e *env, cfg client.Config) *client.Client {
	t.Helper()
	if cfg.ClientID == "" {
		cfg.ClientID = publicApp
	}
	cfg.RedirectURI = testRedirect
	if cfg.Scopes == nil {
		cfg.Scopes = appScopes
	}
	c, err := client.New(context.Background(), e.fhir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// login runs a standalone launch as the demo patient.
func login(t testing.TB, c *client.Client) *client.Session {
	t.Helper()
	l, err := c.AuthorizeURL("")
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Exchange(context.Background(), l, signIn(t, l.URL, "patient", "patient-demo"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStandaloneDPoP: discovery, a standalone launch with PKCE and a DPoP
// key, the launch context and fhirUser from the verified id_token, FHIR
// reads with DPoP proofs, and refreshes that rotate the refresh token.
func TestStandaloneDPoP(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	key := newP256(t)
	st := client.NewFileStore(filepath.Join(t.TempDir(), "token.json"))
	c := newClient(t, e, client.Config{DPoP: key, Store: st})
	l, err := c.AuthorizeURL("")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(l.URL)
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("aud") != e.fhir || q.Get("state") != l.State || q.Get("nonce") == "" {
		t.Errorf("authorize URL %s lacks S256, aud, state or nonce", l.URL)
	}
	s, err := c.Exchange(ctx, l, signIn(t, l.URL, "patient", "patient-demo"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Patient != demo.PatientJill || !strings.HasSuffix(s.FHIRUser, "Patient/"+demo.PatientJill) || s.Token.TokenType != "DPoP" ||
		s.Token.JKT == "" || s.Token.RefreshToken == "" {
		t.Fatalf("session = %+v, token %+v; want Jill, her fhirUser, a DPoP-bound token with a refresh token", s, s.Token)
	}
	ts := c.TokenSource(s)
	var pat map[string]any
	if err := c.Get(ctx, ts, "Patient/"+s.Patient, &pat); err != nil || pat["id"] != s.Patient {
		t.Fatalf("GET Patient: %v, id %v", err, pat["id"])
	}
	var bundle struct {
		ResourceType string
		Entry        []any
	}
	if err := c.Get(ctx, ts, "Observation?patient="+s.Patient+"&category=laboratory", &bundle); err != nil ||
		bundle.ResourceType != "Bundle" || len(bundle.Entry) == 0 {
		t.Fatalf("GET Observation: %v, %s with %d entries", err, bundle.ResourceType, len(bundle.Entry))
	}
	var fe *client.FHIRError
	if err := c.Get(ctx, ts, "Patient/"+demo.PatientClaudie, nil); !errors.As(err, &fe) || fe.Status != 404 {
		t.Errorf("GET another patient: %v, want a 404 FHIRError", err)
	}

	// A second client sharing the key and the store, set to refresh any
	// token with less than two hours left, refreshes on every call.
	eager := newClient(t, e, client.Config{DPoP: key, Store: st, RefreshBefore: 2 * time.Hour})
	ets := eager.TokenSource(nil)
	seen := map[string]bool{s.Token.RefreshToken: true}
	for i := range 3 {
		tok, err := ets.Token(ctx)
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if seen[tok.RefreshToken] || tok.JKT != s.Token.JKT || tok.TokenType != "DPoP" {
			t.Fatalf("refresh %d: token %+v, want a new DPoP-bound refresh token", i, tok)
		}
		seen[tok.RefreshToken] = true
		if err := eager.Get(ctx, ets, "Patient/"+s.Patient, nil); err != nil {
			t.Fatalf("GET after refresh %d: %v", i, err)
		}
	}
	last, err := ets.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored, _, err := st.Load(ctx)
	if err != nil || stored.Claim != nil || stored.Ended != "" || stored.RefreshToken != last.RefreshToken {
		t.Errorf("stored token %+v (%v), want the last rotated one, unclaimed", stored, err)
	}
	if n := e.reuseEndings(); n != 0 {
		t.Errorf("server recorded %d reuse endings, want 0", n)
	}
}

// TestOnlineOnly: an online-only client never asks for offline_access
// (online_access instead, whose refresh token ends with the user's
// sign-in), and refuses a durable token store.
func TestOnlineOnly(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := client.New(context.Background(), e.fhir, client.Config{ClientID: publicApp, OnlineOnly: true,
		Store: client.NewMemoryStore()}); err == nil {
		t.Fatal("New accepted OnlineOnly with a token store")
	}
	c := newClient(t, e, client.Config{OnlineOnly: true})
	l, err := c.AuthorizeURL("")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(l.URL)
	if got, want := u.Query().Get("scope"), "launch/patient openid fhirUser patient/*.rs online_access"; got != want {
		t.Errorf("requested scope %q, want %q", got, want)
	}
	s, err := c.Exchange(context.Background(), l, signIn(t, l.URL, "patient", "patient-demo"))
	if err != nil {
		t.Fatal(err)
	}
	granted := " " + s.Scope + " "
	if strings.Contains(granted, " offline_access ") || !strings.Contains(granted, " online_access ") || s.Token.RefreshToken == "" {
		t.Errorf("granted %q (refresh token %t); want online_access and a refresh token, no offline_access",
			s.Scope, s.Token.RefreshToken != "")
	}
}

// TestEHRLaunch: an EHR launch (SMART App Launch §2.0.1): the launch
// parameter goes into the authorize URL, and the exchange returns the
// EHR's context — patient, encounter, fhirContext — and the clinician's
// fhirUser from the verified id_token.
func TestEHRLaunch(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	const (
		encounter = "Encounter/8afb9e25-6ce5-447d-b364-0e1596076d1f"        // one of Jill Tillman's
		report    = "DiagnosticReport/119f9704-0482-467f-9aa7-b1c024b7c40e" // likewise
		launch    = "ehr-launch-client-test"
	)
	now := time.Now()
	if err := e.st.CreateLaunch(ctx, store.Launch{ID: store.Hash(launch), ClientID: publicApp, UserID: "user-clinician",
		Context: store.LaunchContext{Patient: demo.PatientJill, Encounter: strings.TrimPrefix(encounter, "Encounter/"),
			FHIRContext: []store.FHIRContextEntry{{Reference: report}}},
		CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, e, client.Config{Scopes: []string{"launch", "openid", "fhirUser", "patient/*.rs"}})
	l, err := c.AuthorizeURL(launch)
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := url.Parse(l.URL); u.Query().Get("launch") != launch {
		t.Fatalf("authorize URL %s lacks launch=%s", l.URL, launch)
	}
	s, err := c.Exchange(ctx, l, signIn(t, l.URL, "clinician", "clinician-demo"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Patient != demo.PatientJill || s.Encounter != strings.TrimPrefix(encounter, "Encounter/") ||
		!strings.HasSuffix(s.FHIRUser, "Practitioner/"+demo.PractitionerKeeley) {
		t.Errorf("session patient %q encounter %q fhirUser %q; want Jill, her encounter, Dr. Yundt", s.Patient, s.Encounter, s.FHIRUser)
	}
	if len(s.FHIRContext) != 1 || s.FHIRContext[0]["reference"] != report {
		t.Errorf("fhirContext = %v, want [{reference: %s}]", s.FHIRContext, report)
	}
	var enc map[string]any
	if err := c.Get(ctx, c.TokenSource(s), encounter, &enc); err != nil || "Encounter/"+enc["id"].(string) != encounter {
		t.Errorf("GET %s: %v, %v", encounter, err, enc["id"])
	}
}
