package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

const appLaunchURL = "http://127.0.0.1:9/launch.html"

// ehrApp registers a launchable app and a launcher client allowed to use
// the launch API, and returns a bearer token for the API.
func ehrSetup(t *testing.T, e *env) string {
	t.Helper()
	ctx := context.Background()
	for _, c := range []store.Client{
		{ID: "ehr-app", Name: "Growth Chart", Type: store.ClientPublic, RedirectURIs: []string{testRedirect},
			LaunchURL: appLaunchURL, Scope: demo.AppScope},
		{ID: "other-app", Name: "Other", Type: store.ClientPublic, RedirectURIs: []string{testRedirect},
			LaunchURL: appLaunchURL, Scope: demo.AppScope},
		{ID: "launcher", Name: "Launcher", Type: store.ClientConfidentialSymmetric, SecretHash: store.Hash("launcher-secret"),
			Scope: "__launch"},
	} {
		if err := e.st.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := e.postToken(url.Values{"grant_type": {"client_credentials"}, "scope": {"__launch"}}, "launcher", "launcher-secret")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("launcher token: %d %v", resp.StatusCode, body)
	}
	return body["access_token"].(string)
}

// createLaunch calls the launch API.
func createLaunch(t *testing.T, e *env, token string, req map[string]any) (*http.Response, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(req)
	r, _ := http.NewRequest(http.MethodPost, e.base+"/ehr/api/launches", strings.NewReader(string(b)))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return e.doJSONOrEmpty(r)
}

// firstEncounter returns the id of one of the patient's encounters.
func firstEncounter(t *testing.T, e *env, patient string) string {
	rs, _, err := e.st.SearchResources(context.Background(), store.ResourceQuery{Type: "Encounter", Patient: patient, Count: 1})
	if err != nil || len(rs) != 1 {
		t.Fatalf("encounter of %s: %v", patient, err)
	}
	return rs[0].ID
}

// ehrAuthorize runs the authorization of an EHR launch for the app and
// returns the token response body.
func ehrAuthorize(t *testing.T, e *env, launch, scope string, untick ...string) (int, map[string]any) {
	t.Helper()
	conf := e.oauthConfig("test-public", strings.Fields(scope)...)
	conf.ClientID = "ehr-app"
	v := oauth2.GenerateVerifier()
	b := newBrowser(t, testRedirect)
	p := b.get(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", e.fhir),
		oauth2.SetAuthURLParam("launch", launch)))
	if p.URL.Path == "/login" {
		p = b.submit(p, url.Values{"username": {"clinician"}, "password": {"clinician-demo"}})
	}
	if p.URL.Path != "/consent" {
		return p.Status, map[string]any{"page": p.URL.Path, "location": p.Location}
	}
	f := parseForm(t, p.Body)
	f.values["decision"] = []string{"allow"}
	for _, u := range untick {
		kept := f.values["scope"][:0]
		for _, s := range f.values["scope"] {
			if s != u {
				kept = append(kept, s)
			}
		}
		f.values["scope"] = kept
	}
	q := e.appRedirect(b.submit(p, f.values))
	resp, body := e.postToken(url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {testRedirect},
		"client_id": {"ehr-app"}, "code_verifier": {v}}, "", "")
	return resp.StatusCode, body
}

// TestEHRLaunchContext: the token response carries exactly the context the
// granted launch scopes allow; fhirContext has the 2.1 shape (R-CTX-07..12,
// I-TOKEN-08).
func TestEHRLaunchContext(t *testing.T) {
	e := newEnv(t)
	token := ehrSetup(t, e)
	enc := firstEncounter(t, e, demo.PatientClaudie)
	newLaunch := func() string {
		resp, body := createLaunch(t, e, token, map[string]any{"client_id": "ehr-app", "patient": demo.PatientClaudie,
			"encounter": enc, "fhirContext": []map[string]string{{"reference": "Encounter/" + enc}, {"reference": "Patient/" + demo.PatientClaudie, "role": "https://example.org/roles/subject"}},
			"intent": "reconcile-medications", "need_patient_banner": true, "tenant": "clinic-1"})
		if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(body["launch_url"].(string), appLaunchURL+"?") {
			t.Fatalf("launch API: %d %v", resp.StatusCode, body)
		}
		u, _ := url.Parse(body["launch_url"].(string))
		if u.Query().Get("iss") != e.fhir || u.Query().Get("launch") != body["launch"] {
			t.Fatalf("launch_url %s lacks iss or launch", u)
		}
		return body["launch"].(string)
	}

	status, body := ehrAuthorize(t, e, newLaunch(), "launch openid fhirUser patient/*.rs")
	if status != http.StatusOK {
		t.Fatalf("EHR launch: %d %v", status, body)
	}
	for k, want := range map[string]any{"patient": demo.PatientClaudie, "encounter": enc, "intent": "reconcile-medications",
		"need_patient_banner": true, "tenant": "clinic-1", "smart_style_url": e.base + "/ehr/style.json"} {
		if body[k] != want {
			t.Errorf("%s = %v, want %v", k, body[k], want)
		}
	}
	fc, ok := body["fhirContext"].([]any)
	if !ok || len(fc) != 2 {
		t.Fatalf("fhirContext = %#v, want an array of two objects (2.1 shape)", body["fhirContext"])
	}
	first, _ := fc[0].(map[string]any)
	second, _ := fc[1].(map[string]any)
	if first["reference"] != "Encounter/"+enc || first["role"] != nil || second["role"] != "https://example.org/roles/subject" {
		t.Errorf("fhirContext = %v", fc)
	}
	// The style document is real JSON with SMART's style keys.
	_, style := e.doJSON(mustGet(t, e.base+"/ehr/style.json"))
	if style["color_background"] == nil || style["font_family_body"] == nil {
		t.Errorf("style document %v", style)
	}

	// Without the launch scope granted (unticked), no launch context at all;
	// the patient comes only with a scope that needs it.
	status, body = ehrAuthorize(t, e, newLaunch(), "launch openid fhirUser", "launch")
	if status != http.StatusOK {
		t.Fatalf("launch unticked: %d %v", status, body)
	}
	for _, k := range []string{"patient", "encounter", "fhirContext", "intent", "need_patient_banner", "tenant", "smart_style_url"} {
		if body[k] != nil {
			t.Errorf("launch not granted, yet %s = %v", k, body[k])
		}
	}
	// launch with patient scopes but not launch/patient still carries the patient (issue 6 item 2).
	status, body = ehrAuthorize(t, e, newLaunch(), "launch user/*.rs")
	if status != http.StatusOK || body["patient"] != demo.PatientClaudie {
		t.Errorf("launch with user/ scopes: %d patient=%v", status, body["patient"])
	}
}

// TestEHRLaunchIDs: a launch id works only for the app it was made for and
// only while it is fresh; an unknown one fails the same way, revealing
// nothing.
func TestEHRLaunchIDs(t *testing.T) {
	e := newEnv(t)
	token := ehrSetup(t, e)
	mk := func() string {
		_, body := createLaunch(t, e, token, map[string]any{"client_id": "other-app", "patient": demo.PatientClaudie})
		return body["launch"].(string)
	}
	for name, launch := range map[string]string{"another app's launch": mk(), "unknown launch": "no-such-launch"} {
		status, body := ehrAuthorize(t, e, launch, "launch patient/*.rs")
		q, _ := url.Parse(body["location"].(string))
		if status != http.StatusSeeOther || q.Query().Get("error") != "invalid_request" || strings.Contains(body["location"].(string), demo.PatientClaudie) {
			t.Errorf("%s: %d %v, want an invalid_request redirect with no context", name, status, body)
		}
	}
	_, body := createLaunch(t, e, token, map[string]any{"client_id": "ehr-app", "patient": demo.PatientClaudie})
	e.clock.Advance(6 * time.Minute)
	status, got := ehrAuthorize(t, e, body["launch"].(string), "launch patient/*.rs")
	q, _ := url.Parse(got["location"].(string))
	if status != http.StatusSeeOther || q.Query().Get("error") != "invalid_request" {
		t.Errorf("expired launch: %d %v", status, got)
	}
}

// TestLaunchAPI: the launch API needs a bearer token with the __launch
// scope and a valid request.
func TestLaunchAPI(t *testing.T) {
	e := newEnv(t)
	token := ehrSetup(t, e)
	other := launchOffline(t, e).AccessToken
	tests := []struct {
		name   string
		token  string
		req    map[string]any
		status int
	}{
		{"no token", "", map[string]any{"client_id": "ehr-app"}, http.StatusUnauthorized},
		{"token without __launch", other, map[string]any{"client_id": "ehr-app"}, http.StatusUnauthorized},
		{"unknown app", token, map[string]any{"client_id": "nope"}, http.StatusBadRequest},
		{"app without a launch URL", token, map[string]any{"client_id": "test-public"}, http.StatusBadRequest},
		{"unknown patient", token, map[string]any{"client_id": "ehr-app", "patient": "nope"}, http.StatusBadRequest},
		{"absolute fhirContext reference", token, map[string]any{"client_id": "ehr-app", "fhirContext": []map[string]string{{"reference": "http://x/Patient/1"}}}, http.StatusBadRequest},
		{"user who may not act for the patient", token, map[string]any{"client_id": "ehr-app", "patient": demo.PatientJill, "user": "parent"}, http.StatusBadRequest},
		{"unknown field", token, map[string]any{"client_id": "ehr-app", "bogus": 1}, http.StatusBadRequest},
		{"valid", token, map[string]any{"client_id": "ehr-app", "patient": demo.PatientJill, "user": "patient"}, http.StatusCreated},
	}
	for _, tt := range tests {
		if resp, body := createLaunch(t, e, tt.token, tt.req); resp.StatusCode != tt.status {
			t.Errorf("%s: %d %v, want %d", tt.name, resp.StatusCode, body, tt.status)
		}
	}
}

// TestEHRSimulator: a clinician signs in to the simulator, opens a chart,
// launches the app in a new window and, already signed in, goes straight
// to consent; the app gets the chart's patient. Embedded launches frame
// only the app's origin. A launch made for one user cannot be completed by
// another.
func TestEHRSimulator(t *testing.T) {
	e := newEnv(t)
	ehrSetup(t, e)
	b := newBrowser(t, appLaunchURL)
	p := b.get(e.base + "/ehr")
	p = b.submit(p, url.Values{"username": {"clinician"}, "password": {"clinician-demo"}})
	if p.URL.Path != "/ehr" || !strings.Contains(p.Body, "Claudie") {
		t.Fatalf("patient list: %v\n%s", p, p.Body)
	}
	p = b.get(e.base + "/ehr/patients/" + demo.PatientClaudie)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Growth Chart") || !strings.Contains(p.Body, "Recent observations") {
		t.Fatalf("chart: %v", p)
	}
	launched := b.submit(p, url.Values{"client_id": {"ehr-app"}, "mode": {"window"}})
	u, err := url.Parse(launched.Location)
	if err != nil || !strings.HasPrefix(launched.Location, appLaunchURL) || u.Query().Get("launch") == "" {
		t.Fatalf("launch from chart: %v Location %q", launched, launched.Location)
	}
	// The app now sends the browser to /authorize: signed in already, it
	// lands on consent without a password.
	conf := e.oauthConfig("test-public", "launch", "patient/*.rs")
	conf.ClientID = "ehr-app"
	v := oauth2.GenerateVerifier()
	b.stopAt = testRedirect
	p = b.get(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", e.fhir),
		oauth2.SetAuthURLParam("launch", u.Query().Get("launch"))))
	if p.URL.Path != "/consent" {
		t.Fatalf("authorize after the simulator sign-in: %v, want the consent page directly", p)
	}
	q := e.appRedirect(b.submit(p, url.Values{"decision": {"allow"}}))
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	if err != nil || tok.Extra("patient") != demo.PatientClaudie || tok.Extra("need_patient_banner") != true {
		t.Fatalf("token: %v patient=%v banner=%v", err, tok.Extra("patient"), tok.Extra("need_patient_banner"))
	}

	// Embedded: a simulator page frames the app, and only the app's origin.
	b.stopAt = appLaunchURL
	p = b.get(e.base + "/ehr/patients/" + demo.PatientClaudie)
	req, _ := http.NewRequest(http.MethodPost, e.base+"/ehr/patients/"+demo.PatientClaudie+"/launch",
		strings.NewReader(url.Values{"client_id": {"ehr-app"}, "mode": {"embedded"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.base)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); resp.StatusCode != http.StatusOK ||
		!strings.Contains(csp, "frame-src http://127.0.0.1:9;") || !strings.Contains(csp, "frame-ancestors 'self'") {
		t.Errorf("embedded launch page: %d CSP %q", resp.StatusCode, csp)
	}

	// A cross-site form post to the simulator is refused (CSRF).
	req, _ = http.NewRequest(http.MethodPost, e.base+"/ehr/patients/"+demo.PatientClaudie+"/launch",
		strings.NewReader(url.Values{"client_id": {"ehr-app"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err = b.c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site launch post: %v %v, want 403", err, resp.StatusCode)
	}
}

// TestEHRLaunchForAnotherUser: a launch made for the clinician cannot be
// completed by the parent signing in.
func TestEHRLaunchForAnotherUser(t *testing.T) {
	e := newEnv(t)
	token := ehrSetup(t, e)
	_, body := createLaunch(t, e, token, map[string]any{"client_id": "ehr-app", "patient": demo.PatientClaudie, "user": "clinician"})
	conf := e.oauthConfig("test-public", "launch", "patient/*.rs")
	conf.ClientID = "ehr-app"
	b := newBrowser(t, testRedirect)
	p := b.get(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("aud", e.fhir),
		oauth2.SetAuthURLParam("launch", body["launch"].(string))))
	p = b.submit(p, url.Values{"username": {"parent"}, "password": {"parent-demo"}})
	if p.Status != http.StatusForbidden || p.Location != "" {
		t.Errorf("another user completing the launch: %v, want 403 and no redirect", p)
	}
}

// TestEHRLaunchInferno walks Inferno's EHR-launch path: a POSTed
// authorization with launch (I-AUTHZ-04/05), state returned unchanged
// (I-AUTHZ-06/07), the token exchange and its headers (I-TOKEN-*), and the
// OpenID checks of the id_token (I-OIDC-01..07), including a read of the
// practitioner named by fhirUser.
func TestEHRLaunchInferno(t *testing.T) {
	e := newEnv(t)
	token := ehrSetup(t, e)
	_, lb := createLaunch(t, e, token, map[string]any{"client_id": "ehr-app", "patient": demo.PatientClaudie})
	v := oauth2.GenerateVerifier() + "-" + oauth2.GenerateVerifier()[:29] // 73 characters, as Inferno makes them (I-AUTHZ-08)
	form := url.Values{"response_type": {"code"}, "client_id": {"ehr-app"}, "redirect_uri": {testRedirect},
		"scope": {"launch openid fhirUser offline_access patient/*.rs"}, "state": {"8d6f1a52-1c7e-4f5e-9d0e-2b1c3a4d5e6f"},
		"aud": {e.fhir}, "code_challenge": {oauth2.S256ChallengeFromVerifier(v)}, "code_challenge_method": {"S256"},
		"launch": {lb["launch"].(string)}}
	b := newBrowser(t, testRedirect)
	req, _ := http.NewRequest(http.MethodPost, e.base+"/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://inferno.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	p := b.do(req)
	p = b.submit(p, url.Values{"username": {"clinician"}, "password": {"clinician-demo"}})
	q := e.appRedirect(b.submit(p, url.Values{"decision": {"allow"}}))
	if q.Get("state") != form.Get("state") || q.Get("code") == "" || q.Get("error") != "" {
		t.Fatalf("redirect %v", q)
	}
	treq, _ := http.NewRequest(http.MethodPost, e.base+"/token", strings.NewReader(url.Values{"grant_type": {"authorization_code"},
		"code": {q.Get("code")}, "redirect_uri": {testRedirect}, "code_verifier": {v}, "client_id": {"ehr-app"}}.Encode()))
	treq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	treq.Header.Set("Origin", "https://inferno.example")
	resp, body := e.doJSON(treq)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" ||
		resp.Header.Get("Access-Control-Allow-Origin") != "https://inferno.example" {
		t.Fatalf("token: %d %v %v", resp.StatusCode, resp.Header, body)
	}
	if body["patient"] != demo.PatientClaudie || body["refresh_token"] == nil {
		t.Errorf("token body %v", body)
	}
	// I-OIDC-02..05: configuration fields, an RSA key, RS256 with its kid.
	_, oc := e.doJSON(mustGet(t, e.base+"/.well-known/openid-configuration"))
	for _, k := range []string{"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
		"subject_types_supported", "id_token_signing_alg_values_supported"} {
		if oc[k] == nil {
			t.Errorf("openid-configuration lacks %s", k)
		}
	}
	idt := body["id_token"].(string)
	hdr := headerOf(t, idt)
	_, jwks := e.doJSON(mustGet(t, oc["jwks_uri"].(string)))
	rsaKids := 0
	for _, k := range jwks["keys"].([]any) {
		km := k.(map[string]any)
		if km["kty"] == "RSA" {
			rsaKids++
			if km["kid"] != hdr["kid"] {
				t.Errorf("RSA key %v is not the id_token's kid %v", km["kid"], hdr["kid"])
			}
		}
	}
	if hdr["alg"] != "RS256" || rsaKids != 1 {
		t.Errorf("id_token header %v, %d RSA keys", hdr, rsaKids)
	}
	// I-OIDC-06/07: claims, and the fhirUser resource readable with the token.
	fhirUser := e.fhir + "/Practitioner/" + demo.PractitionerKeeley
	checkIDToken(t, e, idt, "ehr-app", "", fhirUser)
	status, prac, _ := e.fhirGet(body["access_token"].(string), "Practitioner/"+demo.PractitionerKeeley)
	if status != http.StatusOK || prac["resourceType"] != "Practitioner" {
		t.Errorf("read fhirUser: %d %v", status, prac["resourceType"])
	}
}

// headerOf decodes a JWT's header without verifying it.
func headerOf(t testing.TB, jwt string) map[string]any {
	parts := strings.Split(jwt, ".")
	b, err := base64RawURL(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
