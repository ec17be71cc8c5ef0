package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/smartlaunch/smartlaunch/internal/demo"
)

// TestAppStateEndToEnd: an app keeps state about its patient at the
// advertised smart_app_state_endpoint with its own token: create, search,
// update with If-Match, delete (R-STATE-06..28, R-STATE-31).
func TestAppStateEndToEnd(t *testing.T) {
	e := newEnv(t)
	conf := e.oauthConfig("test-public", "launch/patient", "patient/Basic.cuds")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, body, ifMatch string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest(method, e.base+"/appstate"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/fhir+json")
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		return e.doJSONOrEmpty(req)
	}
	subject := e.fhir + "/Patient/" + demo.PatientJill
	// The code system's origin is the app's own (its redirect URI): trusted by default (R-STATE-33).
	const code = "http://127.0.0.1:9|prefs"
	basic := `{"resourceType":"Basic","code":{"coding":[{"system":"http://127.0.0.1:9","code":"prefs"}]},` +
		`"subject":{"reference":"` + subject + `"},"extension":[{"url":"theme","valueString":"dark"}]}`
	resp, created := do(http.MethodPost, "/Basic", basic, "")
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("ETag") != `W/"1"` || created["id"] == nil {
		t.Fatalf("create: %d %v %v", resp.StatusCode, resp.Header.Get("ETag"), created)
	}
	id := created["id"].(string)
	resp, bundle := do(http.MethodGet, "/Basic?code="+code+"&subject="+subject, "", "")
	if resp.StatusCode != http.StatusOK || bundle["total"] != float64(1) {
		t.Fatalf("search: %d %v", resp.StatusCode, bundle)
	}
	created["extension"] = []map[string]string{{"url": "theme", "valueString": "light"}}
	b, _ := json.Marshal(created)
	if resp, _ := do(http.MethodPut, "/Basic/"+id, string(b), `W/"0"`); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("update with a stale version: %d, want 412 (R-STATE-20)", resp.StatusCode)
	}
	resp, updated := do(http.MethodPut, "/Basic/"+id, string(b), `W/"1"`)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != `W/"2"` {
		t.Fatalf("update: %d %v", resp.StatusCode, updated)
	}
	if resp, _ := do(http.MethodDelete, "/Basic/"+id, "", `W/"2"`); resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp, _ := do(http.MethodPut, "/Basic/"+id, string(b), `W/"2"`); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("update after delete: %d, want 412 (R-STATE-24)", resp.StatusCode)
	}
	// Another patient's subject is refused.
	other := strings.Replace(basic, demo.PatientJill, demo.PatientClaudie, 1)
	if resp, _ := do(http.MethodPost, "/Basic", other, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("state about another patient: %d, want 403", resp.StatusCode)
	}
	// No token: 401 with a challenge (R-STATE-31).
	req, _ := http.NewRequest(http.MethodGet, e.base+"/appstate/Basic?code="+code+"&subject:missing=true", nil)
	resp, _ = e.doJSONOrEmpty(req)
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}
