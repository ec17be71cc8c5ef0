package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
	"golang.org/x/oauth2"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// backendApp is a backend-services client whose private keys exist only
// as crypto.Signers, as they would in an HSM or a cloud KMS.
type backendApp struct {
	id    string
	ec    crypto.Signer // ES384, kid "ec"
	rsa   crypto.Signer // RS384, kid "rsa"
	jwks  jose.JSONWebKeySet
	e     *env
	t     testing.TB
	clock func() time.Time
}

func newBackendApp(t testing.TB, e *env, id string) *backendApp {
	ec, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	a := &backendApp{id: id, ec: ec, rsa: rk, e: e, t: t, clock: e.clock.Now}
	a.jwks.Keys = []jose.JSONWebKey{
		{Key: ec.Public(), KeyID: "ec", Algorithm: "ES384", Use: "sig"},
		{Key: rk.Public(), KeyID: "rsa", Algorithm: "RS384", Use: "sig"},
	}
	return a
}

func (a *backendApp) register(jwksURI string) {
	c := store.Client{ID: a.id, Name: "Backend " + a.id, Type: store.ClientConfidentialAsymmetric,
		Scope: "system/*.rs system/Patient.rs " + "__introspect", JWKSURI: jwksURI}
	if jwksURI == "" {
		b, _ := json.Marshal(a.jwks)
		c.JWKS = string(b)
	}
	if err := a.e.st.CreateClient(context.Background(), c); err != nil {
		a.t.Fatal(err)
	}
}

// assertion signs claims (defaults: iss = sub = client, aud = token URL,
// exp = now + 5 min, a random jti, as Inferno sends them: no iat, no nbf)
// with the ES384 key; mutate changes claims and headers before signing.
func (a *backendApp) assertion(mutate func(claims map[string]any, h map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm)) string {
	a.t.Helper()
	jti := make([]byte, 32)
	_, _ = rand.Read(jti)
	claims := map[string]any{"iss": a.id, "sub": a.id, "aud": a.e.base + "/token",
		"exp": a.clock().Add(5 * time.Minute).Unix(), "jti": hex.EncodeToString(jti)}
	h := map[jose.HeaderKey]any{"kid": "ec", "typ": "JWT"}
	key, alg := a.ec, jose.ES384
	if mutate != nil {
		if k, al := mutate(claims, h); k != nil {
			key, alg = k, al
		}
	}
	opts := &jose.SignerOptions{ExtraHeaders: h}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: cryptosigner.Opaque(key)}, opts)
	if err != nil {
		a.t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		a.t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

func (a *backendApp) token(assertion, scope string) (*http.Response, map[string]any) {
	a.t.Helper()
	return a.e.postToken(url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}, "", "")
}

// TestBackendServices: a backend app authenticates with an ES384 assertion
// made by a crypto.Signer, gets a short-lived bearer token for system/
// scopes and no refresh token, and reads any patient with it (I-BACKEND-06,
// I-BACKEND-07, R-BACK-*).
func TestBackendServices(t *testing.T) {
	e := newEnv(t)
	app := newBackendApp(t, e, "backend")
	app.register("")
	resp, body := app.token(app.assertion(nil), "system/*.rs openid patient/*.rs")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("client_credentials: %d %v", resp.StatusCode, body)
	}
	if !strings.EqualFold(body["token_type"].(string), "bearer") || body["scope"] != "system/*.rs" ||
		body["refresh_token"] != nil || body["expires_in"].(float64) > 300 {
		t.Errorf("token response %v: want bearer, scope system/*.rs only, no refresh token, expires_in <= 300", body)
	}
	for _, p := range []string{demo.PatientJill, demo.PatientClaudie} {
		if status, _, _ := e.fhirGet(body["access_token"].(string), "Patient/"+p); status != http.StatusOK {
			t.Errorf("system read of Patient/%s: %d, want 200", p, status)
		}
	}
	// RS384 works too.
	resp, body = app.token(app.assertion(func(c map[string]any, h map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
		h["kid"] = "rsa"
		return app.rsa, jose.RS384
	}), "system/Patient.rs")
	if resp.StatusCode != http.StatusOK || body["scope"] != "system/Patient.rs" {
		t.Errorf("RS384 assertion: %d %v", resp.StatusCode, body)
	}
	// I-BACKEND-03: an unknown grant type is exactly 400.
	resp, body = e.postToken(url.Values{"grant_type": {"not_a_grant_type"}, "scope": {"system/*.rs"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {app.assertion(nil)}}, "", "")
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "unsupported_grant_type" {
		t.Errorf("bad grant type: %d %v, want exactly 400", resp.StatusCode, body)
	}
	// I-BACKEND-04: a wrong assertion type is 400 or 401.
	resp, body = e.postToken(url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"},
		"client_assertion_type": {"not_an_assertion_type"}, "client_assertion": {app.assertion(nil)}}, "", "")
	if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("bad assertion type: %d %v, want 401 invalid_client", resp.StatusCode, body)
	}
	// A public client may not use client_credentials.
	resp, body = e.postToken(url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}, "client_id": {"test-public"}}, "", "")
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "unauthorized_client" {
		t.Errorf("public client_credentials: %d %v, want unauthorized_client", resp.StatusCode, body)
	}
}

// TestAssertionRefused: every malformed or hostile assertion is refused
// with invalid_client and changes nothing (issue 5 negative tests,
// I-BACKEND-09, A-3x).
func TestAssertionRefused(t *testing.T) {
	e := newEnv(t)
	app := newBackendApp(t, e, "backend")
	app.register("")
	other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	pubDER, _ := x509.MarshalPKIXPublicKey(app.ec.Public())
	type mut = func(map[string]any, map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm)
	tests := []struct {
		name   string
		raw    string
		mutate mut
	}{
		{name: "alg none", raw: "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJiYWNrZW5kIiwic3ViIjoiYmFja2VuZCJ9."},
		{name: "HMAC signed with the public key", raw: hmacAssertion(t, pubDER, app.id, e.base+"/token")},
		{name: "expired", mutate: func(c map[string]any, _ map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
			c["exp"] = e.clock.Now().Add(-time.Minute).Unix()
			return nil, ""
		}},
		{name: "exp too far ahead", mutate: func(c map[string]any, _ map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
			c["exp"] = e.clock.Now().Add(time.Hour).Unix()
			return nil, ""
		}},
		{name: "no exp", mutate: func(c map[string]any, _ map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
			delete(c, "exp")
			return nil, ""
		}},
		{name: "no jti", mutate: func(c map[string]any, _ map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
			delete(c, "jti")
			return nil, ""
		}},
		{name: "wrong aud", mutate: func(c map[string]any, _ map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
			c["aud"] = "https://other.example/token"
			return nil, ""
		}},
		{name: "aud array (D-3)", mutate: func(c map[string]any, _ map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
			c["aud"] = []string{e.base + "/token"}
			return nil, ""
		}},
		{name: "wrong iss (I-G10BULK-04)", mutate: func(c map[string]any, _ map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
			c["iss"] = "not_a_valid_iss"
			return nil, ""
		}},
		{name: "sub differs from iss", mutate: func(c map[string]any, _ map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
			c["sub"] = "someone-else"
			return nil, ""
		}},
		{name: "unknown kid", mutate: func(_ map[string]any, h map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
			h["kid"] = "nope"
			return nil, ""
		}},
		{name: "signed by an unregistered key", mutate: func(map[string]any, map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
			return other, jose.ES384
		}},
		{name: "unregistered jku", mutate: func(_ map[string]any, h map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
			h["jku"] = "https://attacker.example/jwks.json"
			return nil, ""
		}},
		{name: "embedded jwk", mutate: func(_ map[string]any, h map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
			h["jwk"] = jose.JSONWebKey{Key: other.Public()}
			return other, jose.ES384
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.raw
			if raw == "" {
				raw = app.assertion(tt.mutate)
			}
			resp, body := app.token(raw, "system/*.rs")
			if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || body["access_token"] != nil {
				t.Errorf("got %d %v, want 401 invalid_client", resp.StatusCode, body)
			}
		})
	}
	// Replay: the same assertion twice; the second is refused.
	a := app.assertion(nil)
	if resp, _ := app.token(a, "system/*.rs"); resp.StatusCode != http.StatusOK {
		t.Fatalf("first use of an assertion: %d", resp.StatusCode)
	}
	if resp, body := app.token(a, "system/*.rs"); resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("replayed jti: %d %v, want 401 invalid_client", resp.StatusCode, body)
	}
	// A refused assertion does not use up its jti: a forged one with a
	// victim's jti changes nothing for the real one.
	var jti string
	forged := app.assertion(func(c map[string]any, _ map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
		jti = c["jti"].(string)
		return other, jose.ES384
	})
	app.token(forged, "system/*.rs")
	real := app.assertion(func(c map[string]any, _ map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
		c["jti"] = jti
		return nil, ""
	})
	if resp, body := app.token(real, "system/*.rs"); resp.StatusCode != http.StatusOK {
		t.Errorf("genuine assertion after a forged one with its jti: %d %v, want 200", resp.StatusCode, body)
	}
}

func hmacAssertion(t testing.TB, key []byte, id, aud string) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"iss": id, "sub": id, "aud": aud, "exp": time.Now().Add(time.Minute).Unix(), "jti": "h1"})
	jws, _ := s.Sign(b)
	out, _ := jws.CompactSerialize()
	return out
}

// TestAssertionJWKSURI: keys come from the registered jwks_uri; a jku
// header is honoured only when it is exactly that URI (I-BACKEND-08); a
// jwks_uri on a private or metadata address, or one that is huge, is never
// used.
func TestAssertionJWKSURI(t *testing.T) {
	e := newEnv(t)
	app := newBackendApp(t, e, "remote")
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(app.jwks)
	}))
	defer keys.Close()
	app.register(keys.URL + "/jwks.json")
	withJKU := func(jku string) func(map[string]any, map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
		return func(_ map[string]any, h map[jose.HeaderKey]any) (crypto.Signer, jose.SignatureAlgorithm) {
			h["jku"] = jku
			return nil, ""
		}
	}
	if resp, body := app.token(app.assertion(nil), "system/*.rs"); resp.StatusCode != http.StatusOK {
		t.Fatalf("key from jwks_uri: %d %v", resp.StatusCode, body)
	}
	if resp, body := app.token(app.assertion(withJKU(keys.URL+"/jwks.json")), "system/*.rs"); resp.StatusCode != http.StatusOK {
		t.Errorf("jku equal to the registered jwks_uri: %d %v", resp.StatusCode, body)
	}
	if resp, _ := app.token(app.assertion(withJKU(keys.URL+"/other.json")), "system/*.rs"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("jku not registered: %d, want 401", resp.StatusCode)
	}

	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[` + strings.Repeat(`{"kty":"oct","k":"AAAA"},`, 20000) + `{}]}`))
	}))
	defer huge.Close()
	for name, uri := range map[string]string{
		"metadata address": "https://169.254.169.254/latest/jwks",
		"private address":  "https://10.0.0.1/jwks.json",
		"huge key set":     huge.URL + "/jwks.json",
	} {
		a := newBackendApp(t, e, "bad-"+strings.ReplaceAll(name, " ", "-"))
		a.register(uri)
		if resp, body := a.token(a.assertion(nil), "system/*.rs"); resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("%s: %d %v, want 401 invalid_client", name, resp.StatusCode, body)
		}
	}
}

// TestAsymmetricAppLaunch: a confidential-asymmetric app (private_key_jwt)
// completes a standalone launch, and its refresh token is bound to client
// authentication with its registered key: a refresh without a fresh
// assertion, or with a stranger's, fails and changes nothing (issue 4 item
// 6; R-ASYM-*; I-G10ASYM-01).
func TestAsymmetricAppLaunch(t *testing.T) {
	e := newEnv(t)
	app := newBackendApp(t, e, "asym-app")
	b, _ := json.Marshal(app.jwks)
	if err := e.st.CreateClient(context.Background(), store.Client{ID: "asym-app", Name: "Asymmetric App",
		Type: store.ClientConfidentialAsymmetric, JWKS: string(b), RedirectURIs: []string{testRedirect}, Scope: demo.AppScope}); err != nil {
		t.Fatal(err)
	}
	conf := e.oauthConfig("asym-app", "launch/patient", "openid", "fhirUser", "patient/*.rs", "offline_access")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	assertionParams := func(a string) url.Values {
		return url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}
	}
	form := assertionParams(app.assertion(nil))
	form.Set("grant_type", "authorization_code")
	form.Set("code", q.Get("code"))
	form.Set("redirect_uri", testRedirect)
	form.Set("code_verifier", v)
	resp, body := e.postToken(form, "", "")
	if resp.StatusCode != http.StatusOK || body["id_token"] == nil || body["refresh_token"] == nil {
		t.Fatalf("asymmetric code exchange: %d %v", resp.StatusCode, body)
	}
	rt := body["refresh_token"].(string)
	// Without client authentication, or with another client's key, refresh fails.
	resp, body = e.postToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"asym-app"}}, "", "")
	if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("refresh without an assertion: %d %v, want 401 invalid_client", resp.StatusCode, body)
	}
	stranger := newBackendApp(t, e, "asym-app") // same id, unregistered keys
	form = assertionParams(stranger.assertion(nil))
	form.Set("grant_type", "refresh_token")
	form.Set("refresh_token", rt)
	if resp, body = e.postToken(form, "", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("refresh with an unregistered key: %d %v, want 401", resp.StatusCode, body)
	}
	// With its own key it refreshes: those failures did not use the token up.
	form = assertionParams(app.assertion(nil))
	form.Set("grant_type", "refresh_token")
	form.Set("refresh_token", rt)
	if resp, body = e.postToken(form, "", ""); resp.StatusCode != http.StatusOK || body["refresh_token"] == nil {
		t.Errorf("refresh with a fresh assertion: %d %v", resp.StatusCode, body)
	}
}
