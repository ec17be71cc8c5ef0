package appstate_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// R-STATE-31: every App State request needs an access token; refused
// credentials get 401 with the challenge, a broken verifier 500.
func TestCredentials(t *testing.T) {
	e := newEnv(t, 0)
	tests := []struct {
		name, token     string
		want            int
		challenge, dpop string
	}{
		{"no token", "", 401, `Bearer realm="appstate"`, ""},
		{"bad token", "forged", 401, `Bearer realm="appstate", error="invalid_token"`, ""},
		{"DPoP nonce needed", "dpop-nonce", 401, `DPoP realm="appstate", error="use_dpop_nonce"`, "n1"},
		{"verifier failure", "broken", 500, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []response{
				e.do(t, "GET", "/Basic?"+query(appCode, patientRef), tt.token, ""),
				e.do(t, "POST", "/Basic", tt.token, basicJSON("", appCode, patientRef, "v")),
				e.do(t, "DELETE", "/Basic/x", tt.token, "", "If-Match", `W/"1"`),
			} {
				r.want(t, "request", tt.want)
				if got := r.header.Get("WWW-Authenticate"); got != tt.challenge {
					t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
				}
				if got := r.header.Get("DPoP-Nonce"); got != tt.dpop {
					t.Errorf("DPoP-Nonce = %q, want %q", got, tt.dpop)
				}
				if tt.want == 500 && bytes.Contains(r.body, []byte("verifier down")) {
					t.Errorf("internal error text sent: %s", r.body)
				}
			}
		})
	}
}

// R-STATE-05, R-STATE-08: /metadata, without a token, is a
// CapabilityStatement instantiating smart-app-state-server with Basic's
// search-type, create, update and delete.
func TestMetadata(t *testing.T) {
	e := newEnv(t, 0)
	r := e.do(t, "GET", "/metadata", "", "")
	r.want(t, "GET /metadata", http.StatusOK)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, r.body, "", "  "); err != nil {
		t.Fatalf("metadata is not JSON: %v", err)
	}
	pretty.WriteByte('\n')
	golden := filepath.Join("testdata", "metadata.json")
	if *update {
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("metadata differs from %s (run go test -update to accept):\n%s", golden, pretty.Bytes())
	}
	e.do(t, "POST", "/metadata", "", "").want(t, "POST /metadata", http.StatusMethodNotAllowed)
}

// Browser apps call the endpoint: preflights are answered without a token
// and allow If-Match.
func TestPreflight(t *testing.T) {
	e := newEnv(t, 0)
	r := e.do(t, "OPTIONS", "/Basic/x", "", "", "Origin", "https://app.example.org",
		"Access-Control-Request-Method", "PUT")
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "https://app.example.org" ||
		!bytes.Contains([]byte(r.header.Get("Access-Control-Allow-Headers")), []byte("If-Match")) {
		t.Errorf("preflight: status %d headers %v", r.status, r.header)
	}
}
