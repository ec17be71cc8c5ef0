package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/smartlaunch/smartlaunch/internal/demo"
)

func introspectReq(e *env, form url.Values, configure func(*http.Request)) (*http.Response, map[string]any) {
	req, _ := http.NewRequest(http.MethodPost, e.base+"/introspect", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if configure != nil {
		configure(req)
	}
	return e.doJSON(req)
}

// TestIntrospection follows Inferno's introspection group (I-INTRO-03..13,
// R-INTRO-02..05): a confidential app introspects the token of its own
// standalone launch; an invalid token is exactly {"active": false}.
func TestIntrospection(t *testing.T) {
	e := newEnv(t)
	conf := e.oauthConfig("test-confidential", "launch/patient", "openid", "fhirUser", "patient/*.rs", "offline_access")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	basic := func(r *http.Request) { r.SetBasicAuth("test-confidential", "test-secret") }
	resp, body := introspectReq(e, url.Values{"token": {tok.AccessToken}}, basic)
	if resp.StatusCode != http.StatusOK || body["active"] != true {
		t.Fatalf("introspect own token: %d %v", resp.StatusCode, body)
	}
	id := claimsOf(t, tok.Extra("id_token").(string))
	granted := strings.Fields(tok.Extra("scope").(string))
	got := strings.Fields(body["scope"].(string))
	slices.Sort(granted)
	slices.Sort(got)
	for k, want := range map[string]any{
		"client_id": "test-confidential", "patient": demo.PatientJill, "iss": id["iss"], "sub": id["sub"],
		"fhirUser": id["fhirUser"], "token_type": "Bearer",
	} {
		if body[k] != want {
			t.Errorf("%s = %v, want %v", k, body[k], want)
		}
	}
	if !slices.Equal(got, granted) {
		t.Errorf("scope = %v, want the granted %v (I-INTRO-07)", got, granted)
	}
	if exp, ok := body["exp"].(float64); !ok || int64(exp) < e.clock.Now().Unix() {
		t.Errorf("exp = %v, want a number in the future (I-INTRO-08)", body["exp"])
	}
	// I-INTRO-04, I-INTRO-12, I-INTRO-13: an invalid token is 200 {"active": false} and nothing else.
	for name, token := range map[string]string{"invalid": "invalid_token_value", "refresh token of another client": ""} {
		if token == "" {
			continue
		}
		resp, body = introspectReq(e, url.Values{"token": {token}}, basic)
		if resp.StatusCode != http.StatusOK || len(body) != 1 || body["active"] != false {
			t.Errorf("%s: %d %v, want exactly {\"active\": false}", name, resp.StatusCode, body)
		}
	}
	// The refresh token introspects as active too.
	if _, body = introspectReq(e, url.Values{"token": {tok.RefreshToken}}, basic); body["active"] != true || body["client_id"] != "test-confidential" {
		t.Errorf("refresh token: %v, want active", body)
	}
	// Another app's token is invisible to this caller; the same as unknown.
	pub := launchOffline(t, e)
	if _, body = introspectReq(e, url.Values{"token": {pub.AccessToken}}, basic); len(body) != 1 || body["active"] != false {
		t.Errorf("another app's token: %v, want exactly {\"active\": false}", body)
	}
	// Callers must authenticate; a public client may not introspect.
	if resp, body = introspectReq(e, url.Values{"token": {tok.AccessToken}}, nil); resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("unauthenticated: %d %v, want 401 invalid_client", resp.StatusCode, body)
	}
	if resp, body = introspectReq(e, url.Values{"token": {tok.AccessToken}, "client_id": {"test-public"}}, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("public client: %d %v, want 401", resp.StatusCode, body)
	}
	if resp, body = introspectReq(e, url.Values{"token": {tok.AccessToken}}, func(r *http.Request) { r.SetBasicAuth("test-confidential", "wrong") }); resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || len(body) > 2 {
		t.Errorf("wrong secret: %d %v, want 401 invalid_client and nothing more", resp.StatusCode, body)
	}
	// A bearer token with the introspection scope sees every app's tokens (R-INTRO-07, 2.2 rule).
	app := newBackendApp(t, e, "resource-server")
	app.register("")
	_, tb := app.token(app.assertion(nil), "__introspect")
	if tb["scope"] != "__introspect" {
		t.Fatalf("introspection token: %v", tb)
	}
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tb["access_token"].(string)) }
	if _, body = introspectReq(e, url.Values{"token": {pub.AccessToken}}, bearer); body["active"] != true || body["client_id"] != "test-public" {
		t.Errorf("bearer with the introspection scope: %v, want the public app's token active", body)
	}
	if resp, _ := introspectReq(e, url.Values{"token": {pub.AccessToken}}, func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bearer without the introspection scope: %d, want 401", resp.StatusCode)
	}
}

// TestRevocation: an app revokes its refresh token, which ends its
// authorization; another app's token is left alone with 200 (RFC 7009,
// D-5).
func TestRevocation(t *testing.T) {
	e := newEnv(t)
	victim := launchOffline(t, e) // issued to test-public
	revoke := func(form url.Values, user, pass string) int {
		req, _ := http.NewRequest(http.MethodPost, e.base+"/revoke", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := revoke(url.Values{"token": {victim.RefreshToken}}, "test-confidential", "test-secret"); got != http.StatusOK {
		t.Fatalf("revoking another app's token: %d, want 200", got)
	}
	if status, _, _ := e.fhirGet(victim.AccessToken, "Patient/"+demo.PatientJill); status != http.StatusOK {
		t.Fatalf("another app's revocation attempt changed something: %d", status)
	}
	if got := revoke(url.Values{"token": {"unknown"}, "client_id": {"test-public"}}, "", ""); got != http.StatusOK {
		t.Errorf("unknown token: %d, want 200", got)
	}
	if got := revoke(url.Values{"token": {victim.RefreshToken}, "client_id": {"test-public"}}, "", ""); got != http.StatusOK {
		t.Fatalf("revoke own refresh token: %d", got)
	}
	if status, _, _ := e.fhirGet(victim.AccessToken, "Patient/"+demo.PatientJill); status != http.StatusUnauthorized {
		t.Errorf("access token after revoking its refresh token: %d, want 401", status)
	}
	resp, body := e.postToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {victim.RefreshToken}, "client_id": {"test-public"}}, "", "")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body["error_description"].(string), "revoked") {
		t.Errorf("refresh after revocation: %d %v", resp.StatusCode, body)
	}
}
