package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// prover makes DPoP proofs (RFC 9449 §4.2) with its own ES256 key, the way
// a client holding a hardware key would: only the public key leaves it.
type prover struct {
	t     testing.TB
	e     *env
	key   *ecdsa.PrivateKey
	nonce string
}

func newProver(t testing.TB, e *env) *prover {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &prover{t: t, e: e, key: k}
}

func (p *prover) proof(method, u, accessToken string) string {
	p.t.Helper()
	opts := (&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", jose.JSONWebKey{Key: p.key.Public()})
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p.key}, opts)
	if err != nil {
		p.t.Fatal(err)
	}
	claims := map[string]any{"jti": base64.RawURLEncoding.EncodeToString(randomBytes(16)), "htm": method, "htu": u,
		"iat": p.e.clock.Now().Unix()}
	if p.nonce != "" {
		claims["nonce"] = p.nonce
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		p.t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// thumbprint is the RFC 7638 thumbprint of the prover's key.
func (p *prover) thumbprint() string {
	tp, err := (&jose.JSONWebKey{Key: p.key.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		p.t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// token posts form to the token endpoint with a DPoP proof (none if p is
// nil), learning the server nonce as a client does: a use_dpop_nonce answer
// is retried once with the nonce it carried.
func (p *prover) token(form url.Values) (*http.Response, map[string]any) {
	p.t.Helper()
	for try := 0; ; try++ {
		req, _ := http.NewRequest(http.MethodPost, p.e.base+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("DPoP", p.proof(http.MethodPost, p.e.base+"/token", ""))
		resp, body := p.e.doJSON(req)
		if n := resp.Header.Get("DPoP-Nonce"); n != "" {
			p.nonce = n
		}
		if body["error"] == "use_dpop_nonce" && try == 0 {
			continue
		}
		return resp, body
	}
}

// claimsOf decodes a JWT's payload without verifying it.
func claimsOf(t testing.TB, jwt string) map[string]any {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDPoPTokenEndpoint: a public app that proves possession of a key gets
// DPoP-bound tokens (token_type DPoP, cnf.jkt) after learning the server's
// nonce; its refresh token then works only with proofs by that key, and a
// refresh attempt without the key neither works nor ends the authorization
// (RFC 9449 §5, §8; D-8).
func TestDPoPTokenEndpoint(t *testing.T) {
	e := newEnv(t)
	p := newProver(t, e)
	conf := e.oauthConfig("test-public", "launch/patient", "patient/*.rs", "offline_access")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {testRedirect},
		"client_id": {"test-public"}, "code_verifier": {v}}

	// Without the server's nonce the first proof is refused with a nonce to use.
	req, _ := http.NewRequest(http.MethodPost, e.base+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", p.proof(http.MethodPost, e.base+"/token", ""))
	resp, body := e.doJSON(req)
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "use_dpop_nonce" || resp.Header.Get("DPoP-Nonce") == "" {
		t.Fatalf("proof without nonce: %d %v nonce=%q, want use_dpop_nonce with a DPoP-Nonce", resp.StatusCode, body, resp.Header.Get("DPoP-Nonce"))
	}
	p.nonce = resp.Header.Get("DPoP-Nonce")
	resp, body = p.token(form)
	if resp.StatusCode != http.StatusOK || body["token_type"] != "DPoP" {
		t.Fatalf("exchange with DPoP: %d %v, want token_type DPoP", resp.StatusCode, body)
	}
	cnf, _ := claimsOf(t, body["access_token"].(string))["cnf"].(map[string]any)
	if cnf["jkt"] != p.thumbprint() {
		t.Errorf("access token cnf = %v, want jkt %s", cnf, p.thumbprint())
	}
	rt := body["refresh_token"].(string)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"test-public"}}

	// Without a proof, or with another key, the bound refresh token is refused.
	resp, body = e.postToken(refresh, "", "")
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Errorf("bound refresh token without a proof: %d %v, want invalid_dpop_proof", resp.StatusCode, body)
	}
	thief := newProver(t, e)
	thief.nonce = p.nonce
	resp, body = thief.token(refresh)
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Errorf("bound refresh token with another key: %d %v, want invalid_dpop_proof", resp.StatusCode, body)
	}
	// Those attempts changed nothing: the holder of the key refreshes.
	resp, body = p.token(refresh)
	if resp.StatusCode != http.StatusOK || body["token_type"] != "DPoP" {
		t.Fatalf("refresh by the key holder: %d %v", resp.StatusCode, body)
	}
	cnf, _ = claimsOf(t, body["access_token"].(string))["cnf"].(map[string]any)
	if cnf["jkt"] != p.thumbprint() {
		t.Errorf("refreshed access token cnf = %v, want the same key", cnf)
	}
	// A proof for another URL is refused.
	req, _ = http.NewRequest(http.MethodPost, e.base+"/token", strings.NewReader(url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {body["refresh_token"].(string)}, "client_id": {"test-public"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", p.proof(http.MethodPost, e.base+"/other", ""))
	if resp, body := e.doJSON(req); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Errorf("proof for another htu: %d %v, want invalid_dpop_proof", resp.StatusCode, body)
	}
}

// TestDPoPRequiredByClient: an app registered with dpop_bound_access_tokens
// gets no token without a proof.
func TestDPoPRequiredByClient(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.st.CreateClient(ctx, store.Client{ID: "dpop-only", Name: "DPoP only", Type: store.ClientPublic,
		RedirectURIs: []string{testRedirect}, Scope: demo.AppScope, RequireDPoP: true}); err != nil {
		t.Fatal(err)
	}
	conf := e.oauthConfig("dpop-only", "launch/patient", "patient/*.rs")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {testRedirect},
		"client_id": {"dpop-only"}, "code_verifier": {v}}
	resp, body := e.postToken(form, "", "")
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Fatalf("no proof: %d %v, want invalid_dpop_proof", resp.StatusCode, body)
	}
}

// fhirDPoP reads rel from the FHIR API with a DPoP-bound token: the DPoP
// scheme and a proof over GET and the URL carrying the token's hash.
func (p *prover) fhirDPoP(token, rel string, proof string) (int, http.Header) {
	p.t.Helper()
	u := p.e.fhir + "/" + rel
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "DPoP "+token)
	if proof == "" {
		proof = p.proof(http.MethodGet, u, token)
	}
	req.Header.Set("DPoP", proof)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// TestDPoPResourceServer: a DPoP-bound access token works at the FHIR API
// only with a fresh proof by its key over this very request, carrying the
// token's hash (ath); presented as a bearer token, or with someone else's
// proof, it is refused with a DPoP challenge (RFC 9449 §7).
func TestDPoPResourceServer(t *testing.T) {
	e := newEnv(t)
	p := newProver(t, e)
	conf := e.oauthConfig("test-public", "launch/patient", "patient/*.rs")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	_, body := p.token(url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {testRedirect},
		"client_id": {"test-public"}, "code_verifier": {v}})
	token, _ := body["access_token"].(string)
	if body["token_type"] != "DPoP" {
		t.Fatalf("token response %v", body)
	}
	rel := "Patient/" + demo.PatientJill
	if status, _ := p.fhirDPoP(token, rel, ""); status != http.StatusOK {
		t.Fatalf("DPoP read: %d, want 200", status)
	}
	u := e.fhir + "/" + rel
	thief := newProver(t, e)
	replayed := p.proof(http.MethodGet, u, token)
	p.fhirDPoP(token, rel, replayed)
	tests := []struct {
		name, proof, want string
	}{
		{"replayed proof", replayed, "invalid_dpop_proof"},
		{"proof without the token's hash", p.proof(http.MethodGet, u, ""), "invalid_dpop_proof"},
		{"proof for another URL", p.proof(http.MethodGet, e.fhir+"/Patient", token), "invalid_dpop_proof"},
		{"proof for another method", p.proof(http.MethodPost, u, token), "invalid_dpop_proof"},
		{"proof by another key", thief.proof(http.MethodGet, u, token), "invalid_dpop_proof"},
	}
	for _, tt := range tests {
		status, h := p.fhirDPoP(token, rel, tt.proof)
		if status != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "DPoP ") ||
			!strings.Contains(h.Get("WWW-Authenticate"), `error="`+tt.want+`"`) {
			t.Errorf("%s: %d %q, want 401 DPoP %s", tt.name, status, h.Get("WWW-Authenticate"), tt.want)
		}
	}
	// The bound token as a plain bearer token is refused.
	status, _, h := e.fhirGet(token, rel)
	if status != http.StatusUnauthorized || !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("bound token as Bearer: %d %q, want 401 invalid_token", status, h.Get("WWW-Authenticate"))
	}
	// An unbound token is refused under the DPoP scheme.
	plain := launchOffline(t, e)
	if status, h := p.fhirDPoP(plain.AccessToken, rel, ""); status != http.StatusUnauthorized || !strings.Contains(h.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("unbound token with DPoP: %d %q", status, h.Get("WWW-Authenticate"))
	}
}

func base64RawURL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
