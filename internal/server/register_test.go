package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/smartlaunch/smartlaunch/internal/server"
)

const regToken = "initial-access-token-0123456789abcdef"

func registerClient(e *env, token string, meta map[string]any) (*http.Response, map[string]any) {
	b, _ := json.Marshal(meta)
	req, _ := http.NewRequest(http.MethodPost, e.base+"/register", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.doJSONOrEmpty(req)
}

// TestDynamicRegistration: RFC 7591 registration is off by default and,
// when on, needs the initial access token; registered apps work at once.
func TestDynamicRegistration(t *testing.T) {
	off := newEnv(t)
	if resp, _ := registerClient(off, regToken, map[string]any{"redirect_uris": []string{"https://app.example/cb"}}); resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("registration while off: %d, want 404/405", resp.StatusCode)
	}
	e := newEnvWith(t, func(c *server.Config) { c.RegistrationToken = regToken })
	meta := map[string]any{"redirect_uris": []string{testRedirect}, "client_name": "Registered App",
		"token_endpoint_auth_method": "client_secret_basic", "scope": "launch/patient patient/*.rs",
		"policy_uri": "https://app.example/privacy", "unknown_member": "ignored"}
	if resp, body := registerClient(e, "", meta); resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_token" {
		t.Errorf("without the initial access token: %d %v", resp.StatusCode, body)
	}
	if resp, _ := registerClient(e, "wrong-token", meta); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("with a wrong token: %d", resp.StatusCode)
	}
	resp, body := registerClient(e, regToken, meta)
	if resp.StatusCode != http.StatusCreated || body["client_id"] == "" || body["client_secret"] == nil || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("registration: %d %v", resp.StatusCode, body)
	}
	// The registered confidential app completes a launch with its secret.
	conf := e.oauthConfig("test-confidential", "launch/patient", "patient/*.rs")
	conf.ClientID, conf.ClientSecret = body["client_id"].(string), body["client_secret"].(string)
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	if _, err := conf.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(v)); err != nil {
		t.Errorf("registered app's code exchange: %v", err)
	}
	for _, tt := range []struct {
		name string
		meta map[string]any
		want string
	}{
		{"javascript redirect", map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}, "invalid_redirect_uri"},
		{"no redirect", map[string]any{"token_endpoint_auth_method": "none"}, "invalid_redirect_uri"},
		{"unknown auth method", map[string]any{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "tls_client_auth"}, "invalid_client_metadata"},
		{"asymmetric without keys", map[string]any{"token_endpoint_auth_method": "private_key_jwt", "scope": "system/*.rs"}, "invalid_client_metadata"},
		{"malformed scope", map[string]any{"redirect_uris": []string{testRedirect}, "scope": "patient/X.dus"}, "invalid_client_metadata"},
	} {
		resp, body := registerClient(e, regToken, tt.meta)
		if resp.StatusCode != http.StatusBadRequest || body["error"] != tt.want {
			t.Errorf("%s: %d %v, want 400 %s", tt.name, resp.StatusCode, body, tt.want)
		}
	}
	var c map[string]any
	_, c = e.doJSON(mustGet(t, e.base+"/fhir/.well-known/smart-configuration"))
	if c["registration_endpoint"] != e.base+"/register" {
		t.Errorf("discovery registration_endpoint = %v", c["registration_endpoint"])
	}
}

func mustGet(t *testing.T, u string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestSecretRotationOverlap: after a rotation both secrets work until the
// overlap ends; then only the new one (issue 5 item 1).
func TestSecretRotationOverlap(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c, err := e.st.GetClient(ctx, "test-confidential")
	if err != nil {
		t.Fatal(err)
	}
	c.PreviousSecretHash, c.PreviousSecretExpiresAt = c.SecretHash, e.clock.Now().Add(timeHour)
	c.SecretHash = hashOf("new-secret")
	if err := e.st.UpdateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	try := func(secret string) int {
		resp, _ := e.postToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}, "test-confidential", secret)
		return resp.StatusCode // 400 invalid_grant once authenticated, 401 when not
	}
	if try("test-secret") != http.StatusBadRequest || try("new-secret") != http.StatusBadRequest {
		t.Error("during the overlap both secrets should authenticate")
	}
	e.clock.Advance(timeHour)
	if try("test-secret") != http.StatusUnauthorized || try("new-secret") != http.StatusBadRequest {
		t.Error("after the overlap only the new secret should authenticate")
	}
}
