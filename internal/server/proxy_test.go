package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/fhir/upstream"
	"github.com/smartlaunch/smartlaunch/internal/server"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// TestProxyModeLaunch: a smartlaunch server in proxy mode in front of
// another one (the upstream, reached with the client-credentials grant)
// launches an app for a patient that only the upstream holds — the picker
// and the consent page look patients up there — and the app reads that
// patient's data through the proxy, within its scopes.
func TestProxyModeLaunch(t *testing.T) {
	ctx := context.Background()
	up, px := newProxyPair(t)
	// A patient only the upstream holds: a copy of a sample patient.
	src, err := up.st.GetResource(ctx, "Patient", demo.PatientVersie)
	if err != nil {
		t.Fatal(err)
	}
	only := src
	only.ID, only.Patients = "upstream-only", []string{"upstream-only"}
	only.JSON = []byte(strings.Replace(string(src.JSON), `"id":"`+demo.PatientVersie+`"`, `"id":"upstream-only"`, 1))
	only.Index = []store.IndexEntry{{Param: "_id", Value: "upstream-only"}}
	if err := up.st.PutResources(ctx, []store.Resource{only}); err != nil {
		t.Fatal(err)
	}
	conf := px.oauthConfig("test-public", "launch/patient", "patient/*.rs")
	verifier := oauth2.GenerateVerifier()
	q := px.authorize(launch{conf: conf, verifier: verifier, username: "clinician", password: "clinician-demo", patient: "upstream-only"})
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if got := tok.Extra("patient"); got != "upstream-only" {
		t.Fatalf("token patient = %v, want upstream-only", got)
	}
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"Patient/upstream-only", http.StatusOK},
		{"Patient/" + demo.PatientVersie, http.StatusNotFound},
		{"Condition?patient=upstream-only", http.StatusOK},
	} {
		status, body, _ := px.fhirGet(tok.AccessToken, tc.path)
		if status != tc.status {
			t.Errorf("GET %s through the proxy = %d %v, want %d", tc.path, status, body["resourceType"], tc.status)
		}
		if status == http.StatusOK && strings.Contains(fmtJSON(body), up.base) {
			t.Errorf("GET %s names the upstream %s", tc.path, up.base)
		}
	}
}

// newProxyPair returns a smartlaunch server (up) and one in proxy mode in
// front of its FHIR API (px), which reaches up with the client-credentials
// grant of its client "proxy" (system/*.rs).
func newProxyPair(t *testing.T) (up, px *env) {
	t.Helper()
	up = newEnv(t)
	const secret = "proxy-secret-0123456789abcdef0123456789"
	if err := up.st.CreateClient(context.Background(), store.Client{ID: "proxy", Name: "proxy", Type: store.ClientConfidentialSymmetric,
		SecretHash: store.Hash(secret), Scope: "system/*.rs"}); err != nil {
		t.Fatal(err)
	}
	client, err := upstream.New(upstream.Config{Base: up.fhir, ClientCredentials: &clientcredentials.Config{
		ClientID: "proxy", ClientSecret: secret, TokenURL: up.base + "/token", Scopes: []string{"system/*.rs"}}})
	if err != nil {
		t.Fatal(err)
	}
	return up, newEnvWith(t, func(cfg *server.Config) { cfg.Upstream = client })
}

// fmtJSON is v as JSON text.
func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
