package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// authorizeURL builds an authorization request for the public test app
// with every required parameter, then applies the overrides (an empty
// value deletes the parameter).
func authorizeURL(e *env, overrides url.Values) string {
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {"test-public"},
		"redirect_uri":          {testRedirect},
		"scope":                 {"launch/patient patient/*.rs openid fhirUser"},
		"state":                 {"s1"},
		"aud":                   {e.fhir},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"},
	}
	for k, v := range overrides {
		if len(v) == 1 && v[0] == "" {
			q.Del(k)
			continue
		}
		q[k] = v
	}
	return e.base + "/authorize?" + q.Encode()
}

// TestAuthorizeErrorPages: until the client and its redirect URI are
// known, errors are pages and never redirects (RFC 6749 §4.1.2.1; A-…
// open redirector).
func TestAuthorizeErrorPages(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		q    url.Values
	}{
		{"unknown client", url.Values{"client_id": {"nope"}}},
		{"missing client", url.Values{"client_id": {""}}},
		{"unregistered redirect_uri", url.Values{"redirect_uri": {"http://evil.example/callback"}}},
		{"redirect_uri differing by a trailing slash", url.Values{"redirect_uri": {testRedirect + "/"}}},
		{"redirect_uri with extra query", url.Values{"redirect_uri": {testRedirect + "?x=1"}}},
		{"missing redirect_uri", url.Values{"redirect_uri": {""}}},
		{"repeated redirect_uri", url.Values{"redirect_uri": {testRedirect, "http://evil.example/callback"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t, "http://")
			p := b.get(authorizeURL(e, tt.q))
			if p.Status != http.StatusBadRequest || p.Location != "" {
				t.Fatalf("got %v Location=%q, want a 400 page and no redirect", p, p.Location)
			}
			if !strings.Contains(p.Body, "<html") || !strings.Contains(p.Body, "Reference:") {
				t.Errorf("error page body lacks the page or its reference:\n%s", p.Body)
			}
		})
	}
}

// TestAuthorizeErrorRedirects: once the redirect URI is validated, errors
// go back to the app with state and iss (R-LAUNCH-15, R-DISC-13).
func TestAuthorizeErrorRedirects(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		q    url.Values
		want string
	}{
		{"plain PKCE", url.Values{"code_challenge_method": {"plain"}, "code_challenge": {strings.Repeat("a", 43)}}, "invalid_request"},
		{"missing PKCE method", url.Values{"code_challenge_method": {""}}, "invalid_request"},
		{"missing PKCE challenge", url.Values{"code_challenge": {""}}, "invalid_request"},
		{"malformed PKCE challenge", url.Values{"code_challenge": {"short"}}, "invalid_request"},
		{"wrong aud", url.Values{"aud": {"https://other.example/fhir"}}, "invalid_request"},
		{"aud with a trailing slash (A-77)", url.Values{"aud": {"{{FHIR}}/"}}, "invalid_request"},
		{"aud in other case (A-77)", url.Values{"aud": {"{{FHIR}}X"}}, "invalid_request"},
		{"request object (A-08)", url.Values{"request": {"eyJhbGciOiJub25lIn0.e30."}}, "request_not_supported"},
		{"request_uri (A-08)", url.Values{"request_uri": {"urn:ietf:params:oauth:request_uri:x"}}, "request_uri_not_supported"},
		{"response_mode fragment (A-08)", url.Values{"response_mode": {"fragment"}}, "invalid_request"},
		{"response_mode form_post (A-08)", url.Values{"response_mode": {"form_post"}}, "invalid_request"},
		{"missing aud", url.Values{"aud": {""}}, "invalid_request"},
		{"missing state", url.Values{"state": {""}}, "invalid_request"},
		{"response_type token", url.Values{"response_type": {"token"}}, "unsupported_response_type"},
		{"no grantable scope", url.Values{"scope": {"system/*.rs"}}, "invalid_scope"},
		{"malformed scope", url.Values{"scope": {"openid patient/Observation.dus"}}, "invalid_scope"},
		{"malformed query scope", url.Values{"scope": {"patient/Observation.rs?category"}}, "invalid_scope"},
		{"repeated scope", url.Values{"scope": {"openid", "patient/*.rs"}}, "invalid_request"},
		{"invalid UTF-8", url.Values{"state": {"s1\xff"}}, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.q {
				for i := range v {
					v[i] = strings.ReplaceAll(v[i], "{{FHIR}}", e.fhir)
				}
				tt.q[k] = v
			}
			b := newBrowser(t, testRedirect)
			q := e.appRedirect(b.get(authorizeURL(e, tt.q)))
			if got := q.Get("error"); got != tt.want {
				t.Errorf("error = %q (%s), want %q", got, q.Get("error_description"), tt.want)
			}
			if strings.HasPrefix(tt.name, "malformed") && strings.HasSuffix(tt.name, "scope") && !strings.Contains(q.Get("error_description"), `"patient/Observation.`) {
				t.Errorf("error_description %q does not name the malformed scope", q.Get("error_description"))
			}
			if q.Get("code") != "" {
				t.Error("an error redirect carried a code")
			}
			if q.Get("iss") != e.base {
				t.Errorf("iss = %q, want %q", q.Get("iss"), e.base)
			}
			if st := tt.q.Get("state"); st == "" && tt.name != "missing state" && q.Get("state") != "s1" {
				t.Errorf("state = %q, want s1", q.Get("state"))
			}
		})
	}
}

// TestAuthorizeAccepts: an unknown extra parameter is ignored, and a
// loopback redirect URI may use any port (RFC 8252 §7.3, A-13); the code
// is then bound to the URI actually used.
func TestAuthorizeAccepts(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, testRedirect)
	if p := b.get(authorizeURL(e, url.Values{"foo": {"bar"}, "response_mode": {"query"}})); p.URL.Path != "/login" {
		t.Errorf("with foo=bar: %v, want the login page", p)
	}
	const otherPort = "http://127.0.0.1:4567/callback"
	conf := e.oauthConfig("test-public", "patient/*.rs", "launch/patient")
	conf.RedirectURL = otherPort
	v := oauth2.GenerateVerifier()
	b = newBrowser(t, otherPort)
	p := b.get(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", e.fhir)))
	p = b.submit(p, url.Values{"username": {"patient"}, "password": {"patient-demo"}})
	p = b.submit(p, url.Values{"decision": {"allow"}})
	if !strings.HasPrefix(p.Location, otherPort+"?") {
		t.Fatalf("loopback redirect on another port: Location %q", p.Location)
	}
	code, _ := url.Parse(p.Location)
	if _, err := conf.Exchange(context.Background(), code.Query().Get("code"), oauth2.VerifierOption(v)); err != nil {
		t.Errorf("exchange with the port actually used: %v", err)
	}
}

// TestContinueNeedsProof: knowing the request id is not enough to collect
// the code; only the browser that answered the consent question holds the
// one-time proof (RFC 6749 §10.12).
func TestContinueNeedsProof(t *testing.T) {
	e := newEnv(t)
	victim := newBrowser(t, e.base+"/authorize/continue")
	p := victim.get(authorizeURL(e, nil))
	p = victim.submit(p, url.Values{"username": {"patient"}, "password": {"patient-demo"}})
	p = victim.submit(p, url.Values{"decision": {"allow"}})
	next, err := url.Parse(p.Location)
	if err != nil || next.Path != "/authorize/continue" || next.Query().Get("proof") == "" {
		t.Fatalf("consent answered with %v Location %q, want the continue URL with a proof", p, p.Location)
	}
	attacker := newBrowser(t, testRedirect)
	for _, proof := range []string{"", "wrong"} {
		u := e.base + "/authorize/continue?request=" + url.QueryEscape(next.Query().Get("request"))
		if proof != "" {
			u += "&proof=" + proof
		}
		if got := attacker.get(u); got.Status != http.StatusForbidden || got.Location != "" {
			t.Errorf("continue with proof %q: %v, want 403 and no redirect", proof, got)
		}
	}
	victim.stopAt = testRedirect
	q := e.appRedirect(victim.get(e.base + p.Location))
	if q.Get("code") == "" {
		t.Errorf("the victim's own continue gave %v, want a code", q)
	}
}

// TestAuthorizeDenied: a user who denies gets the app access_denied.
func TestAuthorizeDenied(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, testRedirect)
	p := b.get(authorizeURL(e, nil))
	p = b.submit(p, url.Values{"username": {"patient"}, "password": {"patient-demo"}})
	if p.URL.Path != "/consent" {
		t.Fatalf("a user with one patient should skip the picker; got %v", p)
	}
	q := e.appRedirect(b.submit(p, url.Values{"decision": {"deny"}}))
	if q.Get("error") != "access_denied" || q.Get("code") != "" || q.Get("state") != "s1" {
		t.Errorf("deny redirect = %v, want error=access_denied with state and no code", q)
	}
}

// TestLoginWrongPassword: a wrong password shows the form again, with no
// hint whether the username exists, and moves nothing forward.
func TestLoginWrongPassword(t *testing.T) {
	e := newEnv(t)
	for _, user := range []string{"patient", "nobody"} {
		b := newBrowser(t, testRedirect)
		p := b.get(authorizeURL(e, nil))
		p = b.submit(p, url.Values{"username": {user}, "password": {"wrong-password"}})
		if p.Status != http.StatusUnauthorized || p.URL.Path != "/login" ||
			!strings.Contains(p.Body, "do not match") || !strings.Contains(p.Body, `autocomplete="current-password"`) {
			t.Errorf("user %q: got %v, want the login form again with an error", user, p)
		}
	}
}

// TestConsentNeedsTheSignedInBrowser: another browser that learns the
// request id cannot answer the consent question.
func TestConsentNeedsTheSignedInBrowser(t *testing.T) {
	e := newEnv(t)
	victim := newBrowser(t, testRedirect)
	p := victim.get(authorizeURL(e, nil))
	p = victim.submit(p, url.Values{"username": {"patient"}, "password": {"patient-demo"}})
	attacker := newBrowser(t, testRedirect)
	got := attacker.submit(p, url.Values{"decision": {"allow"}})
	if got.Status != http.StatusForbidden || got.Location != "" {
		t.Fatalf("consent from another browser: %v, want 403 and no redirect", got)
	}
}

// TestTokenGrantErrors covers the code exchange's checks: PKCE verifier
// wrong or missing, redirect_uri mismatch, wrong client (I-TOKEN-*).
func TestTokenGrantErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		mutate func(f url.Values)
		want   string
	}{
		{"wrong verifier", func(f url.Values) { f.Set("code_verifier", oauth2.GenerateVerifier()) }, "invalid_grant"},
		{"missing verifier", func(f url.Values) { f.Del("code_verifier") }, "invalid_grant"},
		{"redirect_uri mismatch", func(f url.Values) { f.Set("redirect_uri", testRedirect+"x") }, "invalid_grant"},
		{"unknown code", func(f url.Values) { f.Set("code", "bogus") }, "invalid_grant"},
		{"unknown grant type", func(f url.Values) { f.Set("grant_type", "password") }, "unsupported_grant_type"},
		{"unknown client", func(f url.Values) { f.Set("client_id", "nope") }, "invalid_client"},
		{"confidential client without secret", func(f url.Values) { f.Set("client_id", "test-confidential") }, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := e.oauthConfig("test-public", "patient/*.rs", "launch/patient")
			v := oauth2.GenerateVerifier()
			q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
			f := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {testRedirect},
				"client_id": {"test-public"}, "code_verifier": {v}}
			tt.mutate(f)
			resp, body := e.postToken(f, "", "")
			if body["error"] != tt.want || resp.StatusCode/100 != 4 {
				t.Errorf("got %d %v, want 4xx %s", resp.StatusCode, body, tt.want)
			}
			if body["access_token"] != nil {
				t.Error("an error response carried an access token")
			}
		})
	}
}

// TestCodeReplay: a code is single-use; redeeming it again fails and ends
// the authorization, so the first exchange's tokens stop working
// (RFC 6749 §4.1.2).
func TestCodeReplay(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conf := e.oauthConfig("test-confidential", "launch/patient", "patient/*.rs", "offline_access")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	first, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if status, _, _ := e.fhirGet(first.AccessToken, "Patient/"+demo.PatientJill); status != http.StatusOK {
		t.Fatalf("first token: %d, want 200", status)
	}
	// Someone holding only the code cannot revoke the grant with it.
	_, err = conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("replay with a wrong verifier: %v, want invalid_grant", err)
	}
	if status, _, _ := e.fhirGet(first.AccessToken, "Patient/"+demo.PatientJill); status != http.StatusOK {
		t.Fatalf("first token after a replay with a wrong verifier: %d, want 200 (A-24)", status)
	}
	// A replay that is otherwise fully valid ends the authorization (D-2).
	_, err = conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("second exchange: %v, want invalid_grant", err)
	}
	status, _, h := e.fhirGet(first.AccessToken, "Patient/"+demo.PatientJill)
	if status != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("first access token after replay: %d %q, want 401 with WWW-Authenticate Bearer", status, h.Get("WWW-Authenticate"))
	}
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token(); err == nil {
		t.Error("first refresh token still works after code replay")
	}
}

// TestCodeExpires: codes live 60 seconds.
func TestCodeExpires(t *testing.T) {
	e := newEnv(t)
	conf := e.oauthConfig("test-public", "patient/*.rs", "launch/patient")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	e.clock.Advance(61e9)
	_, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("exchange after 61 s: %v, want invalid_grant", err)
	}
}

// TestRevokedAuthorization: ending an authorization makes its access
// token fail at the FHIR API and its refresh token at the token endpoint,
// whether it ends in this process or in another one sharing the store
// (such as the command line), within the ended-cache period.
func TestRevokedAuthorization(t *testing.T) {
	for _, inProcess := range []bool{true, false} {
		name := map[bool]string{true: "in process", false: "by another process"}[inProcess]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			conf := e.oauthConfig("test-public", "patient/*.rs", "launch/patient", "offline_access")
			v := oauth2.GenerateVerifier()
			q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
			tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			if status, _, _ := e.fhirGet(tok.AccessToken, "Patient/"+demo.PatientJill); status != http.StatusOK {
				t.Fatalf("before revocation: %d, want 200", status)
			}
			as, err := e.st.ListUserAuthorizations(ctx, "user-patient")
			if err != nil || len(as) != 1 {
				t.Fatalf("authorizations: %v %d", err, len(as))
			}
			if inProcess {
				e.app.OAuth.EndAuthorization(ctx, as[0].ID, store.EndUserRevoked)
			} else {
				if _, err := e.st.EndAuthorization(ctx, as[0].ID, e.clock.Now(), store.EndAdminRevoked); err != nil {
					t.Fatal(err)
				}
				e.clock.Advance(1e9)
			}
			if status, _, _ := e.fhirGet(tok.AccessToken, "Patient/"+demo.PatientJill); status != http.StatusUnauthorized {
				t.Errorf("access token after revocation: %d, want 401", status)
			}
			_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
				t.Fatalf("refresh after revocation: %v, want invalid_grant", err)
			}
			// The app is told why, in words, without secrets (issue 4 item 4).
			want := map[bool]string{true: "the user took this app's access back", false: "an administrator ended this app's access"}[inProcess]
			if !strings.Contains(re.ErrorDescription, want) {
				t.Errorf("error_description = %q, want it to say %q", re.ErrorDescription, want)
			}
		})
	}
}

// TestPurgeExpired: expired authorization requests are deleted, so
// anonymous /authorize calls cannot grow the store without bound.
func TestPurgeExpired(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := newBrowser(t, testRedirect)
	p := b.get(authorizeURL(e, nil))
	id := p.URL.Query().Get("request")
	if _, err := e.st.GetAuthRequest(ctx, id); err != nil {
		t.Fatalf("pending request: %v", err)
	}
	if err := e.app.OAuth.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.GetAuthRequest(ctx, id); err != nil {
		t.Fatalf("a live request was purged: %v", err)
	}
	e.clock.Advance(16 * 60e9)
	if err := e.app.OAuth.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.GetAuthRequest(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired request after purge: %v, want ErrNotFound", err)
	}
	if got := b.submit(p, url.Values{"username": {"patient"}, "password": {"patient-demo"}}); got.Status != http.StatusBadRequest {
		t.Errorf("signing in to a purged request: %v, want 400", got)
	}
}

// TestPurgeRefreshChain (issue 11, bounded storage): of a refresh-token
// chain, Purge keeps the current token and the 8 most recently used, so
// storage stays flat under steady refreshing while a replay of a recent
// token still ends the authorization.
func TestPurgeRefreshChain(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conf := e.oauthConfig("test-public", "launch/patient", "offline_access", "patient/*.rs")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	chain := []string{tok.RefreshToken}
	for range 12 {
		e.clock.Advance(time.Minute)
		tok, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, tok.RefreshToken)
	}
	if err := e.app.OAuth.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	for i, rt := range chain {
		_, err := e.st.GetRefreshToken(ctx, store.Hash(rt))
		kept := i >= len(chain)-9 // the current one and the 8 most recently used
		if kept != (err == nil) {
			t.Errorf("token %d of %d: kept %v (%v), want %v", i, len(chain), err == nil, err, kept)
		}
	}
	// Replaying a kept used token still ends the authorization.
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: chain[len(chain)-3]}).Token(); err == nil {
		t.Fatal("a used refresh token was accepted")
	}
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("the current refresh token still works after a replay: reuse detection lost")
	}
}
