package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/smartlaunch/smartlaunch/internal/demo"
)

// TestStandaloneLaunch plays the whole standalone patient launch with
// golang.org/x/oauth2 as the app (R-LAUNCH-14, I-TOKEN-01..11): the parent
// signs in, picks one of two children, consents; the app exchanges the
// code with its S256 verifier, reads the chosen Patient and her
// Observations, is refused the other child's, refreshes once, and finds
// the used refresh token refused.
func TestStandaloneLaunch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conf := e.oauthConfig("test-public", "launch/patient", "openid", "fhirUser", "offline_access", "patient/*.rs")
	verifier := oauth2.GenerateVerifier()
	q := e.authorize(launch{
		conf: conf, verifier: verifier, username: "parent", password: "parent-demo", patient: demo.PatientVersie,
		extra: []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("nonce", "n-0S6")},
	})
	if got := q.Get("state"); got != "state-123" {
		t.Errorf("redirect state = %q, want state-123", got)
	}
	if got := q.Get("iss"); got != e.base {
		t.Errorf("redirect iss = %q, want %q (RFC 9207)", got, e.base)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if got := tok.Extra("patient"); got != demo.PatientVersie {
		t.Errorf("token patient = %v, want %s", got, demo.PatientVersie)
	}
	if got := tok.Extra("scope"); got != "launch/patient openid fhirUser offline_access patient/*.rs" {
		t.Errorf("token scope = %q, want the requested scopes", got)
	}
	if !strings.EqualFold(tok.TokenType, "bearer") || tok.RefreshToken == "" {
		t.Errorf("token type %q, refresh token present %v; want bearer and a refresh token", tok.TokenType, tok.RefreshToken != "")
	}
	idToken, _ := tok.Extra("id_token").(string)
	if idToken == "" {
		t.Fatal("no id_token although openid was granted")
	}

	status, pt, _ := e.fhirGet(tok.AccessToken, "Patient/"+demo.PatientVersie)
	if status != http.StatusOK || pt["id"] != demo.PatientVersie {
		t.Fatalf("read own Patient: %d id=%v, want 200 and %s", status, pt["id"], demo.PatientVersie)
	}
	status, bundle, _ := e.fhirGet(tok.AccessToken, "Observation?patient="+demo.PatientVersie)
	if status != http.StatusOK || bundle["type"] != "searchset" {
		t.Fatalf("search Observations: %d type=%v", status, bundle["type"])
	}
	entries, _ := bundle["entry"].([]any)
	if len(entries) == 0 || bundle["total"].(float64) < float64(len(entries)) {
		t.Fatalf("search Observations: %d entries, total %v; want some", len(entries), bundle["total"])
	}
	for _, en := range entries {
		subj := en.(map[string]any)["resource"].(map[string]any)["subject"].(map[string]any)["reference"]
		if subj != "Patient/"+demo.PatientVersie {
			t.Fatalf("search returned an Observation of %v", subj)
		}
	}

	// The other child's Observation is outside the token's patient compartment.
	otherObs := firstObservation(t, e, demo.PatientClaudie)
	status, oo, _ := e.fhirGet(tok.AccessToken, "Observation/"+otherObs)
	if status != http.StatusForbidden && status != http.StatusNotFound || oo["resourceType"] != "OperationOutcome" {
		t.Errorf("read another patient's Observation: %d %v, want 403/404 OperationOutcome", status, oo["resourceType"])
	}

	// Refresh once: a new refresh token, and the used one stops working.
	refreshed, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh did not rotate the refresh token")
	}
	if status, _, _ := e.fhirGet(refreshed.AccessToken, "Patient/"+demo.PatientVersie); status != http.StatusOK {
		t.Fatalf("refreshed access token: %d, want 200", status)
	}
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("second use of a refresh token: err = %v, want invalid_grant", err)
	}

	checkIDToken(t, e, idToken, "test-public", "n-0S6", "")
}

// firstObservation returns the id of one Observation of patient, read
// with the clinician's user-level access.
func firstObservation(t *testing.T, e *env, patient string) string {
	t.Helper()
	conf := e.oauthConfig("test-confidential", "user/Observation.rs")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "clinician", password: "clinician-demo"})
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("clinician exchange: %v", err)
	}
	status, b, _ := e.fhirGet(tok.AccessToken, "Observation?patient="+patient+"&_count=1")
	entries, _ := b["entry"].([]any)
	if status != http.StatusOK || len(entries) != 1 {
		t.Fatalf("clinician search: %d with %d entries", status, len(entries))
	}
	return entries[0].(map[string]any)["resource"].(map[string]any)["id"].(string)
}

// checkIDToken verifies an id_token against the published JWKS: RS256,
// issuer, audience, nonce, and fhirUser when want is set.
func checkIDToken(t *testing.T, e *env, raw, clientID, nonce, fhirUser string) {
	t.Helper()
	var jwks jose.JSONWebKeySet
	resp, err := http.Get(e.base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil || len(jwks.Keys) == 0 {
		t.Fatalf("jwks: %v, %d keys", err, len(jwks.Keys))
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("id_token: %v", err)
	}
	var claims struct {
		jwt.Claims
		Nonce    string `json:"nonce"`
		FHIRUser string `json:"fhirUser"`
	}
	if err := tok.Claims(jwks, &claims); err != nil {
		t.Fatalf("id_token signature: %v", err)
	}
	if err := claims.Validate(jwt.Expected{Issuer: e.base, AnyAudience: jwt.Audience{clientID}, Time: e.clock.Now()}); err != nil {
		t.Errorf("id_token claims: %v", err)
	}
	if claims.Nonce != nonce {
		t.Errorf("id_token nonce = %q, want %q", claims.Nonce, nonce)
	}
	if claims.FHIRUser != fhirUser {
		t.Errorf("id_token fhirUser = %q, want %q", claims.FHIRUser, fhirUser)
	}
}

// TestIDTokenFHIRUser: with openid and fhirUser granted, the id_token names
// the user's own FHIR resource as an absolute URL (SMART App Launch §4.6),
// and that resource can be read with the access token (I-CORS-04's read).
func TestIDTokenFHIRUser(t *testing.T) {
	e := newEnv(t)
	conf := e.oauthConfig("test-confidential", "launch/patient", "openid", "fhirUser", "patient/*.rs")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" {
		t.Error("a refresh token was issued without offline_access or online_access")
	}
	idToken, _ := tok.Extra("id_token").(string)
	want := e.fhir + "/Patient/" + demo.PatientJill
	checkIDToken(t, e, idToken, "test-confidential", "", want)
	if status, _, _ := e.fhirGet(tok.AccessToken, strings.TrimPrefix(want, e.fhir+"/")); status != http.StatusOK {
		t.Errorf("read fhirUser resource: %d, want 200", status)
	}
}

// TestUserScopesOnlyForClinicians: user/ scopes mean "all this user may
// see"; a patient cannot delegate them (they would reach every patient),
// so they are left out of the grant and other patients stay unreachable
// (R-SCOPE-03).
func TestUserScopesOnlyForClinicians(t *testing.T) {
	e := newEnv(t)
	conf := e.oauthConfig("test-public", "launch/patient", "patient/*.rs", "user/*.rs")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Extra("scope"); got != "launch/patient patient/*.rs" {
		t.Errorf("granted scope = %q, want the user/ scope left out", got)
	}
	status, _, _ := e.fhirGet(tok.AccessToken, "Patient/"+demo.PatientClaudie)
	if status != http.StatusNotFound && status != http.StatusForbidden {
		t.Errorf("patient reading another patient: %d, want 403/404", status)
	}
	status, b, _ := e.fhirGet(tok.AccessToken, "Observation?patient="+demo.PatientClaudie)
	if entries, _ := b["entry"].([]any); status == http.StatusOK && len(entries) > 0 {
		t.Errorf("patient searching another patient's Observations got %d entries", len(entries))
	}
}
