package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// launchOffline runs a launch for the public test app with offline_access
// and returns its tokens.
func launchOffline(t *testing.T, e *env) *oauth2.Token {
	t.Helper()
	conf := e.oauthConfig("test-public", "launch/patient", "patient/*.rs", "offline_access")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestRefreshRace: 50 requests present one refresh token at once. Exactly
// one gets tokens; the others are reuse, which ends the authorization, so
// afterwards every token of it fails at the token endpoint and the FHIR
// API — while another authorization of the same user and app is untouched
// (D-1; RFC 9700 §4.14.2; OAuth 2.1 §6.1).
func TestRefreshRace(t *testing.T) {
	e := newEnv(t)
	victim := launchOffline(t, e)
	bystander := launchOffline(t, e)

	const n = 50
	type result struct {
		status int
		body   map[string]any
	}
	results := make([]result, n)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			req, _ := http.NewRequest(http.MethodPost, e.base+"/token", strings.NewReader(url.Values{
				"grant_type": {"refresh_token"}, "refresh_token": {victim.RefreshToken}, "client_id": {"test-public"},
			}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, body := e.doJSON(req)
			results[i] = result{resp.StatusCode, body}
		}()
	}
	start.Done()
	wg.Wait()

	var winner map[string]any
	for _, r := range results {
		switch {
		case r.status == http.StatusOK:
			if winner != nil {
				t.Fatal("two concurrent uses of one refresh token both got tokens")
			}
			winner = r.body
		case r.status != http.StatusBadRequest || r.body["error"] != "invalid_grant":
			t.Errorf("a losing request got %d %v, want 400 invalid_grant", r.status, r.body)
		}
	}
	if winner == nil {
		t.Fatal("no request got tokens")
	}

	// Every token of the victim authorization is dead, the winner's too.
	for name, tok := range map[string]string{"original": victim.AccessToken, "winner's": winner["access_token"].(string)} {
		status, _, h := e.fhirGet(tok, "Patient/"+demo.PatientJill)
		if status != http.StatusUnauthorized || !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s access token: %d %q, want 401 invalid_token", name, status, h.Get("WWW-Authenticate"))
		}
	}
	resp, body := e.postToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {winner["refresh_token"].(string)},
		"client_id": {"test-public"}}, "", "")
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" ||
		!strings.Contains(body["error_description"].(string), "used twice") {
		t.Errorf("winner's refresh token: %d %v, want invalid_grant saying a token was used twice", resp.StatusCode, body)
	}
	as, err := e.st.ListUserAuthorizations(context.Background(), "user-patient")
	if err != nil || len(as) != 2 {
		t.Fatalf("authorizations: %v, %d", err, len(as))
	}
	ended := 0
	for _, a := range as {
		if !a.EndedAt.IsZero() {
			ended++
			if a.EndReason != store.EndRefreshTokenReuse {
				t.Errorf("end reason = %q, want %q", a.EndReason, store.EndRefreshTokenReuse)
			}
		}
	}
	if ended != 1 {
		t.Errorf("%d authorizations ended, want exactly the victim's", ended)
	}
	evs, err := e.st.ListAuditEvents(context.Background(), store.AuditQuery{UserID: "user-patient", Type: "authorization.ended"})
	if err != nil || len(evs) != 1 || evs[0].Type != "authorization.ended" || evs[0].Detail != string(store.EndRefreshTokenReuse) {
		t.Errorf("audit events = %+v (%v), want exactly one authorization.ended for refresh_token_reuse", evs, err)
	}

	// The bystander authorization still works, at both endpoints.
	if status, _, _ := e.fhirGet(bystander.AccessToken, "Patient/"+demo.PatientJill); status != http.StatusOK {
		t.Errorf("other authorization's access token: %d, want 200", status)
	}
	resp, body = e.postToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {bystander.RefreshToken},
		"client_id": {"test-public"}}, "", "")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("other authorization's refresh: %d %v, want 200", resp.StatusCode, body)
	}
}

// TestLifetimes: the access-token lifetime, the refresh-token idle timeout
// and the absolute lifetime of an offline authorization, set per client
// (issue 4 item 3).
func TestLifetimes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.st.CreateClient(ctx, store.Client{ID: "short-lived", Name: "Short", Type: store.ClientPublic,
		RedirectURIs: []string{testRedirect}, Scope: demo.AppScope,
		AccessTokenTTL: 5 * time.Minute, RefreshIdleTTL: time.Hour, OfflineLifetime: 150 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	conf := e.oauthConfig("short-lived", "launch/patient", "patient/*.rs", "offline_access")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Extra("expires_in"); got != float64(300) {
		t.Errorf("expires_in = %v, want 300", got)
	}
	e.clock.Advance(5 * time.Minute)
	if status, _, _ := e.fhirGet(tok.AccessToken, "Patient/"+demo.PatientJill); status != http.StatusUnauthorized {
		t.Errorf("access token after its lifetime: %d, want 401", status)
	}
	refresh := func(rt string) (int, map[string]any) {
		resp, body := e.postToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"short-lived"}}, "", "")
		return resp.StatusCode, body
	}
	// Used within the idle period, the refresh token rotates and the period restarts.
	e.clock.Advance(50 * time.Minute) // t = 55 min
	status, body := refresh(tok.RefreshToken)
	if status != http.StatusOK {
		t.Fatalf("refresh within the idle period: %d %v", status, body)
	}
	rt := body["refresh_token"].(string)
	e.clock.Advance(61 * time.Minute) // t = 116 min: idle for 61 min
	if status, body := refresh(rt); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("refresh after the idle timeout: %d %v, want invalid_grant", status, body)
	}

	// A fresh authorization: the absolute lifetime caps it however often it is used.
	q = e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	tok, err = conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	rt = tok.RefreshToken
	for elapsed := time.Duration(0); ; elapsed += 50 * time.Minute {
		e.clock.Advance(50 * time.Minute)
		status, body := refresh(rt)
		if elapsed+50*time.Minute >= 150*time.Minute {
			if status != http.StatusBadRequest || !strings.Contains(body["error_description"].(string), "expired") {
				t.Errorf("refresh at %v, past the offline lifetime: %d %v, want invalid_grant saying it expired", elapsed+50*time.Minute, status, body)
			}
			break
		}
		if status != http.StatusOK {
			t.Fatalf("refresh at %v: %d %v, want 200", elapsed+50*time.Minute, status, body)
		}
		rt = body["refresh_token"].(string)
	}
}

// TestOnlineAccessEndsWithSession: an online_access refresh token works
// only while the sign-in session it was approved in lives; signing out
// ends it (R-OIDC-11).
func TestOnlineAccessEndsWithSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conf := e.oauthConfig("test-public", "launch/patient", "patient/*.rs", "online_access")
	v := oauth2.GenerateVerifier()
	b := newBrowser(t, testRedirect)
	p := b.get(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", e.fhir)))
	p = b.submit(p, url.Values{"username": {"patient"}, "password": {"patient-demo"}})
	q := e.appRedirect(b.submit(p, url.Values{"decision": {"allow"}}))
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("exchange: %v, refresh token %q", err, tok.RefreshToken)
	}
	next, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh while signed in: %v", err)
	}
	out := b.get(e.base + "/logout")
	if out.Status != http.StatusOK {
		t.Fatalf("logout page: %v", out)
	}
	if got := b.submit(out, nil); got.Status != http.StatusOK || !strings.Contains(got.Body, "signed out") {
		t.Fatalf("sign out: %v", got)
	}
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || !strings.Contains(re.ErrorDescription, "signed out") {
		t.Fatalf("refresh after signing out: %v, want invalid_grant saying the user signed out", err)
	}
}

// TestPublicRefreshWithoutClientID: a public app may refresh without
// naming itself (RFC 6749 §6; fhirclient does this); a confidential app's
// token still needs its authentication.
func TestPublicRefreshWithoutClientID(t *testing.T) {
	e := newEnv(t)
	pub := launchOffline(t, e)
	resp, body := e.postToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pub.RefreshToken}}, "", "")
	if resp.StatusCode != http.StatusOK || body["refresh_token"] == nil {
		t.Fatalf("public refresh without client_id: %d %v", resp.StatusCode, body)
	}
	conf := e.oauthConfig("test-confidential", "launch/patient", "patient/*.rs", "offline_access")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	resp, body = e.postToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, "", "")
	if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("confidential refresh without authentication: %d %v, want 401 invalid_client", resp.StatusCode, body)
	}
}
