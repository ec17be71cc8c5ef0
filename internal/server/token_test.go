package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// codeForm runs a launch for the public test app and returns a complete,
// valid code-exchange form for it.
func codeForm(t *testing.T, e *env) url.Values {
	t.Helper()
	conf := e.oauthConfig("test-public", "patient/*.rs", "launch/patient", "offline_access")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	return url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {testRedirect},
		"client_id": {"test-public"}, "code_verifier": {v}}
}

// TestTokenResponseHeaders: no-store and no-cache (I-TOKEN-11), CORS for a
// public browser app's Origin (I-CORS-03), and field types (I-TOKEN-04..06).
func TestTokenResponseHeaders(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodPost, e.base+"/token", strings.NewReader(codeForm(t, e).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://app.example")
	resp, body := e.doJSON(req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %v", resp.StatusCode, body)
	}
	for h, want := range map[string]string{
		"Cache-Control": "no-store", "Pragma": "no-cache", "Access-Control-Allow-Origin": "https://app.example",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if _, ok := body["expires_in"].(float64); !ok {
		t.Errorf("expires_in = %#v, want a JSON number", body["expires_in"])
	}
	for _, k := range []string{"access_token", "token_type", "scope", "refresh_token", "patient"} {
		if s, ok := body[k].(string); !ok || s == "" {
			t.Errorf("%s = %#v, want a non-empty string", k, body[k])
		}
	}
	// Preflight for browser apps.
	pre, _ := http.NewRequest(http.MethodOptions, e.base+"/token", nil)
	pre.Header.Set("Origin", "https://app.example")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	presp, err := http.DefaultClient.Do(pre)
	if err != nil {
		t.Fatal(err)
	}
	presp.Body.Close()
	if presp.StatusCode != http.StatusNoContent || !strings.Contains(presp.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight: %d %q", presp.StatusCode, presp.Header.Get("Access-Control-Allow-Methods"))
	}
}

// TestTokenBadInput: malformed requests get the right OAuth error and
// change nothing — the code still works afterwards.
func TestTokenBadInput(t *testing.T) {
	e := newEnv(t)
	good := codeForm(t, e)
	noID := url.Values{}
	for k, v := range good {
		if k != "client_id" {
			noID[k] = v
		}
	}
	tests := []struct {
		name        string
		body        string
		contentType string
		method      string
		basic       [2]string
		wantStatus  int
		wantError   string
	}{
		{name: "repeated code", body: good.Encode() + "&code=other", wantStatus: 400, wantError: "invalid_request"},
		{name: "repeated grant_type", body: good.Encode() + "&grant_type=authorization_code", wantStatus: 400, wantError: "invalid_request"},
		{name: "invalid UTF-8", body: good.Encode() + "&state=%FF", wantStatus: 400, wantError: "invalid_request"},
		{name: "body over 1 MiB", body: good.Encode() + "&pad=" + strings.Repeat("a", 1<<20), wantStatus: 413, wantError: "invalid_request"},
		{name: "JSON body", body: `{"grant_type":"authorization_code"}`, contentType: "application/json", wantStatus: 400, wantError: "invalid_request"},
		{name: "GET", method: http.MethodGet, wantStatus: 405, wantError: "invalid_request"},
		{name: "secret in body", body: good.Encode() + "&client_secret=x", wantStatus: 401, wantError: "invalid_client"},
		{name: "basic auth for a public client", body: good.Encode(), basic: [2]string{"test-public", "x"}, wantStatus: 401, wantError: "invalid_client"},
		{name: "client_id differs from Basic", body: good.Encode(), basic: [2]string{"test-confidential", "test-secret"}, wantStatus: 400, wantError: "invalid_request"},
		{name: "wrong secret", body: noID.Encode(), basic: [2]string{"test-confidential", "wrong"}, wantStatus: 401, wantError: "invalid_client"},
		{name: "malformed form", body: "code=%zz", wantStatus: 400, wantError: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req, _ := http.NewRequest(method, e.base+"/token", strings.NewReader(tt.body))
			ct := tt.contentType
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			req.Header.Set("Content-Type", ct)
			if tt.basic[0] != "" {
				req.SetBasicAuth(tt.basic[0], tt.basic[1])
			}
			resp, body := e.doJSON(req)
			if resp.StatusCode != tt.wantStatus || body["error"] != tt.wantError {
				t.Errorf("got %d %v, want %d %s", resp.StatusCode, body, tt.wantStatus, tt.wantError)
			}
			if resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	// None of that consumed the code.
	resp, body := e.postToken(good, "", "")
	if resp.StatusCode != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("valid exchange after bad requests: %d %v", resp.StatusCode, body)
	}
}

// TestConfidentialClientBasic: a confidential client authenticates with
// HTTP Basic and may not exchange a code issued to another client.
func TestConfidentialClientBasic(t *testing.T) {
	e := newEnv(t)
	f := codeForm(t, e) // issued to test-public
	f.Del("client_id")
	resp, body := e.postToken(f, "test-confidential", "test-secret")
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("another client's code: %d %v, want invalid_grant", resp.StatusCode, body)
	}
	conf := e.oauthConfig("test-confidential", "patient/*.rs", "launch/patient")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	if _, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v)); err != nil {
		t.Errorf("Basic-authenticated exchange: %v", err)
	}
}

// TestNoSecretsInLogs: after a full launch, refresh and some failures,
// no code, token, secret or password appears in any log line.
func TestNoSecretsInLogs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conf := e.oauthConfig("test-confidential", "launch/patient", "openid", "fhirUser", "offline_access", "patient/*.rs")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	e.fhirGet(tok.AccessToken, "Patient?_id=nope")
	next, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	_, _ = conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v)) // replay, logged as an error
	e.postToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, "test-confidential", "wrong")
	logs := e.logs.String()
	if !strings.Contains(logs, "authorization ended") {
		t.Fatalf("logs lack the expected security events; got:\n%s", logs)
	}
	for name, secret := range map[string]string{
		"code": q.Get("code"), "access token": tok.AccessToken, "refresh token": tok.RefreshToken,
		"rotated refresh token": next.RefreshToken, "id_token": tok.Extra("id_token").(string),
		"client secret": "test-secret", "password": "patient-demo", "verifier": v,
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
}

// TestG10InvalidCodeOrClient follows Inferno's g10 invalid code/client
// group: a bad code with valid client authentication is exactly 400
// (I-G10INV-01); the real code with a bad client id is 400 or 401 and
// leaves the code usable (I-G10INV-02).
func TestG10InvalidCodeOrClient(t *testing.T) {
	e := newEnv(t)
	conf := e.oauthConfig("test-confidential", "launch/patient", "patient/*.rs")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"BAD_CODE"}, "redirect_uri": {testRedirect}, "code_verifier": {v}}
	if resp, body := e.postToken(form, "test-confidential", "test-secret"); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("BAD_CODE: %d %v, want exactly 400 invalid_grant", resp.StatusCode, body)
	}
	form.Set("code", q.Get("code"))
	if resp, body := e.postToken(form, "BAD_CLIENT_ID", "test-secret"); resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("BAD_CLIENT_ID: %d %v, want 401 invalid_client", resp.StatusCode, body)
	}
	if resp, body := e.postToken(form, "test-confidential", "test-secret"); resp.StatusCode != http.StatusOK {
		t.Errorf("the real code after a bad-client attempt: %d %v, want 200", resp.StatusCode, body)
	}
}
