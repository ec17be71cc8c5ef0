package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// TestAuthorizePost: the authorization endpoint takes POST too
// ("authorize-post").
func TestAuthorizePost(t *testing.T) {
	e := newEnv(t)
	u, _ := url.Parse(authorizeURL(e, nil))
	b := newBrowser(t, testRedirect)
	req, _ := http.NewRequest(http.MethodPost, e.base+"/authorize", strings.NewReader(u.RawQuery))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://app.example") // a cross-site form post from the app is expected here
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	p := b.do(req)
	if p.URL.Path != "/login" || p.Status != http.StatusOK {
		t.Fatalf("POST /authorize led to %v, want the login page", p)
	}
}

// TestPageSecurityHeaders: every HTML page forbids framing (clickjacking
// of the consent question) and sniffing, and sends no referrer.
func TestPageSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, testRedirect)
	resp, err := b.c.Get(authorizeURL(e, nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("landed on %s", resp.Request.URL)
	}
	for h, want := range map[string]string{
		"X-Frame-Options":        "SAMEORIGIN",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "frame-ancestors 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
}

// TestCrossSiteFormPostRefused: the sign-in and consent forms refuse a
// POST that a browser marks as coming from another site (CSRF).
func TestCrossSiteFormPostRefused(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, testRedirect)
	p := b.get(authorizeURL(e, nil))
	f := parseForm(t, p.Body)
	f.values.Set("username", "patient")
	f.values.Set("password", "patient-demo")
	req, _ := http.NewRequest(http.MethodPost, e.base+"/login", strings.NewReader(f.values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	got := b.do(req)
	if got.Status != http.StatusForbidden {
		t.Errorf("cross-site sign-in POST: %v, want 403", got)
	}
}

// TestRefreshTokenIssuance: a refresh token comes with offline_access or
// online_access and not otherwise; refreshing may narrow the scope but
// never widen it, and only the client it was issued to may use it.
func TestRefreshTokenIssuance(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, tt := range []struct {
		scope string
		want  bool
	}{
		{"offline_access", true},
		{"online_access", true},
		{"", false},
	} {
		conf := e.oauthConfig("test-public", "launch/patient", "patient/*.rs", tt.scope)
		v := oauth2.GenerateVerifier()
		q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
		tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.RefreshToken != ""; got != tt.want {
			t.Errorf("scope %q: refresh token issued = %v, want %v", tt.scope, got, tt.want)
		}
		if !tt.want {
			continue
		}
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
		resp, body := e.postToken(f, "test-confidential", "test-secret")
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("another client's refresh token: %d %v, want invalid_grant", resp.StatusCode, body)
		}
		f.Set("client_id", "test-public")
		f.Set("scope", "patient/*.cruds")
		resp, body = e.postToken(f, "", "")
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_scope" {
			t.Errorf("widening refresh: %d %v, want invalid_scope", resp.StatusCode, body)
		}
		f.Set("scope", "patient/Observation.rs")
		resp, body = e.postToken(f, "", "")
		if resp.StatusCode != http.StatusOK || body["scope"] != "patient/Observation.rs" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("narrowing refresh: %d %v, want 200 with the narrowed scope", resp.StatusCode, body)
		}
	}
}

// TestConsentTamperingRefused: a consent answer ticking a scope the app
// never asked for, or a picker answer naming a patient the person may not
// choose, is refused, grants nothing, and is recorded (issue 7 bad input).
func TestConsentTamperingRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := newBrowser(t, testRedirect)
	p := b.get(authorizeURL(e, url.Values{"scope": {"launch/patient patient/Observation.rs"}}))
	p = b.submit(p, url.Values{"username": {"patient"}, "password": {"patient-demo"}})
	if p.URL.Path != "/consent" {
		t.Fatalf("consent page: %v", p)
	}
	f := parseForm(t, p.Body)
	f.values["scope"] = append(f.values["scope"], "patient/*.cruds")
	f.values.Set("decision", "allow")
	req, _ := http.NewRequest(http.MethodPost, e.base+"/consent", strings.NewReader(f.values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.base)
	if got := b.do(req); got.Status != http.StatusBadRequest || got.Location != "" {
		t.Errorf("consent with an extra scope: %v, want 400 and no redirect", got)
	}
	r, err := e.st.GetAuthRequest(ctx, f.values.Get("request"))
	if err != nil || r.Decision != store.DecisionPending || r.GrantedScope != "" {
		t.Errorf("after tampering the request is %+v (%v), want it undecided", r, err)
	}

	// The parent's picker, answered with a patient she may not choose.
	pb := newBrowser(t, testRedirect)
	p = pb.get(authorizeURL(e, nil))
	p = pb.submit(p, url.Values{"username": {"parent"}, "password": {"parent-demo"}})
	if p.URL.Path != "/pick" {
		t.Fatalf("picker: %v", p)
	}
	if got := pb.submit(p, url.Values{"patient": {demo.PatientJill}}); got.Status != http.StatusForbidden {
		t.Errorf("picking another family's patient: %v, want 403", got)
	}
	evs, err := e.st.ListAuditEvents(ctx, store.AuditQuery{})
	kinds := map[string]int{}
	for _, ev := range evs {
		if ev.Type == "consent.tampered" {
			kinds[ev.Detail]++
		}
	}
	if err != nil || kinds["scope"] != 1 || kinds["patient"] != 1 {
		t.Errorf("audit events %v (%v), want one consent.tampered for the scope and one for the patient", kinds, err)
	}
}
