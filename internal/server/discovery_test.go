package server_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// TestDiscoveryGolden compares the discovery documents with golden files
// (the server's URL replaced by {{BASE}}); run with -update to accept a
// deliberate change. R-DISC-07..13, I-DISC-01..10, I-CORS-01.
func TestDiscoveryGolden(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ path, golden string }{
		{"/fhir/.well-known/smart-configuration", "smart-configuration.json"},
		{"/.well-known/openid-configuration", "openid-configuration.json"},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.base+tt.path, nil)
			req.Header.Set("Accept", "application/fhir+json") // R-DISC-08: JSON whatever Accept says
			req.Header.Set("Origin", "https://inferno.example")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("status %d, Content-Type %q; want 200 application/json", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://inferno.example" && got != "*" {
				t.Errorf("Access-Control-Allow-Origin = %q", got)
			}
			got := bytes.ReplaceAll(body, []byte(e.base), []byte("{{BASE}}"))
			golden := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s:\n%s", tt.path, golden, got)
			}
		})
	}
}

// TestSmartConfigurationRules checks the rules Inferno applies to the
// document, independently of the golden file.
func TestSmartConfigurationRules(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.base + "/fhir/.well-known/smart-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	strs := func(k string) []string {
		var out []string
		for _, v := range c[k].([]any) {
			s, ok := v.(string)
			if !ok {
				t.Fatalf("%s has a non-string entry %v (I-DISC-10)", k, v)
			}
			out = append(out, s)
		}
		return out
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "issuer", "jwks_uri"} {
		v, _ := c[k].(string)
		if !strings.HasPrefix(v, e.base+"/") && v != e.base {
			t.Errorf("%s = %q, want an absolute URL on this server (R-DISC-09)", k, v)
		}
	}
	if m := strs("code_challenge_methods_supported"); !slices.Contains(m, "S256") || slices.Contains(m, "plain") {
		t.Errorf("code_challenge_methods_supported = %v (R-DISC-13, I-DISC-07)", m)
	}
	if g := strs("grant_types_supported"); !slices.Contains(g, "authorization_code") || !slices.Contains(g, "client_credentials") {
		t.Errorf("grant_types_supported = %v (I-DISC-06, backend services)", g)
	}
	if a := strs("token_endpoint_auth_signing_alg_values_supported"); !slices.Contains(a, "RS384") || !slices.Contains(a, "ES384") {
		t.Errorf("token_endpoint_auth_signing_alg_values_supported = %v (R-ASYM-02)", a)
	}
	for k, path := range map[string]string{"introspection_endpoint": "/introspect", "revocation_endpoint": "/revoke",
		"smart_app_state_endpoint": "/appstate"} {
		if c[k] != e.base+path {
			t.Errorf("%s = %v, want %s", k, c[k], e.base+path)
		}
	}
	caps := strs("capabilities")
	for _, want := range []string{"launch-standalone", "client-public", "client-confidential-symmetric",
		"client-confidential-asymmetric", "context-standalone-patient", "permission-patient", "sso-openid-connect",
		"launch-ehr", "context-ehr-patient", "context-ehr-encounter", "context-banner", "context-style", "smart-app-state"} {
		if !slices.Contains(caps, want) {
			t.Errorf("capabilities lack %s", want)
		}
	}
	for _, notYet := range []string{"context-standalone-encounter"} {
		if slices.Contains(caps, notYet) {
			t.Errorf("capabilities claim %s, which this server does not support yet", notYet)
		}
	}
}
